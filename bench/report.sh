#!/bin/bash
# auditctl report over a generated log of about 10,000 sessions (bench/
# genlog.py, fixed seed): the time to write the HTML file, and the time
# headless Chromium takes from navigation to a usable page (load event, the
# page's script run, the table filled), each best and median of RUNS.
#
#   bench/report.sh                  # 44,000 lines = 10,089 sessions
#   LINES=200000 RUNS=3 bench/report.sh
# The page is checked on the way: no console error, no network request.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
LINES=${LINES:-44000}
RUNS=${RUNS:-5}
if [ -z "${AUDITCTL:-}" ]; then
	AUDITCTL=$ROOT/build/bin/auditctl
	[ -x "$AUDITCTL" ] || make -C "$ROOT" >&2
fi
command -v chromium >/dev/null || { echo "bench needs chromium" >&2; exit 1; }
OUT=$(mktemp -d /tmp/agentd-report-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
python3 "$BENCH/genlog.py" --lines "$LINES" --seed 1 "$OUT/audit.jsonl"
sessions=$(grep -c '"event":"created"' "$OUT/audit.jsonl")

stats() {	# stats V... -> "best X, median Y"
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		printf "best %s, median %s", v[1], v[int((NR + 1) / 2)] }'
}
w=()
for _ in $(seq "$RUNS"); do
	s=$(date +%s%N)
	"$AUDITCTL" --log "$OUT/audit.jsonl" report -o "$OUT/r.html" 2>/dev/null
	e=$(date +%s%N)
	w+=("$(awk -v n=$((e - s)) 'BEGIN { printf "%.3f", n / 1e9 }')")
done
o=()
for _ in $(seq "$RUNS"); do
	ms=$(python3 "$ROOT/tests/helpers/cdp.py" time "$OUT/r.html")
	o+=("$(awk -v n="$ms" 'BEGIN { printf "%.3f", n / 1000 }')")
done
size=$(stat -c %s "$OUT/r.html")
echo "report: $LINES lines, $sessions sessions, $((size / 1024)) KiB of HTML"
echo "  written in (s):        $(stats "${w[@]}")"
echo "  opened in Chromium (s): $(stats "${o[@]}")"
