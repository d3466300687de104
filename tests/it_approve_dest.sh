# Destination policy (DESIGN §8) with real ssh and two sshd on 127.0.0.1,
# each with its own host key. The daemon's owner's ~/.ssh/known_hosts names
# the first one allowed.test in a hashed entry (as Debian writes them):
# start --allow-dest allowed.test lets a login to it sign, and refuses the
# other host's signature without asking (an --approve sign session: no
# approval_requested), logged key_used ok:false refused:"dest"; the request
# waiting for approval lists dest_names from known_hosts. --deny-forwarded
# refuses the inner login of ssh -A two hops, not the outer one.
. "$(dirname "$0")/lib.sh"
. "$TESTS/sshd.sh"
A=$S A_OPTS=$SSH_OPTS
start_sshd other "AllowAgentForwarding yes" "LoginGraceTime 60"
B=$S B_OPTS=$SSH_OPTS
newkey user ed25519
cp "$WORK/user.pub" "$A/authorized_keys"
cp "$WORK/user.pub" "$B/authorized_keys"
afp=$(ssh-keygen -lf "$A/host.pub" | awk '{ print $2 }')
bfp=$(ssh-keygen -lf "$B/host.pub" | awk '{ print $2 }')

# The daemon's home: a known_hosts with allowed.test hashed, plus a plain line.
H=$WORK/home
mkdir -p "$H/.ssh"
echo "allowed.test $(cut -d' ' -f1,2 "$A/host.pub")" > "$H/.ssh/known_hosts"
echo "plain-a.test,10.9.9.9 $(cut -d' ' -f1,2 "$A/host.pub")" > "$WORK/plain"
ssh-keygen -q -H -f "$H/.ssh/known_hosts" 2>/dev/null
rm -f "$H/.ssh/known_hosts.old"
grep -q '^|1|' "$H/.ssh/known_hosts" || fail "not hashed"
cat "$WORK/plain" >> "$H/.ssh/known_hosts"
HOME=$H "$AGENTD" serve --approval-timeout 30s || fail "serve"
# A pattern that cannot be one: refused, no session.
rc=0; err=$("$AGENTD" start --allow-dest 'a,b' 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "allow_dest: a,b: " || fail "bad pattern: exit $rc: $err"
[ "$(count_events '.event == "created"')" -eq 0 ] || fail "a session started with a bad pattern"

eval "$("$AGENTD" start --ttl 5m --approve sign --allow-dest allowed.test)" >/dev/null
ssh-add "$WORK/user" 2>/dev/null || fail "ssh-add"
user=$(id -un)
# The allowed host: held for approval (listing its known_hosts names), then signs.
# shellcheck disable=SC2086
(ssh $A_OPTS "$user@127.0.0.1" echo a >"$WORK/a.out" 2>"$WORK/a.err"; echo $? >"$WORK/a.rc") &
EXTRA_PIDS="$EXTRA_PIDS $!"; a=$!
"$AGENTD" approvals --wait --json > "$WORK/list"
jq -e ".[0].dest_hostkey == \"$afp\" and (.[0].dest_names | sort) == [\"10.9.9.9\", \"allowed.test\", \"plain-a.test\"]" "$WORK/list" >/dev/null ||
	fail "listing: $(cat "$WORK/list")"
"$AGENTD" approve "$(jq -r '.[0].id' "$WORK/list")" >/dev/null
wait "$a" || true
[ "$(cat "$WORK/a.rc")" = 0 ] || fail "allowed host: $(cat "$WORK/a.err")"
# The other host: refused at once, nobody asked.
# shellcheck disable=SC2086
timeout 20 ssh $B_OPTS "$user@127.0.0.1" echo b >/dev/null 2>"$WORK/b.err" && fail "other host signed"
[ "$(count_events '.event == "approval_requested"')" -eq 1 ] || fail "the refused one was asked for"
has_event ".event == \"key_used\" and .dest_hostkey == \"$bfp\"" '.ok == false and .refused == "dest"' ||
	fail "refusal: $(jq -c 'select(.event == "key_used")' "$LOG")"
# A local use (no session-bind) has no destination: refused too.
echo m > "$WORK/m"
ssh-keygen -Y sign -f "$WORK/user.pub" -n file "$WORK/m" >/dev/null 2>&1 && fail "local sign allowed"
has_event '.event == "key_used" and .dest_hostkey == null' '.refused == "dest"' || fail "local refusal"
"$AGENTD" stop >/dev/null

# By fingerprint and by glob (plain names only), without --approve.
eval "$("$AGENTD" start --ttl 5m --allow-dest "$bfp" --allow-dest 'plain-*.test')" >/dev/null
ssh-add "$WORK/user" 2>/dev/null || fail "ssh-add"
# shellcheck disable=SC2086
ssh $A_OPTS "$user@127.0.0.1" true 2>"$WORK/g.err" || fail "glob allow: $(cat "$WORK/g.err")"
# shellcheck disable=SC2086
ssh $B_OPTS "$user@127.0.0.1" true 2>"$WORK/f.err" || fail "fingerprint allow: $(cat "$WORK/f.err")"
"$AGENTD" stop >/dev/null

# --deny-forwarded: ssh -A to A, then from A to B through the forwarded agent.
eval "$("$AGENTD" start --ttl 5m --deny-forwarded)" >/dev/null
ssh-add "$WORK/user" 2>/dev/null || fail "ssh-add"
# shellcheck disable=SC2086
out=$(ssh $A_OPTS -A "$user@127.0.0.1" "ssh $B_OPTS $user@127.0.0.1 echo inner || echo inner-refused" 2>"$WORK/fw.err") ||
	fail "outer login (not forwarded) failed: $(cat "$WORK/fw.err")"
[ "$out" = inner-refused ] || fail "inner login through the forwarded agent: $out"
sel=".session == \"$AGENTD_SESSION\" and .event == \"key_used\""
has_event "$sel and .forwarded == true" '.ok == false and .refused == "forwarded"' ||
	fail "forwarded refusal: $(jq -c "select($sel)" "$LOG")"
has_event "$sel and .forwarded == false" '.ok == true' || fail "outer login's key_used"
verify_chain >/dev/null
