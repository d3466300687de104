# No client can starve the daemon (DESIGN §5), descriptors: the daemon runs
# under `prlimit --nofile=100` and 120 idle clients connect to a session's
# agent socket. It must not spin (< 50 % of a CPU over 3 s), status answers
# within 1 s, ssh-add -l works, a session whose TTL runs out meanwhile is
# logged and its directory removed, and agentd.log has one warning for the
# episode. Figures: docs/RELIABILITY.md.
. "$(dirname "$0")/lib.sh"
newkey k
prlimit --nofile=100:100 "$AGENTD" serve
python3 "$TESTS/helpers/starve.py" fdlimit "$WORK/k" >"$WORK/fig" || {
	sed 's/^/  agentd.log: /' "$AGENTD_DIR/agentd.log" | tail -n 20 >&2
	fail "descriptor limit"
}
note "$(cat "$WORK/fig")"
verify_chain >/dev/null
