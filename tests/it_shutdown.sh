# SIGTERM to the daemon: every session stops with supervisor_shutdown, agents
# are gone, directories removed, control socket and pidfile removed.
. "$(dirname "$0")/lib.sh"

for i in 1 2 3 4; do "$AGENTD" start --ttl 1h >/dev/null; done
agents=$("$AGENTD" status --json | jq -r '.[].agent_pid')
stop_daemon
[ "$(count_events '.event == "stopped" and .exit_reason == "supervisor_shutdown"')" -eq 4 ] ||
	fail "expected 4 stopped/supervisor_shutdown"
for a in $agents; do wait_gone "$a" 5 || fail "agent $a survived shutdown"; done
[ -z "$(ls "$AGENTD_DIR/run/sessions")" ] || fail "session directories left"
[ ! -e "$AGENTD_DIR/run/control.sock" ] || fail "control.sock left"
[ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "agentd.pid left"
# A second daemon while one runs is refused.
"$AGENTD" start >/dev/null
rc=0; err=$("$AGENTD" serve 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "already runs" || fail "second daemon: exit $rc: $err"
verify_chain >/dev/null
