#!/bin/bash
# auditctl across many hosts (DESIGN §11, issue 15): 20 hosts × 200,000
# lines from bench/genlog.py (one log per host). Checks that --list --json
# and verify across them equal the per-host runs merged, and measures
# --list --json MB/s on one host's file against all 20 at once (one chain
# per thread, up to the CPUs; AUDITCTL_JOBS=1 for the serial figure).
#
#   bench/auditctl-hosts.sh                    # 20 × 200,000 lines
#   HOSTS=4 LINES=50000 bench/auditctl-hosts.sh
# Logs are generated once (fixed seeds) into $LOGDIR and reused.
set -eu
BENCH=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
HOSTS=${HOSTS:-20}
LINES=${LINES:-200000}
LOGDIR=${LOGDIR:-/tmp/agentd-auditctl-bench/hosts-$HOSTS-$LINES}
NOW=--now=2030-01-01T00:00:00Z
if [ -z "${AUDITCTL:-}" ]; then
	AUDITCTL=$ROOT/build/bin/auditctl
	[ -x "$AUDITCTL" ] || make -C "$ROOT" >&2
fi
OUT=$(mktemp -d /tmp/agentd-auditctl-hosts.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$LOGDIR"
if [ ! -s "$LOGDIR/done" ]; then
	echo "generating $HOSTS × $LINES lines into $LOGDIR ..." >&2
	for i in $(seq -w 1 "$HOSTS"); do
		mkdir -p "$LOGDIR/h$i"
		python3 "$BENCH/genlog.py" --lines "$LINES" --seed "$((10#$i))" \
		    --host "host$i" "$LOGDIR/h$i/audit.jsonl" &
		[ $((10#$i % $(nproc))) -eq 0 ] && wait
	done
	wait
	echo ok > "$LOGDIR/done"
fi
ALL="$LOGDIR/*/audit.jsonl"
ONE=$LOGDIR/h01/audit.jsonl
cat $ALL > /dev/null	# page cache warm for every run

declare -A SECS
run() {	# run NAME BYTES CMD... : one result row
	local name=$1 bytes=$2 t rss
	shift 2
	/usr/bin/time -f '%e %M' -o "$OUT/time" "$@" > "$OUT/out"
	read -r t rss < "$OUT/time"
	SECS[$name]=$t
	awk -v n="$name" -v t="$t" -v b="$bytes" -v r="$rss" 'BEGIN {
		printf "%-44s %7.2f s %8.1f MB/s %8.1f MB RSS\n", n, t,
		    (t > 0 ? b / 1e6 / t : 0), r / 1024 }'
}

one_bytes=$(stat -c %s "$ONE")
all_bytes=$(cat $ALL | wc -c)
echo "auditctl: $AUDITCTL; $(nproc) CPUs; $HOSTS hosts × $LINES lines, $((all_bytes / 1000000)) MB"
run "--list --json, 1 file" "$one_bytes" "$AUDITCTL" --log "$ONE" --list --json $NOW
run "--list --json, $HOSTS files (AUDITCTL_JOBS=1)" "$all_bytes" env AUDITCTL_JOBS=1 "$AUDITCTL" --log "$ALL" --list --json $NOW
run "--list --json, $HOSTS files" "$all_bytes" "$AUDITCTL" --log "$ALL" --list --json $NOW
cp "$OUT/out" "$OUT/list.all"
run "verify, 1 file" "$one_bytes" "$AUDITCTL" --log "$ONE" verify
run "verify, $HOSTS files" "$all_bytes" "$AUDITCTL" --log "$ALL" verify
cp "$OUT/out" "$OUT/verify.all"
run "ttl-evidence --json, $HOSTS files" "$all_bytes" "$AUDITCTL" --log "$ALL" ttl-evidence --json $NOW

# The answers: equal to the per-host runs merged.
for f in $ALL; do "$AUDITCTL" --log "$f" --list --json $NOW; done | jq -s -c add > "$OUT/list.merged"
jq -c . "$OUT/list.all" > "$OUT/list.all.c"
if cmp -s "$OUT/list.all.c" "$OUT/list.merged"; then
	echo "  --list --json across $HOSTS hosts: equal to the per-host runs merged ($(jq length "$OUT/list.merged") sessions)"
else
	echo "  --list --json across $HOSTS hosts: DIFFERS from the per-host runs merged"; exit 1
fi
for f in $ALL; do
	h=$(basename "$(dirname "$f")")
	"$AUDITCTL" --log "$f" verify | sed "s/^/host host${h#h}: /"
done > "$OUT/verify.merged"
echo "ok: $HOSTS hosts, every chain intact" >> "$OUT/verify.merged"
if cmp -s "$OUT/verify.all" "$OUT/verify.merged"; then
	echo "  verify across $HOSTS hosts: equal to the per-host runs merged"
else
	echo "  verify across $HOSTS hosts: DIFFERS"; diff "$OUT/verify.merged" "$OUT/verify.all" | head; exit 1
fi
