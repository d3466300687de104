#!/usr/bin/env bash
# Latency of the auditing relay versus the bare upstream ssh-agent socket.
#
#   bench/relay-latency.sh          # N=2000 of each operation and socket
#   N=200 bench/relay-latency.sh
#
# See bench/relay-latency.py for what one sample is. Target (issue 3): the
# relay/direct median ratio <= 1.10 for ssh-add -l and for signatures.
. "$(dirname "$0")/common.sh"

N=${N:-2000}
machine
eval "$("$AGENTD" start --ttl 2h --label bench-relay)" >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"
ssh-add "$WORK/key" 2>/dev/null
echo "payload" > "$WORK/msg"
up=$AGENTD_DIR/run/sessions/$AGENTD_SESSION/upstream/agent.sock
echo "relay: $SSH_AUTH_SOCK"
echo "N=$N per operation and socket"
python3 "$BENCH/relay-latency.py" --relay "$SSH_AUTH_SOCK" --upstream "$up" \
	--key "$WORK/key" --msg "$WORK/msg" -n "$N"
echo "  audit: $(jq -c 'select(.event == "key_used")' "$LOG" | wc -l) key_used events (relay signatures only)"
