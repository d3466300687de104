#!/usr/bin/env bash
# Throughput of a recorded linked shell streaming to a V2 recorder (the test
# recorder, tests/helpers/recorder.py, h2c on 127.0.0.1) against the same
# shell recorded locally only, in one run:
#   agentd shell -- cat FILE    under `agentd serve`                 (local)
#   agentd shell -- cat FILE    under `agentd serve --recorder …`    (remote)
# FILE is SIZE_MB (default 100) of text; RUNS (default 3) of each,
# alternating (a fresh daemon per run); medians. Target (issue 6): remote >=
# 0.8x local. Each remote upload must end complete with every byte acked.
. "$(dirname "$0")/common.sh"

SIZE_MB=${SIZE_MB:-100}
RUNS=${RUNS:-3}
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

secs() {	# secs CMD... -> wall seconds of one run, output to /dev/null
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 </dev/null
	t1=$(date +%s%N)
	echo "scale=4; ($t1 - $t0) / 1000000000" | bc
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
run() {	# run FILE SERVE-ARGS...: one timed shell under a fresh daemon
	local t=$1
	shift
	stop_daemon
	"$AGENTD" serve "$@"
	eval "$("$AGENTD" start --ttl 1h --label bench-recorder)" >/dev/null
	secs "$AGENTD" shell -- cat "$WORK/text" >> "$t"
}

: > "$WORK/local.t"; : > "$WORK/remote.t"
for _ in $(seq "$RUNS"); do
	run "$WORK/local.t"
	run "$WORK/remote.t" --recorder "127.0.0.1:$port"
done
stop_daemon
sleep 0.5
l=$(median < "$WORK/local.t"); r=$(median < "$WORK/remote.t")
mbs() { echo "scale=1; $SIZE_MB / $1" | bc; }
ok=$(cat "$WORK"/rec/up-*.json 2>/dev/null | jq -s 'map(select(.end == "complete" and .acked == .bytes)) | length')
failed=$(jq -c 'select(.event == "recording_failed")' "$LOG" | wc -l)
echo "output: $SIZE_MB MB of text; runs: $RUNS each, alternating, medians"
printf '  %-40s %7.3f s  %6s MB/s\n' "agentd shell -- cat (local cast only)" "$l" "$(mbs "$l")"
printf '  %-40s %7.3f s  %6s MB/s\n' "agentd shell -- cat (+ V2 recorder)" "$r" "$(mbs "$r")"
echo "  ratio remote/local throughput: $(echo "scale=2; $l / $r" | bc) (target >= 0.8)"
echo "  uploads complete and fully acked: $ok of $RUNS; recording_failed events: $failed"
