# No client can starve the daemon (DESIGN §5), a session's agent socket: 256
# idle connections (the per-session cap) plus 8 that sent half a frame. While
# they are open, ssh-add -l works (the cap evicts a half-sent connection
# first, then the oldest idle one) and status answers within 1 s; half-sent
# connections are closed after 10 s, idle ones stay (an ssh session may keep
# its agent connection for hours). Figures: docs/RELIABILITY.md.
. "$(dirname "$0")/lib.sh"
newkey k
"$AGENTD" serve
python3 "$TESTS/helpers/starve.py" relay "$WORK/k" >"$WORK/fig" || fail "relay flood"
note "$(cat "$WORK/fig")"
verify_chain >/dev/null
