# A real sshd on 127.0.0.1: ssh through the relay signs with session-bind, so
# key_used names the destination: dest_hostkey is that sshd's host key.
. "$(dirname "$0")/lib.sh"

start_sshd sshd || { note "no sshd: skipped"; exit 0; }
newkey user ed25519
cp "$WORK/user.pub" "$S/authorized_keys"

eval "$("$AGENTD" start --ttl 5m)" >/dev/null
ssh-add "$WORK/user" 2>/dev/null || fail "ssh-add"
out=$(ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o BatchMode=yes -o IdentitiesOnly=no -p "$port" "$(id -un)@127.0.0.1" echo via-agent 2>"$WORK/ssh.err") ||
	fail "ssh via the relay failed: $(cat "$WORK/ssh.err") / $(tail -5 "$S/log")"
[ "$out" = via-agent ] || fail "unexpected ssh output: $out"
hostfp=$(ssh-keygen -lf "$S/host.pub" | awk '{ print $2 }')
userfp=$(ssh-keygen -lf "$WORK/user.pub" | awk '{ print $2 }')
has_event ".event == \"key_used\" and .fingerprint == \"$userfp\"" ".ok == true and .dest_hostkey == \"$hostfp\" and .forwarded == false" ||
	fail "key_used lacks the destination host key $hostfp: $(jq -c 'select(.event == "key_used")' "$LOG")"
kill "$sshd"; wait "$sshd" 2>/dev/null || true
verify_chain >/dev/null
