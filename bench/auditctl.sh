#!/bin/bash
# auditctl against equivalent jq programs on the same generated logs, in one
# run: wall time, MB/s of log, peak RSS, and the ratio jq/auditctl. Outputs
# are compared (the --list arrays must be byte-identical; the ttl-evidence
# figures jq computes must equal auditctl's).
#
#   bench/auditctl.sh                 # 1,000,000 lines vs jq, 5,000,000 auditctl only
#   LINES=200000 BIG=0 bench/auditctl.sh
#   JQ_BIG=1 bench/auditctl.sh        # jq on the 5M-line log too (minutes)
# Logs are generated once (fixed seeds) into $LOGDIR and reused.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
LINES=${LINES:-1000000}
BIG=${BIG:-5000000}
JQ_BIG=${JQ_BIG:-0}
LOGDIR=${LOGDIR:-/tmp/agentd-auditctl-bench}
if [ -z "${AUDITCTL:-}" ]; then
	AUDITCTL=$ROOT/build/bin/auditctl
	[ -x "$AUDITCTL" ] || make -C "$ROOT" >&2
fi
for tool in jq python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
mkdir -p "$LOGDIR"
OUT=$(mktemp -d /tmp/agentd-auditctl-bench-out.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

genlog() {	# genlog LINES SEED -> path
	local f=$LOGDIR/gen-$1-$2.jsonl
	if [ ! -s "$f.done" ]; then
		echo "generating $1 lines (seed $2) into $f ..." >&2
		python3 "$BENCH/genlog.py" --lines "$1" --seed "$2" "$f"
		echo ok > "$f.done"
	fi
	echo "$f"
}

# run NAME LOG OUTFILE CMD... : prints one result row, remembers the time.
declare -A SECS
run() {
	local name=$1 log=$2 out=$3 mb t rss
	shift 3
	/usr/bin/time -f '%e %M' -o "$OUT/time" "$@" >"$out"
	read -r t rss <"$OUT/time"
	mb=$(stat -c %s "$log")
	SECS[$name]=$t
	awk -v n="$name" -v t="$t" -v b="$mb" -v r="$rss" 'BEGIN {
		printf "%-34s %8.2f s %9.1f MB/s %8.1f MB RSS\n", n, t,
		    (t > 0 ? b / 1e6 / t : 0), r / 1024 }'
}

ratio() {
	awk -v a="${SECS[$1]}" -v b="${SECS[$2]}" -v n="$3" 'BEGIN {
		printf "  => %s: auditctl %.1fx faster than jq\n", n, (b > 0 ? a / b : 0) }'
}

compare_evidence() {	# jq's figures must equal auditctl's
	python3 - "$1" "$2" <<'PY'
import json, sys
want, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
def cmp(w, g, p):
    if isinstance(w, dict):
        for k in w:
            cmp(w[k], g.get(k) if isinstance(g, dict) else None, p + "." + k)
    elif w != g:
        bad.append(f"{p}: jq {w!r}, auditctl {g!r}")
cmp(want, got, "")
print("  ttl-evidence figures: " + ("identical to jq's" if not bad else "DIFFER: " + "; ".join(bad[:5])))
sys.exit(1 if bad else 0)
PY
}

bench_log() {	# bench_log LOG WITH_JQ
	local log=$1 jq=$2 lines sessions
	lines=$(wc -l <"$log")
	sessions=$(grep -c '"event":"created"' "$log")
	printf '\n%s: %d lines, %d sessions, %.1f MB\n' "$(basename "$log")" \
	    "$lines" "$sessions" "$(stat -c %s "$log" | awk '{ print $1 / 1e6 }')"
	# Warm the page cache so both tools read from memory.
	cat "$log" >/dev/null
	run "auditctl --list --json" "$log" "$OUT/list.ac" "$AUDITCTL" --log "$log" --list --json
	run "auditctl ttl-evidence --json" "$log" "$OUT/ev.ac" "$AUDITCTL" --log "$log" ttl-evidence --json
	run "auditctl verify" "$log" "$OUT/verify" "$AUDITCTL" --log "$log" verify
	[ "$jq" = 1 ] || return 0
	run "jq -f bench/jq/list.jq" "$log" "$OUT/list.jq" jq -n -c -f "$BENCH/jq/list.jq" "$log"
	run "jq -f bench/jq/ttl-evidence.jq" "$log" "$OUT/ev.jq" jq -n -c -f "$BENCH/jq/ttl-evidence.jq" "$log"
	ratio "jq -f bench/jq/list.jq" "auditctl --list --json" "--list --json"
	ratio "jq -f bench/jq/ttl-evidence.jq" "auditctl ttl-evidence --json" "ttl-evidence --json"
	if cmp -s "$OUT/list.ac" "$OUT/list.jq"; then
		echo "  --list --json: byte-identical to jq's output"
	else
		echo "  --list --json: DIFFERS from jq's output"
	fi
	compare_evidence "$OUT/ev.jq" "$OUT/ev.ac" || true
}

echo "auditctl: $AUDITCTL; jq: $(jq --version); $(nproc) CPUs; $(uname -r)"
bench_log "$(genlog "$LINES" 4)" 1
if [ "$BIG" != 0 ]; then
	bench_log "$(genlog "$BIG" 5)" "$JQ_BIG"
fi
