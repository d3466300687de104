# Approvals (DESIGN §8): a held signature blocks nothing else. While one
# request of an --approve sign session waits, 20 other sessions sign and
# `agentd status` answers at once; another uid cannot approve it; when the
# daemon is killed while it waits, the client gets EOF and the restart logs
# approval_decided expired (supervisor_lost) for it, before the session's
# crashed event. A client that hangs up while held expires it (client_gone).
. "$(dirname "$0")/lib.sh"

"$AGENTD" serve --approval-timeout 10m || fail "serve"
eval "$("$AGENTD" start --ttl 10m --approve sign --label held)" >/dev/null
held_session=$AGENTD_SESSION
newkey k
ssh-add "$WORK/k" 2>/dev/null || fail "ssh-add"
echo msg > "$WORK/msg"

# A client that hangs up while it waits: its request expires (client_gone).
ssh-keygen -Y sign -f "$WORK/k.pub" -n file "$WORK/msg" >/dev/null 2>&1 &
gone=$!
gid=$(timeout 20 "$AGENTD" approvals --wait --json | jq -r '.[0].id')
kill -KILL "$gone"; wait "$gone" 2>/dev/null || true
wait_event ".event == \"approval_decided\" and .request == \"$gid\"" 10
has_event ".event == \"approval_decided\" and .request == \"$gid\"" '.decision == "expired" and .by == "client_gone"' ||
	fail "hung-up client: $(jq -c 'select(.event == "approval_decided")' "$LOG")"
[ "$("$AGENTD" approvals --json)" = "[]" ] || fail "still listed after its client left"
rm -f "$WORK/msg.sig"
ssh-keygen -Y sign -f "$WORK/k.pub" -n file "$WORK/msg" >"$WORK/held.out" 2>&1 &
signer=$!; EXTRA_PIDS="$EXTRA_PIDS $signer"
id=$(timeout 20 "$AGENTD" approvals --wait --json | jq -r '.[0].id')
[ -n "$id" ] && [ "$id" != null ] || fail "nothing held"
"$AGENTD" approvals --json | jq -e ".[0].label == \"held\" and .[0].session == \"$held_session\" and .[0].caller.comm == \"ssh-keygen\" and .[0].dest_hostkey == null" >/dev/null ||
	fail "listing: $("$AGENTD" approvals --json)"

# 20 other sessions sign meanwhile (no approval asked of them).
pids=
for i in $(seq 20); do
	(
		unset AGENTD_SESSION SSH_AUTH_SOCK
		eval "$("$AGENTD" start --ttl 10m)" >/dev/null
		cp "$WORK/msg" "$WORK/msg.$i"
		ssh-add "$WORK/k" 2>/dev/null && ssh-keygen -Y sign -f "$WORK/k.pub" -n file "$WORK/msg.$i" >/dev/null 2>&1
	) &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a session signed nothing while another request was held"; done
[ "$(count_events '.event == "key_used" and .ok == true')" -eq 20 ] || fail "want 20 signatures"
timeout 5 "$AGENTD" status >/dev/null || fail "status did not answer while a request was held"
alive "$signer" || fail "the held signer ended: $(cat "$WORK/held.out")"

# Another uid cannot approve (it does not even reach the control socket).
if [ "$(id -u)" -eq 0 ] && command -v useradd >/dev/null && command -v setpriv >/dev/null; then
	U=agentd-it-ap$$
	useradd -M -N -s /bin/sh -d /nonexistent "$U" || fail "useradd"
	rc=0
	setpriv --reuid="$(id -u "$U")" --regid="$(id -g "$U")" --clear-groups \
		env -i PATH=/usr/bin:/bin AGENTD_DIR="$AGENTD_DIR" "$AGENTD" approve "$id" >/dev/null 2>&1 || rc=$?
	userdel -f "$U" 2>/dev/null || true
	[ "$rc" -ne 0 ] || fail "another uid approved"
	"$AGENTD" approvals --json | jq -e ".[0].id == \"$id\"" >/dev/null || fail "no longer held after another uid tried"
	[ "$(count_events '.event == "approval_decided"')" -eq 1 ] || fail "decided by another uid"
else
	note "not root: the other-uid check skipped"
fi

# The daemon dies while the request waits: EOF for the client; the restart
# logs the request expired (supervisor_lost), then the session crashed.
pid=$(cat "$AGENTD_DIR/run/agentd.pid")
kill -KILL "$pid"
flock -w 20 "$AGENTD_DIR/run/agentd.pid" true
rc=0; wait "$signer" || rc=$?
[ "$rc" -ne 0 ] || fail "the held signature succeeded without a decision"
unset AGENTD_SESSION SSH_AUTH_SOCK
"$AGENTD" start --ttl 1m >/dev/null || fail "restart"
wait_event ".event == \"approval_decided\" and .request == \"$id\"" 10
has_event ".event == \"approval_decided\" and .request == \"$id\"" '.decision == "expired" and .by == "supervisor_lost"' ||
	fail "after restart: $(jq -c 'select(.event == "approval_decided")' "$LOG")"
order=$(jq -r "select(.session == \"$held_session\" and ((.event == \"approval_decided\" and .request == \"$id\") or .event == \"crashed\")) | .event" "$LOG" | tr '\n' ' ')
[ "$order" = "approval_decided crashed " ] || fail "order after restart: $order"
[ "$(count_events '.event == "approval_decided"')" -eq 2 ] || fail "exactly one decision each"
verify_chain >/dev/null
