# 50 concurrent `agentd start` (the first one starts the daemon): 50 distinct
# 0700 directories, 50 created events, seq without gaps, chain intact.
. "$(dirname "$0")/lib.sh"

pids=
for i in $(seq 1 50); do
	"$AGENTD" start --ttl 10m --label "c$i" --json >"$WORK/out.$i" 2>"$WORK/err.$i" &
	pids="$pids $!"
done
failed=0
for p in $pids; do wait "$p" || failed=$((failed + 1)); done
[ $failed -eq 0 ] || fail "$failed starts failed: $(cat "$WORK"/err.* | sort | uniq -c)"
ids=$(cat "$WORK"/out.* | jq -r .session | sort -u)
[ "$(echo "$ids" | wc -l)" -eq 50 ] || fail "expected 50 distinct sessions"
for id in $ids; do
	d=$AGENTD_DIR/run/sessions/$id
	[ "$(stat -c '%a %U' "$d")" = "700 $(id -un)" ] || fail "$d: $(stat -c '%a %U' "$d")"
done
[ "$(count_events '.event == "created"')" -eq 50 ] || fail "expected 50 created events"
[ "$(jq -r .session "$LOG" | sort -u | wc -l)" -eq 50 ] || fail "created events not distinct"
verify_chain >/dev/null
"$AGENTD" stop --all | grep -c '^stopped ' | grep -qx 50 || fail "stop --all did not stop 50"
[ "$(count_events '.event == "stopped" and .exit_reason == "requested"')" -eq 50 ] || fail "expected 50 stopped"
# Only the spare agent started ahead for the next start may remain.
spares=$(spare_ids)
[ -z "$(ls "$AGENTD_DIR/run/sessions" | grep -vxF "${spares:-none}")" ] || fail "session directories left behind"
[ "$(echo "$spares" | grep -c .)" -le 1 ] || fail "more than one spare: $spares"
verify_chain >/dev/null

# A status of 300 sessions is larger than a request may be (64 KiB): it must
# still arrive whole, not pass for "not running".
seq 1 300 | xargs -P 8 -I{} "$AGENTD" start --ttl 10m --label "many{}" >/dev/null
[ "$("$AGENTD" status --json | jq length)" -eq 300 ] || fail "status does not list 300 sessions"
"$AGENTD" status | grep -c many | grep -qx 300 || fail "status table does not list 300 sessions"
[ "$("$AGENTD" stop --all | wc -l)" -eq 300 ] || fail "stop --all did not report 300"
verify_chain >/dev/null
