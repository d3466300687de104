# Shared set-up for bench/*.sh: a private AGENTD_DIR, the agentd binary, and
# a cleanup trap that ends everything the benchmark started, by pid.
set -eu

BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
if [ -z "${AGENTD:-}" ]; then
	AGENTD=$ROOT/build/bin/agentd
	[ -x "$AGENTD" ] || make -C "$ROOT" >&2
fi
[ -x "$AGENTD" ] || { echo "no agentd binary at $AGENTD" >&2; exit 1; }
for tool in ssh-agent ssh-add python3 flock jq; do
	command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done

unset AGENTD_SESSION SSH_AUTH_SOCK XDG_RUNTIME_DIR XDG_STATE_HOME
AGENTD_DIR=$(mktemp -d /tmp/agentd-bench.XXXXXX)
chmod 700 "$AGENTD_DIR"
export AGENTD_DIR AGENTD
WORK=$(mktemp -d /tmp/agentd-bench-work.XXXXXX)
# Run a private copy: the daemon re-executes its own binary for every session's
# tether, so a rebuild of the original during the run would break starts.
cp "$AGENTD" "$WORK/agentd"
# …with its static tether beside it, where the daemon looks for it.
[ ! -x "$(dirname "$AGENTD")/agentd-tether" ] ||
	cp "$(dirname "$AGENTD")/agentd-tether" "$WORK/agentd-tether"
AGENTD_ORIG=$AGENTD
AGENTD=$WORK/agentd
LOG=$AGENTD_DIR/audit.jsonl

daemon_pid() {
	cat "$AGENTD_DIR/run/agentd.pid" 2>/dev/null || true
}

# SIGTERM to the daemon, then wait for its pidfile lock (released at exit).
stop_daemon() {
	local pid
	pid=$(daemon_pid)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	flock -w 15 "$AGENTD_DIR/run/agentd.pid" true 2>/dev/null ||
		echo "warning: daemon $pid did not exit within 15 s" >&2
}

# Any ssh-agent (its socket is under AGENTD_DIR) or tether (it runs our copy
# of the binary) that the audit log names and that still runs.
kill_leftovers() {
	local pid n=0
	[ -f "$LOG" ] || return 0
	for pid in $(jq -r 'select(.event == "created") | .agent_pid, .tether_pid' "$LOG" 2>/dev/null); do
		if tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF -e "$AGENTD_DIR" -e "$WORK/agentd"; then
			kill -KILL "$pid" 2>/dev/null && n=$((n + 1)) || true
		fi
	done
	[ $n -eq 0 ] || echo "warning: killed $n leftover agent/tether process(es)" >&2
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_daemon
	kill_leftovers
	rm -rf "$AGENTD_DIR" "$WORK"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

machine() {
	echo "machine: nproc=$(nproc), kernel $(uname -r), $(ssh -V 2>&1)"
}

# secs CMD... -> wall seconds of one run (output to /dev/null), after a sync:
# the previous run's dirty pages are not this run's to write.
secs() {
	local t0 t1
	sync
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 </dev/null
	t1=$(date +%s%N)
	echo "scale=4; ($t1 - $t0) / 1000000000" | bc
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

mbs() { echo "scale=1; $SIZE_MB / $1" | bc; }	# seconds -> MB/s of SIZE_MB
