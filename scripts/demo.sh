#!/bin/sh
# make demo: one whole agentd session under a throw-away AGENTD_DIR — start,
# add a freshly generated key, use it, list, stop — then the audit lines.
set -eu
A=${AGENTD:?}
C=${AUDITCTL:-$(dirname "$A")/auditctl}
AGENTD_DIR=$(mktemp -d /tmp/agentd-demo.XXXXXX)
KEYS=$(mktemp -d /tmp/agentd-demo-keys.XXXXXX)
export AGENTD_DIR
unset AGENTD_SESSION SSH_AUTH_SOCK

cleanup() {
	pid=$(cat "$AGENTD_DIR/run/agentd.pid" 2>/dev/null || true)
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		flock -w 15 "$AGENTD_DIR/run/agentd.pid" true 2>/dev/null || true
	fi
	rm -rf "$AGENTD_DIR" "$KEYS"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "eval \"\$(agentd start --ttl 10m --label demo)\""
eval "$("$A" start --ttl 10m --label demo)"

step "ssh-keygen -t ed25519 -f id_demo && agentd add --lifetime 5m id_demo"
ssh-keygen -q -t ed25519 -N '' -C demo-key -f "$KEYS/id_demo"
"$A" add --lifetime 5m "$KEYS/id_demo"

step "ssh-add -l"
ssh-add -l

step "ssh-keygen -Y sign -f id_demo.pub -n file message   # the agent signs"
echo "hello from agentd" > "$KEYS/message"
ssh-keygen -Y sign -f "$KEYS/id_demo.pub" -n file "$KEYS/message" 2>&1
printf 'demo %s\n' "$(cat "$KEYS/id_demo.pub")" > "$KEYS/allowed"
ssh-keygen -Y verify -f "$KEYS/allowed" -I demo -n file \
	-s "$KEYS/message.sig" < "$KEYS/message"

step "agentd status"
"$A" status

step "agentd shell -- sh -c 'ssh-add -l; echo recorded'   # a linked, recorded shell"
"$A" shell -- sh -c 'ssh-add -l; echo recorded' </dev/null

step "agentd stop"
"$A" stop

step "auditctl --list"
"$C" --list

step "auditctl show \$AGENTD_SESSION"
"$C" show "$AGENTD_SESSION"

step "auditctl verify"
"$C" verify

step "cat \$AGENTD_DIR/audit.jsonl"
if command -v jq >/dev/null; then jq -c . "$AGENTD_DIR/audit.jsonl"; else cat "$AGENTD_DIR/audit.jsonl"; fi
