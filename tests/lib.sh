# Shared helpers for the integration tests: sourced by tests/it_*.sh.
# Each test runs the real agentd, ssh-agent, ssh-add and ssh-keygen under a
# private AGENTD_DIR and cleans up every process it started, by pid.
set -eu

: "${AGENTD:?AGENTD must name the agentd binary}"
TESTS=$(cd "$(dirname "$0")" && pwd)
AGENTD_DIR=$(mktemp -d /tmp/agentd-it.XXXXXX)
export AGENTD_DIR
unset AGENTD_SESSION SSH_AUTH_SOCK XDG_RUNTIME_DIR XDG_STATE_HOME
LOG=$AGENTD_DIR/audit.jsonl
WORK=$(mktemp -d /tmp/agentd-it-work.XXXXXX)	# keys live outside AGENTD_DIR
EXTRA_PIDS=

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() {
	echo "  $*"
}

# Stops the daemon (SIGTERM) and waits for it: its pidfile lock is released
# when it exits, so flock returns then (no kill -0 on a zombie).
stop_daemon() {
	local pid
	pid=$(cat "$AGENTD_DIR/run/agentd.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	flock -w 20 "$AGENTD_DIR/run/agentd.pid" true 2>/dev/null || true
}

# Every ssh-agent or tether the log says we started and that still runs is
# killed by pid, once its start time proves it is that very process (a
# leftover here is also a failure of the test that left it).
kill_our_agents() {
	local pid start
	[ -f "$LOG" ] || return 0
	jq -r 'select(.event == "created") | "\(.agent_pid) \(.agent_start)", "\(.tether_pid) \(.tether_start)"' \
		"$LOG" 2>/dev/null | while read -r pid start; do
		[ "$(awk '{ print $22 }' "/proc/$pid/stat" 2>/dev/null)" = "$start" ] || continue
		alive "$pid" || continue
		echo "leftover process $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" >&2
		kill -KILL "$pid" 2>/dev/null || true
	done
}

cleanup() {
	local rc=$?
	stop_daemon
	kill_our_agents
	# The daemon's stderr is agentd.log: sanitizer reports land there.
	if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$AGENTD_DIR/agentd.log" 2>/dev/null; then
		echo "FAIL: sanitizer report from the daemon:" >&2
		cat "$AGENTD_DIR/agentd.log" >&2
		rc=1
	fi
	for p in $EXTRA_PIDS; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$AGENTD_DIR" "$WORK"
	exit $rc
}
trap cleanup EXIT

# Waits until a log line matches the jq filter (a boolean), up to $2 s.
wait_event() {
	local filter=$1 secs=${2:-10} i=0
	until [ -n "$(jq -c "select($filter)" "$LOG" 2>/dev/null | head -n 1)" ]; do
		i=$((i + 1))
		[ $i -le $((secs * 20)) ] || fail "no event matching '$filter' within ${secs}s"
		sleep 0.05
	done
}

# Number of log lines matching a jq filter.
count_events() {
	jq -c "select($1)" "$LOG" | wc -l
}

# The chain: seq 1..n without gaps, prev = BLAKE2b-256 of the previous line.
verify_chain() {
	python3 "$TESTS/verify_chain.py" "${1:-$LOG}" || fail "audit chain broken"
}

# True while pid runs and is not a zombie.
alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Waits up to $2 s for pid to be gone. Not our child: poll its /proc state.
wait_gone() {
	local pid=$1 secs=${2:-15} i=0
	while alive "$pid"; do
		i=$((i + 1))
		[ $i -le $((secs * 10)) ] || return 1
		sleep 0.1
	done
}

newkey() {	# newkey NAME [type] -> $WORK/NAME
	ssh-keygen -q -t "${2:-ed25519}" -N '' -C "it-$1" -f "$WORK/$1"
}

# True when some log line matches the jq filter SEL and every such line
# satisfies COND (jq 1.6's -e looks only at the last input, so slurp).
has_event() {
	jq -se "[.[] | select($1)] | length > 0 and all(.[]; $2)" "$LOG" >/dev/null
}

# Ids of the agents the daemon started ahead for the next start (`spares` in
# the raw status reply): not sessions, but a directory and processes of ours.
spare_ids() {
	python3 - "$AGENTD_DIR/run/control.sock" <<'PY' 2>/dev/null || true
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
req = b'{"cmd":"status"}'; s.sendall(struct.pack(">I", len(req)) + req)
d = b""
while True:
    b = s.recv(65536)
    if not b: break
    d += b
for x in json.loads(d[4:]).get("spares", []): print(x["session"])
PY
}

# start_sshd NAME [LINE...]: a real sshd on 127.0.0.1 for the tests that log
# in: its files in S=$WORK/NAME (host key S/host), an empty
# S/authorized_keys for the test to fill, each LINE one more sshd_config
# line. Sets S, port, sshd (its pid, killed by cleanup) and SSH_OPTS (what
# ssh needs to reach it). Returns 1 when no sshd is installed.
start_sshd() {
	local name=$1 line i
	shift
	command -v /usr/sbin/sshd >/dev/null || return 1
	mkdir -p /run/sshd 2>/dev/null || true
	S=$WORK/$name
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
AllowUsers $(id -un)
CONF
	for line in "$@"; do echo "$line" >> "$S/config"; done
	/usr/sbin/sshd -D -e -f "$S/config" 2>"$S/log" &
	sshd=$!
	EXTRA_PIDS="$EXTRA_PIDS $sshd"
	SSH_OPTS="-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=no -p $port"
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		alive "$sshd" || fail "sshd did not start: $(cat "$S/log")"
		sleep 0.05
	done
	fail "sshd did not listen on 127.0.0.1:$port: $(cat "$S/log")"
}
