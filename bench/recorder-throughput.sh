#!/usr/bin/env bash
# Throughput of a recorded linked shell streaming to a V2 recorder (the test
# recorder, tests/helpers/recorder.py, h2c on 127.0.0.1) against the same
# shell recorded locally only, in one run:
#   agentd shell -- cat FILE    under `agentd serve`                 (local)
#   agentd shell -- cat FILE    under `agentd serve --recorder …`    (remote)
# FILE is SIZE_MB (default 100) of text; RUNS (default 5) pairs of one local
# and one remote run back to back (alternating which goes first; a fresh
# daemon and a sync before each run), and the ratio is the median of the
# pairs (see shell-throughput.sh for why). Target (issue 6): remote >= 0.8x
# local. Each remote upload must end complete with every byte acked. The
# recorder peer runs on the same two CPUs: its CPU time is shown too.
. "$(dirname "$0")/common.sh"

SIZE_MB=${SIZE_MB:-100}
RUNS=${RUNS:-5}
PY=/usr/bin/python3
$PY -c 'import h2' 2>/dev/null || { echo "bench needs python3-h2" >&2; exit 1; }
machine
yes 'The quick brown fox jumps over the lazy dog, 0123456789 times.' |
	head -c $((SIZE_MB * 1000000)) > "$WORK/text"

$PY "$ROOT/tests/helpers/recorder.py" --port-file "$WORK/port" --out "$WORK/rec" \
	>"$WORK/rec.log" 2>&1 &
recpid=$!
trap 'kill $recpid 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
port=$(cat "$WORK/port")

run() {	# run FILE SERVE-ARGS...: one timed shell under a fresh daemon
	local t=$1
	shift
	stop_daemon
	"$AGENTD" serve "$@"
	eval "$("$AGENTD" start --ttl 1h --label bench-recorder)" >/dev/null
	secs "$AGENTD" shell -t -- cat "$WORK/text" >> "$t"
}

: > "$WORK/local.t"; : > "$WORK/remote.t"; : > "$WORK/pair.r"; : > "$WORK/peer.cpu"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$recpid/stat"; }
remote() {
	local c0
	c0=$(cpu_ticks)
	run "$WORK/remote.t" --recorder "127.0.0.1:$port"
	echo "scale=2; ($(cpu_ticks) - $c0) / $(getconf CLK_TCK)" | bc >> "$WORK/peer.cpu"
}
for i in $(seq "$RUNS"); do
	if [ $((i % 2)) = 1 ]; then
		run "$WORK/local.t"
		remote
	else
		remote
		run "$WORK/local.t"
	fi
	echo "scale=3; $(tail -n 1 "$WORK/local.t") / $(tail -n 1 "$WORK/remote.t")" |
		bc >> "$WORK/pair.r"
done
stop_daemon
sleep 0.5
l=$(median < "$WORK/local.t"); r=$(median < "$WORK/remote.t")
ok=$(cat "$WORK"/rec/up-*.json 2>/dev/null | jq -s 'map(select(.end == "complete" and .acked == .bytes)) | length')
failed=$(jq -c 'select(.event == "recording_failed")' "$LOG" | wc -l)
echo "output: $SIZE_MB MB of text; runs: $RUNS pairs, medians"
printf '  %-40s %7.3f s  %6s MB/s\n' "agentd shell -- cat (local cast only)" "$l" "$(mbs "$l")"
printf '  %-40s %7.3f s  %6s MB/s\n' "agentd shell -- cat (+ V2 recorder)" "$r" "$(mbs "$r")"
echo "  ratio remote/local throughput: $(median < "$WORK/pair.r") (median of $RUNS back-to-back pairs: $(sort -n "$WORK/pair.r" | tr '\n' ' '); target >= 0.8)"
echo "  recorder peer (python3-h2) CPU per remote run: $(median < "$WORK/peer.cpu") s"
echo "  uploads complete and fully acked: $ok of $RUNS; recording_failed events: $failed"
[ "$failed" -eq 0 ] || jq -r 'select(.event == "recording_failed") |
	"    recording_failed: \(.attempts[-1].error // "?") (\(.action))"' "$LOG"
[ "$ok" -eq "$RUNS" ] || for f in "$WORK"/rec/up-*.json; do echo "    $(basename "$f"): $(cat "$f")"; done
