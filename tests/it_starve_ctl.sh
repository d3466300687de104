# No client can starve the daemon (DESIGN §5), the control socket: 1,100
# connections that send nothing, two bytes or half a frame. While they are
# open, `agentd status` answers within 1 s (the oldest unfinished connection
# is evicted at the cap of 1,024) and ssh-add -l works; each of them is
# closed 10 s after it was accepted. Figures: docs/RELIABILITY.md.
. "$(dirname "$0")/lib.sh"
newkey k
"$AGENTD" serve
python3 "$TESTS/helpers/starve.py" ctl "$WORK/k" >"$WORK/fig" || fail "control flood"
note "$(cat "$WORK/fig")"
verify_chain >/dev/null
