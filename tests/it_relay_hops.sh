# Agent forwarding two hops deep through a real sshd on 127.0.0.1: the
# signature made by the inner ssh through the forwarded agent is logged with
# every session-bind of its relay connection in order (hops) and
# forwarded: true; the outer login's own signature has one hop, not forwarded.
. "$(dirname "$0")/lib.sh"

start_sshd sshd "AllowAgentForwarding yes" || { note "no sshd: skipped"; exit 0; }
newkey user ed25519
cp "$WORK/user.pub" "$S/authorized_keys"

eval "$("$AGENTD" start --ttl 5m)" >/dev/null
ssh-add "$WORK/user" 2>/dev/null || fail "ssh-add"
opts="-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o IdentitiesOnly=no -p $port"
# shellcheck disable=SC2086
out=$(ssh $opts -A "$(id -un)@127.0.0.1" "ssh $opts $(id -un)@127.0.0.1 echo two-hops" 2>"$WORK/ssh.err") ||
	fail "ssh -A two hops failed: $(cat "$WORK/ssh.err") / $(tail -5 "$S/log")"
[ "$out" = two-hops ] || fail "unexpected output: $out"
kill "$sshd"; wait "$sshd" 2>/dev/null || true

hostfp=$(ssh-keygen -lf "$S/host.pub" | awk '{ print $2 }')
userfp=$(ssh-keygen -lf "$WORK/user.pub" | awk '{ print $2 }')
sel=".event == \"key_used\" and .fingerprint == \"$userfp\""
[ "$(count_events "$sel")" -eq 2 ] || fail "want 2 key_used (outer and inner login): $(jq -c "select($sel)" "$LOG")"
has_event "$sel and .forwarded == false" \
	".hops == [{\"hostkey\": \"$hostfp\", \"forwarding\": false}] and .dest_hostkey == \"$hostfp\"" ||
	fail "outer login's key_used: $(jq -c "select($sel)" "$LOG")"
has_event "$sel and .forwarded == true" \
	".hops == [{\"hostkey\": \"$hostfp\", \"forwarding\": true}, {\"hostkey\": \"$hostfp\", \"forwarding\": false}] and .dest_hostkey == \"$hostfp\" and .ok == true" ||
	fail "inner login through the forwarded agent: $(jq -c "select($sel)" "$LOG")"
verify_chain >/dev/null
