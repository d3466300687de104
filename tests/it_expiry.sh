# No key outlives its session: ssh-add without -t, and with -t 99999, on an
# 8 s session both get a lifetime within the session; when it runs out the
# agent has dropped them and key_removed/expired is written, before the
# session itself ends.
. "$(dirname "$0")/lib.sh"

newkey a ed25519
newkey b ecdsa
eval "$("$AGENTD" start --ttl 8s)" >/dev/null
ssh-add "$WORK/a" 2>/dev/null || fail "ssh-add a"
ssh-add -t 99999 "$WORK/b" 2>/dev/null || fail "ssh-add -t 99999 b"
has_event '.event == "key_loaded"' '.lifetime_s >= 6 and .lifetime_s <= 8' ||
	fail "lifetimes not capped to the session: $(jq -c 'select(.event == "key_loaded") | .lifetime_s' "$LOG")"
[ "$(ssh-add -l | wc -l)" -eq 2 ] || fail "keys not loaded"
wait_event '.event == "key_removed" and .reason == "expired"' 10
sleep 0.2	# the agent's own reaper runs at the same deadline
rc=0; out=$(ssh-add -l 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "no identities" || fail "keys outlived their lifetime: $out"
wait_event '.event == "stopped"' 5
[ "$(count_events '.event == "key_removed" and .reason == "expired"')" -eq 2 ] || fail "expected 2 key_removed/expired"
[ "$(jq -r .event "$LOG" | tr '\n' ' ')" = "created key_loaded key_loaded key_removed key_removed stopped " ] ||
	fail "event order: $(jq -r .event "$LOG" | tr '\n' ' ')"
verify_chain >/dev/null
