# docs/EVENTS.md documents every event agentd writes and every field a real
# run writes: the event names are read from agentd/*.c, and a run here
# produces most events (created, key_loaded, key_used, agent_locked/unlocked,
# key_removed, shell_started/ended, recording_failed, log_rotated, stopped,
# crashed agent_killed and supervisor_lost) whose fields must all be named in
# their event's section (tests/helpers/events-doc.py).
. "$(dirname "$0")/lib.sh"
root=$(cd "$TESTS/.." && pwd)

# A recorder address nothing listens on: each shell logs recording_failed.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$AGENTD" serve --recorder "127.0.0.1:$port" || fail "serve"
eval "$("$AGENTD" start --ttl 10m --label events -s)" >/dev/null
newkey k1; newkey k2
ssh-add -t 120 "$WORK/k1" 2>/dev/null || fail "ssh-add"
ssh-add "$WORK/k2" 2>/dev/null || fail "ssh-add k2"
echo msg > "$WORK/msg"
ssh-keygen -Y sign -f "$WORK/k1.pub" -n file "$WORK/msg" 2>/dev/null || fail "sign"
printf '#!/bin/sh\necho lockpw\n' > "$WORK/askpass"; chmod 700 "$WORK/askpass"
SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force ssh-add -x >/dev/null 2>&1 || fail "lock"
SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force ssh-add -X >/dev/null 2>&1 || fail "unlock"
ssh-add -d "$WORK/k1.pub" 2>/dev/null || fail "ssh-add -d"
"$AGENTD" shell -T -- sh -c 'echo hello' </dev/null >/dev/null || fail "agentd shell"
# A held signature (confirm key): approval_requested/decided, key_used caller.
"$AGENTD" add --confirm "$WORK/k2" >/dev/null 2>&1 || fail "agentd add --confirm"
ssh-keygen -Y sign -f "$WORK/k2.pub" -n file "$WORK/msg" >/dev/null 2>&1 &
signer=$!; EXTRA_PIDS="$EXTRA_PIDS $signer"
id=$("$AGENTD" approvals --wait --json | jq -r '.[0].id')
"$AGENTD" approve "$id" >/dev/null || fail "approve"
wait "$signer" || fail "approved signature"
"$AGENTD" shell -T -- sh -c 'kill -TERM $$' </dev/null >/dev/null 2>&1 || true

# Rotate, then end sessions every way that can be provoked here.
mv "$LOG" "$WORK/audit.jsonl.1"
kill -HUP "$(cat "$AGENTD_DIR/run/agentd.pid")"
wait_event '.event == "log_rotated"' 10
"$AGENTD" stop >/dev/null
"$AGENTD" start --ttl 10m --json > "$WORK/s2"
kill -KILL "$(jq .agent_pid "$WORK/s2")"
wait_event '.event == "crashed" and .exit_reason == "agent_killed"' 10
"$AGENTD" start --ttl 10m >/dev/null
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
kill -KILL "$daemon"
flock -w 10 "$AGENTD_DIR/run/agentd.pid" true
"$AGENTD" start --ttl 10m >/dev/null
wait_event '.event == "crashed" and .exit_reason == "supervisor_lost"' 10
"$AGENTD" stop --all >/dev/null

python3 "$TESTS/helpers/events-doc.py" "$root" "$WORK/audit.jsonl.1" "$LOG" 2>"$WORK/seen" ||
	fail "docs/EVENTS.md is missing what the code writes (above)"
n=$(sed 's/^events seen: //' "$WORK/seen" | wc -w)
[ "$n" -ge 12 ] || fail "the run produced only $n kinds of events: $(cat "$WORK/seen")"
note "$(cat "$WORK/seen")"
