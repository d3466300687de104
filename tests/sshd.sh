# Sourced by tests that log in through a real sshd on 127.0.0.1 (after
# lib.sh). start_sshd NAME starts one on a free port with its own host key
# ($S/host) and authorized keys ($S/authorized_keys, the test fills it) in
# $S=$WORK/NAME; $SSH_OPTS then reach it. The first call is made here
# (NAME sshd). Skips the test (exit 0) where no sshd is installed.
command -v /usr/sbin/sshd >/dev/null || { note "no sshd: skipped"; exit 0; }
mkdir -p /run/sshd 2>/dev/null || true

start_sshd() {	# start_sshd NAME
	local sshd i
	S=$WORK/$1
	mkdir -m 700 "$S"
	ssh-keygen -q -t ed25519 -N '' -f "$S/host"
	: >"$S/authorized_keys"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat > "$S/config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $S/host
PidFile $S/pid
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowAgentForwarding yes
AllowUsers $(id -un)
LoginGraceTime 60
CONF
	/usr/sbin/sshd -D -e -f "$S/config" 2>"$S/log" &
	sshd=$!
	EXTRA_PIDS="$EXTRA_PIDS $sshd"
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		alive "$sshd" || fail "sshd did not start: $(cat "$S/log")"
		sleep 0.05
	done
	SSH_OPTS="-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=no -p $port"
}
start_sshd sshd
