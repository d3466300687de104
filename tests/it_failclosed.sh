# Fail closed: when `created` cannot be made durable (the log hits a file size
# limit), `agentd start` is refused with a clear error, no agent or directory
# is left, the log stays valid, and starts work again once space returns.
. "$(dirname "$0")/lib.sh"

command -v prlimit >/dev/null || { note "no prlimit: skipped"; exit 0; }
# The daemon inherits the limit from the start that spawns it (1 KiB blocks).
(ulimit -S -f 2; "$AGENTD" start --ttl 10m >/dev/null)
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
ok=1 rc=0
for i in 1 2 3 4 5 6; do
	err=$("$AGENTD" start --ttl 10m 2>&1 >/dev/null) || { rc=$?; break; }
	ok=$((ok + 1))
done
[ $rc -eq 1 ] || fail "start never failed with the log at its size limit"
echo "$err" | grep -q "session not started: audit log" || fail "unclear error: $err"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "error is not one line: $err"
note "after $ok sessions: $err"
[ "$(count_events '.event == "created"')" -eq $ok ] || fail "log does not hold exactly the $ok started sessions"
spares=$(spare_ids)
[ "$(ls "$AGENTD_DIR/run/sessions" | grep -vxF "${spares:-none}" | wc -l)" -eq $ok ] ||
	fail "a refused session left its directory"
[ "$("$AGENTD" status --json | jq length)" -eq $ok ] || fail "daemon lists a refused session"
verify_chain >/dev/null
# Every agent still running belongs to a logged session.
agents=$(pgrep -af "^ssh-agent -a $AGENTD_DIR/" | grep -vF -e "${spares:-none}" | wc -l)
[ "$agents" -eq $ok ] || fail "$agents ssh-agents run for $ok logged sessions"

# A session that ends while the log is full: the client hears so, the
# session is gone, and its end is owed, not lost.
# Full for any line, whatever room the refused created left (line lengths
# vary with the fields and paths): the limit is the log's size now (bytes).
prlimit --pid "$daemon" --fsize="$(stat -c %s "$LOG"):"
victim=$(jq -r 'select(.event == "created") | .session' "$LOG" | head -n 1)
vpid=$(jq -r "select(.event == \"created\" and .session == \"$victim\") | .agent_pid" "$LOG")
rc=0; err=$("$AGENTD" stop --session "$victim" 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "audit log is full" || fail "stop on a full log: exit $rc: $err"
wait_gone "$vpid" 5 || fail "the stopped session's agent lives on"
[ ! -e "$AGENTD_DIR/run/sessions/$victim" ] || fail "the stopped session's directory is left"
[ "$(count_events ".event == \"stopped\" and .session == \"$victim\"")" -eq 0 ] || fail "stopped written on a full log?"

prlimit --pid "$daemon" --fsize=unlimited
eval "$("$AGENTD" start --ttl 10m)" >/dev/null || fail "start after space returned"
ssh-add -l >/dev/null 2>&1 || [ $? -eq 1 ] || fail "new session's agent does not answer"
# Space is back: the owed end came first, before the new session's created.
has_event ".event == \"stopped\" and .session == \"$victim\"" '.exit_reason == "requested"' ||
	fail "the owed stopped event was not written once space returned"
st=$(jq -r "select(.event == \"stopped\" and .session == \"$victim\") | .seq" "$LOG")
cr=$(jq -r 'select(.event == "created") | .seq' "$LOG" | tail -n 1)
[ "$st" -lt "$cr" ] || fail "the owed end came after the new start"
"$AGENTD" stop --all >/dev/null
[ "$(count_events '.event == "created"')" -eq "$(count_events '.event == "stopped"')" ] || fail "unpaired events"
verify_chain >/dev/null
