# A real sshd on 127.0.0.1: ssh through the relay signs with session-bind, so
# key_used names the destination: dest_hostkey is that sshd's host key.
. "$(dirname "$0")/lib.sh"

command -v /usr/sbin/sshd >/dev/null || { note "no sshd: skipped"; exit 0; }
mkdir -p /run/sshd 2>/dev/null || true
S=$WORK/sshd
mkdir -m 700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host"
newkey user ed25519
cp "$WORK/user.pub" "$S/authorized_keys"
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
AllowUsers $(id -un)
CONF
/usr/sbin/sshd -D -e -f "$S/config" 2>"$S/log" &
sshd=$!
EXTRA_PIDS="$EXTRA_PIDS $sshd"
for i in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	alive "$sshd" || fail "sshd did not start: $(cat "$S/log")"
	sleep 0.05
done

eval "$("$AGENTD" start --ttl 5m)" >/dev/null
ssh-add "$WORK/user" 2>/dev/null || fail "ssh-add"
out=$(ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o BatchMode=yes -o IdentitiesOnly=no -p "$port" "$(id -un)@127.0.0.1" echo via-agent 2>"$WORK/ssh.err") ||
	fail "ssh via the relay failed: $(cat "$WORK/ssh.err") / $(tail -5 "$S/log")"
[ "$out" = via-agent ] || fail "unexpected ssh output: $out"
hostfp=$(ssh-keygen -lf "$S/host.pub" | awk '{ print $2 }')
userfp=$(ssh-keygen -lf "$WORK/user.pub" | awk '{ print $2 }')
has_event ".event == \"key_used\" and .fingerprint == \"$userfp\"" ".ok == true and .dest_hostkey == \"$hostfp\" and .forwarded == false" ||
	fail "key_used lacks the destination host key $hostfp: $(jq -c 'select(.event == "key_used")' "$LOG")"
kill "$sshd"; wait "$sshd" 2>/dev/null || true
verify_chain >/dev/null
