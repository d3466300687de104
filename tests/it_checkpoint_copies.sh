# A cut-off tail that the log alone cannot show (it_checkpoint_tamper:
# "truncate after a checkpoint" is UNDETECTED alone) is shown by another copy
# of the same host's chain (DESIGN §11: a collector's copy): auditctl verify
# given both reports the local file as truncated, naming the checkpoint the
# collector holds and the local file lacks (its signature checked with
# --pubkey); a collector merely behind the local file (only unsigned lines
# missing) is reported without that claim.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"

# Checkpoints at clean shutdowns: lines 11 and 22; then 3 unsigned lines.
serve() { "$AGENTD" serve --checkpoint-interval 1h; }
round() {
	for i in 1 2 3 4 5; do "$AGENTD" start --ttl 1h --label "$1$i" >/dev/null; done
	"$AGENTD" stop --all >/dev/null
}
serve; round a; stop_daemon
serve; round b; stop_daemon
serve
for i in 1 2 3; do "$AGENTD" start --ttl 1h --label "c$i" >/dev/null; done
"$AUDITCTL" pubkey > "$WORK/pub"
mkdir -p "$WORK/local" "$WORK/collector"
cp "$LOG" "$WORK/collector/audit.jsonl"
[ "$(jq -r 'select(.event == "checkpoint") | .seq' "$LOG" | tr '\n' ' ')" = "11 22 " ] ||
	fail "set-up: checkpoints: $(jq -c 'select(.event == "checkpoint") | .seq' "$LOG")"

# The local file cut right after checkpoint 11: alone it verifies.
head -n 11 "$LOG" > "$WORK/local/audit.jsonl"
"$AUDITCTL" verify --pubkey "$WORK/pub" "$WORK/local/audit.jsonl" | grep -q '^no unsigned tail' ||
	fail "the cut file alone should verify"
rc=0; out=$("$AUDITCTL" --log "$WORK/local/audit.jsonl" --log "$WORK/collector/audit.jsonl" verify --pubkey "$WORK/pub") || rc=$?
[ "$rc" -eq 1 ] || fail "cut local file beside the collector's copy: exit $rc: $out"
echo "$out" | grep -q "local/audit.jsonl ends at seq 11 but .*collector/audit.jsonl, a copy of the same chain, goes on to seq 25: 14 lines missing from its end, among them the checkpoint at seq 22 (signature valid): truncated" ||
	fail "truncation at a checkpoint not reported: $out"
note "with the key: $out"
rc=0; out=$("$AUDITCTL" verify "$WORK/local/audit.jsonl" "$WORK/collector/audit.jsonl") || rc=$?
[ "$rc" -eq 1 ] && echo "$out" | grep -q 'among them the checkpoint at seq 22 (signature not checked: give --pubkey): truncated' ||
	fail "without the key: exit $rc: $out"

# A collector behind the local file by unsigned lines only: reported, but
# not as a cut at a checkpoint.
head -n 23 "$LOG" > "$WORK/collector/audit.jsonl"
cp "$LOG" "$WORK/local/audit.jsonl"
rc=0; out=$("$AUDITCTL" verify --pubkey "$WORK/pub" "$WORK/local/audit.jsonl" "$WORK/collector/audit.jsonl") || rc=$?
[ "$rc" -eq 1 ] || fail "a lagging collector: exit $rc"
echo "$out" | grep -q "collector/audit.jsonl ends at seq 23 but .*local/audit.jsonl, a copy of the same chain, goes on to seq 25: 2 lines missing from its end (truncated, or a copy not yet up to date)" ||
	fail "lagging collector: $out"
! echo "$out" | grep -q 'among them the checkpoint' || fail "a lagging collector blamed for a checkpoint: $out"
# Equal copies: ok, the signatures of the main copy reported.
cp "$LOG" "$WORK/collector/audit.jsonl"
out=$("$AUDITCTL" verify --pubkey "$WORK/pub" "$WORK/local/audit.jsonl" "$WORK/collector/audit.jsonl") ||
	fail "equal copies: $out"
echo "$out" | grep -q '^ok: 50 lines, chain intact, seq 1..25 across the files given' || fail "equal copies: $out"
echo "$out" | grep -q '^signatures: 2 checkpoints valid' || fail "equal copies: signatures: $out"
"$AGENTD" stop --all >/dev/null
