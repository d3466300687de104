# A stopped helper does not keep an agent alive (DESIGN §3: no agent outlives
# its daemon by more than 15 s, whatever state its helper is in). Stop the
# tether, the agent, or both with SIGSTOP, SIGKILL the daemon, then wait on
# the agent's pidfd for at most 15 s. The next start writes
# crashed/supervisor_lost for each of them.
. "$(dirname "$0")/lib.sh"

# Waits on a pidfd (not our child, not polled): exit 0 once pid has ended.
wait_exit_pidfd() {
	python3 - "$1" "$2" <<'PY'
import os, select, sys, time
t0 = time.monotonic()
try:
    fd = os.pidfd_open(int(sys.argv[1]))
except ProcessLookupError:
    print("0.00")
    sys.exit(0)
r, _, _ = select.select([fd], [], [], float(sys.argv[2]))
print("%.2f" % (time.monotonic() - t0))
sys.exit(0 if r else 1)
PY
}

for what in tether agent both; do
	"$AGENTD" start --ttl 1h --label "stop-$what" >/dev/null
	id=$("$AGENTD" status --json | jq -r ".[] | select(.label == \"stop-$what\") | .session")
	agent=$(jq -r "select(.event == \"created\" and .session == \"$id\") | .agent_pid" "$LOG")
	tether=$(jq -r "select(.event == \"created\" and .session == \"$id\") | .tether_pid" "$LOG")
	[ -n "$agent" ] && [ -n "$tether" ] || fail "no pids for $id"
	case $what in
	tether) kill -STOP "$tether" ;;
	agent) kill -STOP "$agent" ;;
	both) kill -STOP "$agent" "$tether" ;;
	esac
	daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
	kill -KILL "$daemon"
	flock -w 10 "$AGENTD_DIR/run/agentd.pid" true || fail "daemon $daemon not dead"
	ta=$(wait_exit_pidfd "$agent" 15) ||
		fail "ssh-agent $agent ($what stopped) outlived the killed daemon by 15 s"
	tt=$(wait_exit_pidfd "$tether" 15) ||
		fail "tether $tether ($what stopped) outlived the killed daemon by 15 s"
	note "$what stopped: agent gone ${ta} s, tether ${tt} s after the daemon's death"
	# The next start finds the session lost.
	"$AGENTD" start --ttl 1h --label "after-$what" >/dev/null
	has_event ".event == \"crashed\" and .session == \"$id\"" '.exit_reason == "supervisor_lost"' ||
		fail "expected crashed/supervisor_lost for $id"
	[ ! -e "$AGENTD_DIR/run/sessions/$id" ] || fail "directory of lost session $id left behind"
done
"$AGENTD" stop --all >/dev/null
verify_chain >/dev/null
