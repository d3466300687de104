#!/bin/sh
# make demo: one whole agentd session under a throw-away AGENTD_DIR — start,
# add a freshly generated key, use it, list, stop — then the audit lines.
set -eu
A=${AGENTD:?}
C=${AUDITCTL:-$(dirname "$A")/auditctl}
T=${TMPDIR:-/tmp}
AGENTD_DIR=$(mktemp -d "$T/agentd-demo.XXXXXX")
KEYS=$(mktemp -d "$T/agentd-demo-keys.XXXXXX")
export AGENTD_DIR
unset AGENTD_SESSION SSH_AUTH_SOCK XDG_RUNTIME_DIR XDG_STATE_HOME

# Every way out cleans up: the daemon (and with it the sessions and the spare
# agent) is stopped and the key removed. A signal, SIGPIPE included (`make
# demo | head`: a write to the closed pipe would kill the shell, skipping an
# EXIT trap), exits through the EXIT trap; its output goes nowhere then.
cleanup() {
	trap '' PIPE INT TERM HUP
	pid=$(cat "$AGENTD_DIR/run/agentd.pid" 2>/dev/null || true)
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		flock -w 15 "$AGENTD_DIR/run/agentd.pid" true 2>/dev/null || true
	fi
	rm -rf "$AGENTD_DIR" "$KEYS"
}
trap cleanup EXIT
trap 'exit 141' PIPE
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "# AGENTD_DIR=$AGENTD_DIR (removed at the end)"

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

step "eval \"\$(agentd stop)\"   # prints the unsets, like ssh-agent -k"
id=$AGENTD_SESSION
out=$("$A" stop)
printf '%s\n' "$out"
eval "$out"

step "auditctl --list"
"$C" --list

step "auditctl show $id"
"$C" show "$id"

step "auditctl verify"
"$C" verify

step "cat \$AGENTD_DIR/audit.jsonl"
if command -v jq >/dev/null; then jq -c . "$AGENTD_DIR/audit.jsonl"; else cat "$AGENTD_DIR/audit.jsonl"; fi
