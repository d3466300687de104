# Approvals (DESIGN §8): a key added with ssh-add -c, used by a real ssh
# login to the local sshd. The login waits until `agentd approve` (then it
# succeeds), fails with "agent refused operation" after `agentd deny` or after
# the approval timeout; each request has one approval_requested and exactly
# one approval_decided, before the key_used that follows, which names its
# caller. Today (before approvals) every use of a confirm key failed at once.
. "$(dirname "$0")/lib.sh"
. "$TESTS/sshd.sh"

"$AGENTD" serve --approval-timeout 3s
eval "$("$AGENTD" start --ttl 5m)" >/dev/null
newkey user ed25519
cp "$WORK/user.pub" "$S/authorized_keys"
ssh-add -c "$WORK/user" 2>/dev/null || fail "ssh-add -c"
userfp=$(ssh-keygen -lf "$WORK/user.pub" | awk '{ print $2 }')
hostfp=$(ssh-keygen -lf "$S/host.pub" | awk '{ print $2 }')
has_event '.event == "key_loaded"' '.confirm == true' || fail "key_loaded confirm"

# Starts a login in the background; its status lands in $WORK/ssh.N.rc.
login() {	# login N
	# shellcheck disable=SC2086
	(ssh $SSH_OPTS "$(id -un)@127.0.0.1" echo "login-$1" >"$WORK/ssh.$1.out" 2>"$WORK/ssh.$1.err"
	 echo $? >"$WORK/ssh.$1.rc") &
	EXTRA_PIDS="$EXTRA_PIDS $!"
	LOGIN_PID=$!
}
held_id() {	# the id of the one held request
	"$AGENTD" approvals --wait --json | jq -r '.[0].id'
}

# 1. approve: the login waited, then succeeds.
login 1
id=$(held_id)
[ -n "$id" ] && [ "$id" != null ] || fail "no held request"
"$AGENTD" approvals | grep -q "^$id session $AGENTD_SESSION sign key $userfp dest $hostfp caller ssh\[" ||
	fail "approvals listing: $("$AGENTD" approvals)"
[ ! -e "$WORK/ssh.1.rc" ] || fail "login did not wait: $(cat "$WORK/ssh.1.err")"
"$AGENTD" approve "$id" | grep -qx "approved $id" || fail "approve output"
wait "$LOGIN_PID" || true
[ "$(cat "$WORK/ssh.1.rc")" = 0 ] && [ "$(cat "$WORK/ssh.1.out")" = login-1 ] ||
	fail "approved login failed: $(cat "$WORK/ssh.1.err")"
has_event ".event == \"approval_requested\" and .request == \"$id\"" \
	".kind == \"sign\" and .fingerprint == \"$userfp\" and .dest_hostkey == \"$hostfp\" and .caller.comm == \"ssh\" and (.caller.exe | endswith(\"/ssh\")) and (.hops | length) == 1" ||
	fail "approval_requested: $(jq -c 'select(.event == "approval_requested")' "$LOG")"
has_event ".event == \"approval_decided\" and .request == \"$id\"" \
	".decision == \"approved\" and .by == \"user:$(id -un)\" and .for_s == 0" ||
	fail "approval_decided: $(jq -c 'select(.event == "approval_decided")' "$LOG")"
# In order: requested, decided, then the signature's key_used (ok, caller).
order=$(jq -r "select((.event == \"approval_requested\" or .event == \"approval_decided\") and .request == \"$id\" or (.event == \"key_used\")) | .event" "$LOG" | tr '\n' ' ')
[ "$order" = "approval_requested approval_decided key_used " ] || fail "order: $order"
has_event '.event == "key_used"' '.ok == true and .caller.comm == "ssh" and (.caller.ancestry | type) == "array" and .caller.pid == .client_pid' ||
	fail "key_used caller: $(jq -c 'select(.event == "key_used")' "$LOG")"

# 2. deny: the login fails with the agent's refusal.
login 2
id=$(held_id)
"$AGENTD" deny "$id" | grep -qx "denied $id" || fail "deny output"
wait "$LOGIN_PID" || true
[ "$(cat "$WORK/ssh.2.rc")" != 0 ] || fail "denied login succeeded"
grep -q "agent refused operation" "$WORK/ssh.2.err" || fail "denied login: $(cat "$WORK/ssh.2.err")"
has_event ".event == \"approval_decided\" and .request == \"$id\"" '.decision == "denied"' || fail "denied event"
has_event ".event == \"key_used\" and .refused == \"denied\"" '.ok == false' || fail "refused key_used"
"$AGENTD" approve "$id" 2>/dev/null && fail "approving a decided request succeeded"

# 3. silence: denied once the 3 s timeout passes.
login 3
id=$(held_id)
wait "$LOGIN_PID" || true
[ "$(cat "$WORK/ssh.3.rc")" != 0 ] || fail "unanswered login succeeded"
grep -q "agent refused operation" "$WORK/ssh.3.err" || fail "expired login: $(cat "$WORK/ssh.3.err")"
has_event ".event == \"approval_decided\" and .request == \"$id\"" '.decision == "expired" and .by == "timeout"' ||
	fail "expired event: $(jq -c 'select(.event == "approval_decided")' "$LOG")"

# 4. approve --for 10m: the same key, destination and caller executable are
# approved again without asking; another executable (a copy of ssh) asks.
login 4
id=$(held_id)
"$AGENTD" approve --for 10m "$id" >/dev/null || fail "approve --for"
wait "$LOGIN_PID" || true
[ "$(cat "$WORK/ssh.4.rc")" = 0 ] || fail "approved login 4 failed: $(cat "$WORK/ssh.4.err")"
has_event ".event == \"approval_decided\" and .request == \"$id\"" '.decision == "approved" and .for_s == 600' || fail "for_s"
login 5
wait "$LOGIN_PID" || true	# no one approves: it must not wait
[ "$(cat "$WORK/ssh.5.rc")" = 0 ] || fail "remembered login failed: $(cat "$WORK/ssh.5.err")"
has_event '.event == "approval_decided" and .by == "remembered"' '.decision == "approved"' ||
	fail "no remembered decision: $(jq -c 'select(.event == "approval_decided")' "$LOG")"
cp "$(command -v ssh)" "$WORK/ssh-copy"
# shellcheck disable=SC2086
("$WORK/ssh-copy" $SSH_OPTS "$(id -un)@127.0.0.1" echo copy >/dev/null 2>&1; echo $? >"$WORK/copy.rc") &
EXTRA_PIDS="$EXTRA_PIDS $!"; copy=$!
id=$(held_id)
"$AGENTD" approvals --json | jq -e ".[0].caller.exe == \"$WORK/ssh-copy\"" >/dev/null || fail "other caller: $("$AGENTD" approvals --json)"
"$AGENTD" deny "$id" >/dev/null
wait "$copy" || true
[ "$(cat "$WORK/copy.rc")" != 0 ] || fail "a different caller used the remembered approval"

# Exactly one approval_decided per request.
[ "$(jq -r 'select(.event == "approval_requested") | .request' "$LOG" | sort | uniq | wc -l)" -eq 6 ] || fail "6 requests"
[ "$(jq -r 'select(.event == "approval_decided") | .request' "$LOG" | sort | uniq -d | wc -l)" -eq 0 ] || fail "a request decided twice"
[ "$(count_events '.event == "approval_decided"')" -eq 6 ] || fail "6 decisions"
verify_chain >/dev/null
