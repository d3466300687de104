# No client can starve the daemon (DESIGN §5), descriptors and control
# connections: under `prlimit --nofile=100` (set on the running daemon) with 120 idle clients on a
# session's agent socket and nothing else on the control socket, 10 of 10
# `agentd status` are answered: the control connection just accepted is not
# the one closed to make room (idle relay clients go first).
. "$(dirname "$0")/lib.sh"
newkey k
"$AGENTD" serve	# starve.py sets its descriptor limit
python3 "$TESTS/helpers/starve.py" ctlgrace "$WORK/k" >"$WORK/fig" || {
	sed 's/^/  agentd.log: /' "$AGENTD_DIR/agentd.log" | tail -n 20 >&2
	fail "status at the descriptor limit"
}
note "$(cat "$WORK/fig")"
verify_chain >/dev/null
