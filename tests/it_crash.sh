# Crashes: kill -9 of ssh-agent gives crashed/agent_killed signal 9; kill -9
# of agentd leaves no agent running (≤ 15 s) and the next start writes
# crashed/supervisor_lost for every session that was open.
. "$(dirname "$0")/lib.sh"

"$AGENTD" start --ttl 1h --label victim >/dev/null
agent=$("$AGENTD" status --json | jq -r '.[0].agent_pid')
id=$("$AGENTD" status --json | jq -r '.[0].session')
kill -KILL "$agent"
wait_event '.event == "crashed"' 10
has_event ".event == \"crashed\"" ".session == \"$id\" and .exit_reason == \"agent_killed\" and .signal == 9 and .core_dumped == false" ||
	fail "expected crashed/agent_killed signal 9: $(tail -n 1 "$LOG")"
[ ! -e "$AGENTD_DIR/run/sessions/$id" ] || fail "crashed session directory left behind"

# An agent that exits by itself (ssh-agent exits 2 on SIGTERM): agent_exited.
"$AGENTD" start --ttl 1h --label exits >/dev/null
agent=$("$AGENTD" status --json | jq -r '.[] | select(.label == "exits") | .agent_pid')
kill -TERM "$agent"
wait_event '.event == "crashed" and .exit_reason == "agent_exited"' 10
has_event '.event == "crashed" and .exit_reason == "agent_exited"' '.exit_code == 2 and .signal == null' ||
	fail "expected crashed/agent_exited exit_code 2: $(tail -n 1 "$LOG")"

# Three open sessions, then the daemon dies without a word.
for i in 1 2 3; do "$AGENTD" start --ttl 1h --label "open$i" >/dev/null; done
agents=$("$AGENTD" status --json | jq -r '.[].agent_pid')
[ "$(echo "$agents" | wc -w)" -eq 3 ] || fail "expected 3 sessions"
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
kill -KILL "$daemon"
for a in $agents; do
	wait_gone "$a" 15 || fail "ssh-agent $a outlived the killed daemon by 15 s"
done
note "all 3 agents gone after the daemon was killed"

"$AGENTD" start --ttl 1h --label after >/dev/null
[ "$(count_events '.event == "crashed" and .exit_reason == "supervisor_lost"')" -eq 3 ] ||
	fail "expected 3 crashed/supervisor_lost: $(jq -c 'select(.event == "crashed")' "$LOG")"
for id in $(jq -r 'select(.label != null and (.label | startswith("open"))) | .session' "$LOG"); do
	[ ! -e "$AGENTD_DIR/run/sessions/$id" ] || fail "directory of lost session $id left behind"
	[ "$(count_events ".session == \"$id\" and (.event == \"stopped\" or .event == \"crashed\")")" -eq 1 ] ||
		fail "session $id has not exactly one end"
done
"$AGENTD" stop --all >/dev/null
verify_chain >/dev/null
# Every created has exactly one end.
[ "$(count_events '.event == "created"')" -eq "$(count_events '.event == "stopped" or .event == "crashed"')" ] ||
	fail "created and end events do not pair up"
