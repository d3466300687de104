# Keys: agentd add loads through ssh-add, key_loaded carries the fingerprint
# exactly as ssh-keygen -lf prints it, lifetimes are capped by the session,
# the key signs through the public socket, and nothing of the private key
# appears under AGENTD_DIR or in any output.
. "$(dirname "$0")/lib.sh"

eval "$("$AGENTD" start --ttl 20m --label it-keys)" >/dev/null
for t in ed25519 ecdsa rsa; do newkey "k-$t" "$t"; done
"$AGENTD" add "$WORK/k-ed25519" >"$WORK/add.out" 2>"$WORK/add.err" || fail "add: $(cat "$WORK/add.err")"
"$AGENTD" add --lifetime 90s "$WORK/k-ecdsa" >>"$WORK/add.out" 2>>"$WORK/add.err" || fail "add ecdsa"
"$AGENTD" add --lifetime 99999 "$WORK/k-rsa" >>"$WORK/add.out" 2>>"$WORK/add.err" || fail "add rsa"
grep -q "lifetime capped" "$WORK/add.err" || fail "no note that --lifetime 99999 was capped"

for t in ed25519 ecdsa rsa; do
	fp=$(ssh-keygen -lf "$WORK/k-$t" | awk '{ print $2 }')
	[ "$(count_events ".event == \"key_loaded\" and .fingerprint == \"$fp\"")" -eq 1 ] ||
		fail "no key_loaded for $t ($fp)"
done
has_event '.event == "key_loaded" and .key_type == "ssh-ed25519"' '.lifetime_s > 1190 and .lifetime_s <= 1200' ||
	fail "default lifetime is not the session's remaining time: $(cat "$LOG")"
has_event '.event == "key_loaded" and .key_type == "ecdsa-sha2-nistp256"' '.lifetime_s == 90' ||
	fail "--lifetime 90s not kept"
has_event '.event == "key_loaded" and .key_type == "ssh-rsa"' '.lifetime_s <= 1200' ||
	fail "--lifetime 99999 not capped to the session"
[ "$(ssh-add -l | wc -l)" -eq 3 ] || fail "agent does not hold 3 keys"

# Use a key: sign a file through the public socket (the agent signs).
echo "payload" > "$WORK/msg"
ssh-keygen -Y sign -f "$WORK/k-ed25519.pub" -n file "$WORK/msg" 2>"$WORK/sign.err" ||
	fail "signing through the agent failed: $(cat "$WORK/sign.err")"
[ -s "$WORK/msg.sig" ] || fail "no signature"

# A re-add is logged again (the lifetime restarts); an unknown session is an error.
"$AGENTD" add "$WORK/k-ed25519" >/dev/null 2>&1 || fail "re-add"
[ "$(count_events '.event == "key_loaded" and .key_type == "ssh-ed25519"')" -eq 2 ] || fail "re-add not logged"
rc=0; err=$("$AGENTD" add --session nosuchsession "$WORK/k-ed25519" 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "no active session" || fail "unknown session: exit $rc: $err"

"$AGENTD" status >"$WORK/status.out"
"$AGENTD" stop >"$WORK/stop.out"
[ "$(count_events '.event == "stopped" and .exit_reason == "requested"')" -eq 1 ] || fail "stop not logged"

# The secret scan: no line of any private key body anywhere we wrote.
for t in ed25519 ecdsa rsa; do
	sed '1d;$d' "$WORK/k-$t" | while read -r line; do
		[ ${#line} -ge 16 ] || continue
		if grep -rqF -- "$line" "$AGENTD_DIR" "$WORK/add.out" "$WORK/add.err" \
			"$WORK/status.out" "$WORK/stop.out" "$WORK/sign.err"; then
			fail "private key material of $t found in output"
		fi
	done
done
cat "$LOG"; verify_chain >/dev/null
