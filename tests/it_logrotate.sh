# contrib/logrotate/agentd with the real logrotate against a running daemon:
# logrotate renames audit.jsonl and the snippet's postrotate HUPs the daemon
# that holds its lock; the renamed files and the new one verify as one chain
# (auditctl verify, files in the glob's order) and no event is lost, also
# with starts running during the rotation. Without a running daemon the
# snippet refuses to rotate (exit 1, nothing renamed).
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
command -v logrotate >/dev/null || PATH=$PATH:/usr/sbin
root=$(cd "$TESTS/.." && pwd)

# The snippet as shipped names ~/.local/state/agentd/audit.jsonl: a private
# HOME whose state root is this test's AGENTD_DIR.
export HOME=$WORK/home
mkdir -p "$HOME/.local/state"
ln -s "$AGENTD_DIR" "$HOME/.local/state/agentd"
install -m 0644 "$root/contrib/logrotate/agentd" "$WORK/logrotate.conf"
state=$WORK/logrotate.status
rotate() { logrotate -f -s "$state" "$WORK/logrotate.conf"; }
rotated() { ls "$AGENTD_DIR"/audit.jsonl-* 2>/dev/null | wc -l; }

grep -v '^[[:space:]]*#' "$WORK/logrotate.conf" | grep -Eqw '(copytruncate|copy|create)' &&
	fail "the snippet copies or creates the log"

"$AGENTD" start --ttl 1h --label a >/dev/null
"$AGENTD" start --ttl 1h --label b --json > "$WORK/b"
rotate 2>"$WORK/err" || { cat "$WORK/err" >&2; fail "logrotate failed with a running daemon"; }
[ "$(rotated)" -eq 1 ] || fail "expected one rotated file, got $(rotated)"
head -n 1 "$LOG" | jq -e '.event == "log_rotated" and (.open_sessions | length) == 2' >/dev/null ||
	fail "new file does not start with log_rotated listing 2 open sessions: $(head -n 1 "$LOG")"

# Starts during the second rotation: every created lands in one of the files.
"$AGENTD" stop --session "$(jq -r .session "$WORK/b")" >/dev/null
sleep 1.1	# dateformat has one-second names
for i in 1 2 3 4 5 6; do "$AGENTD" start --ttl 1h --label "c$i" >/dev/null & EXTRA_PIDS="$EXTRA_PIDS $!"; done
rotate 2>"$WORK/err" || { cat "$WORK/err" >&2; fail "second logrotate failed"; }
wait
EXTRA_PIDS=
[ "$(rotated)" -eq 2 ] || fail "expected two rotated files, got $(rotated)"
"$AGENTD" stop --all >/dev/null
out=$("$AUDITCTL" verify "$HOME"/.local/state/agentd/audit.jsonl-* "$HOME/.local/state/agentd/audit.jsonl") ||
	fail "the rotated set does not verify as one chain: $out"
echo "$out" | grep -q 'across the files given' || fail "verify did not join the files: $out"
total=$(cat "$AGENTD_DIR"/audit.jsonl-* "$LOG" | wc -l)
echo "$out" | grep -q "^ok: $total lines, chain intact, seq 1\.\.$total " || fail "verify: $out (expected $total lines)"
n=$(cat "$AGENTD_DIR"/audit.jsonl-* "$LOG" | jq -c 'select(.event == "created")' | wc -l)
[ "$n" -eq 8 ] || fail "expected 8 created across the rotated set, got $n"
n=$(cat "$AGENTD_DIR"/audit.jsonl-* "$LOG" | jq -c 'select(.event == "stopped")' | wc -l)
[ "$n" -eq 8 ] || fail "expected 8 stopped across the rotated set, got $n"
# The shell's glob order is the chain's order: the oldest file starts at seq 1.
first=$(ls "$AGENTD_DIR"/audit.jsonl-* | head -n 1)
[ "$(head -n 1 "$first" | jq .seq)" -eq 1 ] || fail "the glob's first file is not the oldest"

# No daemon: nothing continues the chain, so nothing is renamed.
stop_daemon
sleep 1.1
if rotate 2>"$WORK/err"; then fail "logrotate rotated a log no daemon writes"; fi
grep -q 'no agentd holds it' "$WORK/err" || fail "no clear message: $(cat "$WORK/err")"
[ "$(rotated)" -eq 2 ] || fail "a log was renamed without a daemon"
[ -s "$LOG" ] || fail "audit.jsonl is gone"
