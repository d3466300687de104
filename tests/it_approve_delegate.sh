# Approval delegates (DESIGN §8). An HTTP delegate on 127.0.0.1 gets each
# held request as JSON in a POST and approves the first, denies the second;
# a command delegate gets it on stdin (exit 0 approves); an unreachable
# delegate decides nothing: the request expires at the timeout, with a
# warning in agentd.log; a person's approve while a delegate still thinks
# wins, and the command is killed.
. "$(dirname "$0")/lib.sh"

newkey k
echo msg > "$WORK/msg"
sign() {	# sign N: a local signature in the background ($SIGNER)
	rm -f "$WORK/msg.sig"
	ssh-keygen -Y sign -f "$WORK/k.pub" -n file "$WORK/msg" >"$WORK/sign.$1.out" 2>&1 &
	SIGNER=$!
	EXTRA_PIDS="$EXTRA_PIDS $SIGNER"
}
signed() {	# signed N: waits for $SIGNER; its status in $WORK/sign.N
	local rc=0
	wait "$SIGNER" || rc=$?
	echo "$rc" > "$WORK/sign.$1"
}
decided() {	# decided N: the decision of the Nth approval_decided line
	jq -sr "[.[] | select(.event == \"approval_decided\")][$1 - 1] | \"\(.decision) \(.by)\"" "$LOG"
}
fresh_daemon() {
	"$AGENTD" stop --all >/dev/null 2>&1 || true
	stop_daemon
	"$AGENTD" serve "$@" || fail "serve $*"
	unset AGENTD_SESSION SSH_AUTH_SOCK
	eval "$("$AGENTD" start --ttl 5m --approve sign)" >/dev/null
	ssh-add "$WORK/k" 2>/dev/null || fail "ssh-add"
}

# 1. HTTP: approve, then deny.
python3 "$TESTS/helpers/approval-delegate.py" "$WORK/port" "$WORK/posts" \
	'{"decision":"approve"}' '{"decision":"deny"}' &
EXTRA_PIDS="$EXTRA_PIDS $!"
for i in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
fresh_daemon --approval-timeout 20s --approval-delegate "http://127.0.0.1:$(cat "$WORK/port")/"
sign 1; signed 1
[ "$(cat "$WORK/sign.1")" = 0 ] || fail "delegate approval: $(cat "$WORK/sign.1.out")"
[ "$(decided 1)" = "approved delegate" ] || fail "first decision: $(decided 1)"
sign 2; signed 2
[ "$(cat "$WORK/sign.2")" != 0 ] || fail "delegate denial let it sign"
[ "$(decided 2)" = "denied delegate" ] || fail "second decision: $(decided 2)"
head -n 1 "$WORK/posts" | jq -e ".session == \"$AGENTD_SESSION\" and .kind == \"sign\" and .caller.comm == \"ssh-keygen\" and (.id | length) == 12" >/dev/null ||
	fail "POST body: $(head -n 1 "$WORK/posts")"

# 2. Unreachable: nothing listens there; denied at the 2 s timeout, logged.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fresh_daemon --approval-timeout 2s --approval-delegate "http://127.0.0.1:$port/"
sign 3; signed 3
[ "$(cat "$WORK/sign.3")" != 0 ] || fail "unreachable delegate let it sign"
[ "$(decided 3)" = "expired timeout" ] || fail "unreachable: $(decided 3)"
grep -q "delegate: .*onnect" "$AGENTD_DIR/agentd.log" || fail "no warning: $(cat "$AGENTD_DIR/agentd.log")"

# 3. Command: exit 0 approves, anything else denies; JSON on stdin.
cat > "$WORK/cmd" <<CMD
#!/bin/sh
cat > "$WORK/cmd.json"
[ -e "$WORK/allow" ]
CMD
chmod 700 "$WORK/cmd"
fresh_daemon --approval-timeout 20s --approval-command "$WORK/cmd"
touch "$WORK/allow"
sign 4; signed 4
[ "$(cat "$WORK/sign.4")" = 0 ] || fail "command approval: $(cat "$WORK/sign.4.out")"
[ "$(decided 4)" = "approved command" ] || fail "command: $(decided 4)"
jq -e '.kind == "sign" and .caller.comm == "ssh-keygen"' "$WORK/cmd.json" >/dev/null || fail "stdin: $(cat "$WORK/cmd.json")"
rm "$WORK/allow"
sign 5; signed 5
[ "$(cat "$WORK/sign.5")" != 0 ] || fail "command denial let it sign"
[ "$(decided 5)" = "denied command" ] || fail "command deny: $(decided 5)"

# 4. First decision wins: the command still runs when a person approves.
cat > "$WORK/slow" <<CMD
#!/bin/sh
echo \$\$ > "$WORK/slow.pid"
exec sleep 60
CMD
chmod 700 "$WORK/slow"
fresh_daemon --approval-timeout 20s --approval-command "$WORK/slow"
sign 6
id=$("$AGENTD" approvals --wait --json | jq -r '.[0].id')
for i in $(seq 100); do [ -s "$WORK/slow.pid" ] && break; sleep 0.05; done
slow=$(cat "$WORK/slow.pid")
"$AGENTD" approve "$id" >/dev/null || fail "approve"
signed 6
[ "$(cat "$WORK/sign.6")" = 0 ] || fail "person's approval: $(cat "$WORK/sign.6.out")"
[ "$(decided 6)" = "approved user:$(id -un)" ] || fail "first wins: $(decided 6)"
wait_gone "$slow" 10 || fail "the command delegate was not killed"
[ "$(count_events '.event == "approval_decided"')" -eq 6 ] || fail "one decision each"
verify_chain >/dev/null
