#!/usr/bin/env bash
# The SSH egress gate against a direct connection, in one run (issue 14):
#   1. MB (default 1024) pushed to a TCP sink on 127.0.0.1, RUNS (default 5)
#      times each way, alternating; target gate >= 0.9x direct.
#   2. scp of SCP_MB (default 200) to a real sshd on 127.0.0.1, directly and
#      through the gate (ssh -F "$AGENTD_SSH_CONFIG"); target >= 0.95x.
#   3. connect overhead: median time to the first byte over CONNS (default
#      200) connections; target <= 1 ms (it includes the fsync'ed
#      egress_opened).
. "$(dirname "$0")/common.sh"

MB=${MB:-1024}
RUNS=${RUNS:-5}
SCP_MB=${SCP_MB:-200}
CONNS=${CONNS:-200}
machine
PIDS=
trap 'for p in $PIDS; do kill -KILL "$p" 2>/dev/null || true; done; cleanup' EXIT

python3 "$BENCH/gate-tcp.py" sink "$WORK/sinkport" & PIDS="$PIDS $!"
for i in $(seq 100); do [ -s "$WORK/sinkport" ] && break; sleep 0.05; done
sink=$(cat "$WORK/sinkport")

mkdir -p /run/sshd 2>/dev/null || true
S=$WORK/sshd
mkdir -m 700 "$S"
ssh-keygen -q -t ed25519 -N '' -f "$S/host"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/user"
cp "$WORK/user.pub" "$S/authorized_keys"
sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$S/config" <<CONF
Port $sport
ListenAddress 127.0.0.1
HostKey $S/host
PidFile $S/pid
AuthorizedKeysFile $S/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
Subsystem sftp internal-sftp
CONF
/usr/sbin/sshd -D -e -f "$S/config" 2>"$S/log" & PIDS="$PIDS $!"
for i in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && break; sleep 0.05; done
echo "[127.0.0.1]:$sport $(cat "$S/host.pub")" > "$WORK/known_hosts"

eval "$("$AGENTD" start --ttl 2h --label bench-gate --ssh-egress "sink=127.0.0.1:$sink" \
	--ssh-egress "sshd=127.0.0.1:$sport")" >/dev/null
ssh-add -q "$WORK/user" 2>/dev/null
gport() { awk -v n="$1" '$1 == "Host" { h = $2 } $1 == "Port" && h == n { print $2 }' "$AGENTD_SSH_CONFIG"; }

echo "== TCP: $MB MiB to a sink, $RUNS runs each"
python3 "$BENCH/gate-tcp.py" "$sink" "$(gport sink)" "$MB" "$RUNS" "$CONNS"

echo "== scp: $SCP_MB MB, $RUNS runs each"
head -c $((SCP_MB * 1000000)) /dev/urandom > "$WORK/blob"
opts=(-q -o UserKnownHostsFile="$WORK/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes)
: > "$WORK/r"
for i in $(seq "$RUNS"); do
	td=$(secs scp "${opts[@]}" -P "$sport" "$WORK/blob" "127.0.0.1:$WORK/out.d")
	scp "${opts[@]}" -F "$AGENTD_SSH_CONFIG" "$WORK/blob" "sshd:$WORK/out.g" || { echo "scp through the gate failed" >&2; exit 1; }
	tg=$(secs scp "${opts[@]}" -F "$AGENTD_SSH_CONFIG" "$WORK/blob" "sshd:$WORK/out.g")
	cmp -s "$WORK/blob" "$WORK/out.g" || { echo "scp through the gate changed the file" >&2; exit 1; }
	r=$(echo "$td / $tg" | bc -l)
	echo "$r" >> "$WORK/r"
	printf '%3d  direct %.3f s  gate %.3f s  ratio %.3f\n' "$i" "$td" "$tg" "$r"
done
printf 'median ratio gate/direct: %.3f\n' "$(sort -g "$WORK/r" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
