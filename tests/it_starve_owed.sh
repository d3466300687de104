# No client can starve the daemon (DESIGN §5), clients that send requests
# ahead and never read the replies (240 KB identity answers, so the relay
# stops reading the agent for them): 3 rounds of 150 clients x 8 requests.
# They count as stalled: ssh-add -l and status keep working, each is closed
# after the stall timeout, the daemon's memory stays bounded, and a
# signature the agent gives after its client was dropped is still logged.
# Figures: docs/RELIABILITY.md.
. "$(dirname "$0")/lib.sh"
newkey k
"$AGENTD" serve
python3 "$TESTS/helpers/starve.py" owed "$WORK/k" >"$WORK/fig" || {
	sed 's/^/  agentd.log: /' "$AGENTD_DIR/agentd.log" | tail -n 20 >&2
	fail "clients that do not read"
}
note "$(cat "$WORK/fig")"
verify_chain >/dev/null
