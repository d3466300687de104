# Log rotation: `mv audit.jsonl …; kill -HUP` — the daemon continues in a new
# file whose first line (log_rotated) carries seq and prev on from the old
# file's last line and lists the open sessions; no event is lost; auditctl
# verifies the files alone and joined; a daemon killed after a rotation still
# ends the sessions opened before it.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"

for i in 1 2 3; do "$AGENTD" start --ttl 1h --label "r$i" >/dev/null; done
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
# A HUP with nothing moved changes nothing.
kill -HUP "$daemon"
"$AGENTD" status >/dev/null
[ "$(wc -l < "$LOG")" -eq 3 ] || fail "a HUP without a move wrote to the log"

# Rotate while starts run concurrently: no event lost across the two files.
for i in $(seq 1 20); do "$AGENTD" start --ttl 1h --label "c$i" >/dev/null & EXTRA_PIDS="$EXTRA_PIDS $!"; done
mv "$LOG" "$AGENTD_DIR/audit.1.jsonl"
kill -HUP "$daemon"
wait
EXTRA_PIDS=
wait_event '.event == "log_rotated"' 10
first=$(head -n 1 "$LOG")
echo "$first" | jq -e '.event == "log_rotated"' >/dev/null || fail "new file does not start with log_rotated: $first"
last_old=$(tail -n 1 "$AGENTD_DIR/audit.1.jsonl")
want=$(printf '%s' "$last_old" | python3 -c 'import sys,hashlib; print(hashlib.blake2b(sys.stdin.buffer.read(), digest_size=32).hexdigest())')
[ "$(echo "$first" | jq -r .prev)" = "$want" ] || fail "log_rotated.prev is not the old file's head hash"
[ "$(echo "$first" | jq .seq)" -eq $(( $(echo "$last_old" | jq .seq) + 1 )) ] || fail "seq does not continue"
created=$(cat "$AGENTD_DIR/audit.1.jsonl" "$LOG" | jq -c 'select(.event == "created")' | wc -l)
[ "$created" -eq 23 ] || fail "expected 23 created across the files, got $created"
opened_before=$(jq -c 'select(.event == "created")' "$AGENTD_DIR/audit.1.jsonl" | wc -l)
[ "$(echo "$first" | jq '.open_sessions | length')" -eq "$opened_before" ] ||
	fail "log_rotated does not list the $opened_before open sessions"
"$AUDITCTL" --log "$LOG" verify | grep -q '^ok: ' || fail "new file alone does not verify"
"$AUDITCTL" verify "$AGENTD_DIR/audit.1.jsonl" "$LOG" | grep -q 'across the files' || fail "joined files do not verify"
# The set is joined by seq, whatever order the names come in (a glob sorts
# audit.jsonl before audit.jsonl.1): DESIGN §11.
"$AUDITCTL" verify "$LOG" "$AGENTD_DIR/audit.1.jsonl" | grep -q 'across the files' || fail "files given newest first not joined"
"$AUDITCTL" --log "$AGENTD_DIR/audit*.jsonl" verify | grep -q 'across the files' || fail "a glob of the set does not verify"
[ "$("$AUDITCTL" --log "$AGENTD_DIR/audit*.jsonl" --list --json | jq 'map(.session) | unique | length')" -eq 23 ] ||
	fail "--list of the rotated set: not 23 sessions once each"

# Kill the daemon: the next start ends every session, old file's ones too.
kill -KILL "$daemon"
flock -w 10 "$AGENTD_DIR/run/agentd.pid" true
"$AGENTD" start --ttl 1h --label after >/dev/null
n=$(jq -c 'select(.event == "crashed" and .exit_reason == "supervisor_lost")' "$LOG" | wc -l)
[ "$n" -eq 23 ] || fail "expected 23 supervisor_lost after the rotation, got $n"
"$AGENTD" stop --all >/dev/null
"$AUDITCTL" verify "$AGENTD_DIR/audit.1.jsonl" "$LOG" >/dev/null || fail "chain broken after recovery"
