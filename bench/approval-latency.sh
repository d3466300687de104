#!/usr/bin/env bash
# What holding a signature for approval costs (issue 12): an approved
# signature against an unheld one, in the same daemon. See
# bench/approval-latency.py for the three cases.
#
#   bench/approval-latency.sh        # N=300 of each
. "$(dirname "$0")/common.sh"

N=${N:-300}
machine
"$AGENTD" serve --approval-timeout 10m
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
sock() {	# sock [START OPTIONS]: a new session with the key; prints its socket
	(unset AGENTD_SESSION SSH_AUTH_SOCK
	 eval "$("$AGENTD" start --ttl 2h "$@")" >/dev/null
	 ssh-add "$WORK/key" 2>/dev/null
	 echo "$SSH_AUTH_SOCK")
}
plain=$(sock)
held=$(sock --approve sign)
remem=$(sock --approve sign)
echo "N=$N per case"
python3 "$BENCH/approval-latency.py" --plain "$plain" --held "$held" \
	--remem "$remem" --control "$AGENTD_DIR/run/control.sock" -n "$N"
echo "  audit: $(jq -c 'select(.event == "approval_decided")' "$LOG" | wc -l) approval_decided events"
