# A session with a 5 s TTL: the agent answers, then at 5 s it is gone, its
# directory removed, and the log holds created then stopped/ttl_expired.
. "$(dirname "$0")/lib.sh"

out=$("$AGENTD" start --ttl 5s --label it-ttl)
eval "$out" >/dev/null
[ -S "$SSH_AUTH_SOCK" ] || fail "no socket at $SSH_AUTH_SOCK"
rc=0; ssh-add -l >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "ssh-add -l exit $rc, expected 1 (empty agent answering)"
sdir=$AGENTD_DIR/run/sessions/$AGENTD_SESSION
[ "$(stat -c %a "$sdir")" = 700 ] || fail "session dir mode $(stat -c %a "$sdir")"
[ "$(stat -c %a "$sdir/upstream")" = 700 ] || fail "upstream dir mode"
[ "$(stat -c %a "$SSH_AUTH_SOCK")" = 600 ] || fail "socket mode"
agent=$(jq -r "select(.event == \"created\") | .agent_pid" "$LOG")
alive "$agent" || fail "agent $agent not running"
has_event ".event == \"created\"" ".ttl_s == 5 and .key_ttl_s == 5 and .label == \"it-ttl\"" ||
	fail "created event fields"

wait_event '.event == "stopped"' 10
has_event '.event == "stopped"' '.exit_reason == "ttl_expired" and .duration_s == 5' ||
	fail "expected stopped/ttl_expired after 5 s: $(tail -n 1 "$LOG")"
wait_gone "$agent" 2 || fail "agent $agent still runs after the TTL"
[ ! -e "$sdir" ] || fail "session directory $sdir left behind"
rc=0; ssh-add -l >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "agent still answers after the TTL (ssh-add exit $rc)"
[ "$(jq -r .event "$LOG" | tr '\n' ' ')" = "created stopped " ] || fail "events: $(jq -r .event "$LOG")"
verify_chain >/dev/null
