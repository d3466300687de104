# Signed checkpoints (DESIGN §11), the daemon's side: the key is made at
# first start in S/signing (0700) / key (0600) and refused when unsafe; a
# checkpoint comes after exactly 1000 unsigned events, after the interval
# with activity, into the old file before a rotation, at start after a crash
# and at clean shutdown; every signature checks with auditctl verify --pubkey
# and, independently, with Python's cryptography; the key never shows up in
# the log, the daemon's log or any output.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
TAMPER="python3 $TESTS/helpers/chain_tamper.py"
last_event() { tail -n 1 "$1" | jq -r .event; }

# --- the key -----------------------------------------------------------------
"$AGENTD" serve --checkpoint-interval 1h
[ "$(stat -c %a "$AGENTD_DIR/signing")" = 700 ] || fail "signing dir not 0700"
[ "$(stat -c %a "$AGENTD_DIR/signing/key")" = 600 ] || fail "key not 0600"
[ "$(ls -A "$AGENTD_DIR/signing")" = key ] || fail "stray files in signing/: $(ls -A "$AGENTD_DIR/signing")"
"$AUDITCTL" pubkey > "$WORK/pub" || fail "auditctl pubkey"
grep -qE '^agentd-ed25519 [A-Za-z0-9+/]{43}= [0-9a-f]{16}$' "$WORK/pub" || fail "pubkey format: $(cat "$WORK/pub")"
kid=$(awk '{ print $3 }' "$WORK/pub")
grep -q "new signing key $kid" "$AGENTD_DIR/agentd.log" || fail "no note of the new key in agentd.log"
seed=$(awk '{ print $2 }' "$AGENTD_DIR/signing/key")

# --- a few events: nothing signed yet (interval 1h, far from 1000) ------------
for i in 1 2 3; do "$AGENTD" start --ttl 1h --label "s$i" >/dev/null; done
"$AGENTD" stop --all >/dev/null
[ "$(count_events '.event == "checkpoint"')" -eq 0 ] || fail "checkpoint before it was due"
rc=0; out=$("$AUDITCTL" verify --pubkey "$WORK/pub") || rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q 'no checkpoint: nothing in the log is signed' ||
	fail "a log without checkpoints passed verify --pubkey ($rc): $out"
"$AUDITCTL" verify | grep -q '^signatures not checked: 0 checkpoints' || fail "verify without a key must say it did not check"

# --- rotation: the old file ends with a checkpoint ----------------------------
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
kill -HUP "$daemon"
"$AGENTD" status >/dev/null
[ "$(count_events '.event == "checkpoint"')" -eq 0 ] || fail "a HUP without a move wrote a checkpoint"
mv "$LOG" "$AGENTD_DIR/audit.1.jsonl"
kill -HUP "$daemon"
wait_event '.event == "log_rotated"' 10
[ "$(last_event "$AGENTD_DIR/audit.1.jsonl")" = checkpoint ] || fail "rotated file does not end with a checkpoint"
"$AUDITCTL" verify --pubkey "$WORK/pub" "$AGENTD_DIR/audit.1.jsonl" | grep -q '^no unsigned tail' ||
	fail "rotated file alone: $("$AUDITCTL" verify --pubkey "$WORK/pub" "$AGENTD_DIR/audit.1.jsonl")"

# --- exactly 1000 unsigned lines, then a checkpoint ---------------------------
eval "$("$AGENTD" start --ttl 1h --label signer)" >/dev/null
newkey k
ssh-add "$WORK/k" 2>/dev/null || fail "ssh-add"
$TAMPER signs "$SSH_AUTH_SOCK" 1100 || fail "1100 signatures through the relay"
[ "$(count_events '.event == "key_used"')" -eq 1100 ] || fail "expected 1100 key_used"
ck=$(jq -r 'select(.event == "checkpoint") | .seq' "$LOG" | head -n 1)
[ -n "$ck" ] || fail "no checkpoint after 1100 events"
first=$(head -n 1 "$LOG" | jq .seq)
[ "$((ck - first))" -eq 1000 ] || fail "checkpoint at seq $ck, $((ck - first)) lines after the file's first (want 1000)"
# Every run of unsigned lines, across both files, is at most 1000 long.
runs=$(cat "$AGENTD_DIR/audit.1.jsonl" "$LOG" | jq -r .event | awk '$1 == "checkpoint" { if (n > m) m = n; n = 0; next } { n++ } END { if (n > m) m = n; print m }')
[ "$runs" -le 1000 ] || fail "an unsigned run of $runs lines"
"$AGENTD" stop --all >/dev/null

# --- clean shutdown signs the tail ---------------------------------------------
stop_daemon
[ "$(last_event "$LOG")" = checkpoint ] || fail "log does not end with a checkpoint after SIGTERM: $(tail -n 1 "$LOG")"
out=$("$AUDITCTL" verify --pubkey "$WORK/pub" "$AGENTD_DIR/audit.1.jsonl" "$LOG") || fail "verify --pubkey: $out"
echo "$out" | grep -q "^signatures: [0-9]* checkpoints valid (key $kid" || fail "verify --pubkey output: $out"
echo "$out" | grep -q '^no unsigned tail' || fail "unsigned tail after shutdown: $out"
n=$($TAMPER sigs "$WORK/pub" "$AGENTD_DIR/audit.1.jsonl" "$LOG") || fail "an independent signature check failed"
[ "$n" -ge 3 ] || fail "only $n checkpoints checked independently"
note "$n checkpoints verified independently (Python cryptography)"

# --- the interval: a checkpoint within it after activity ------------------------
"$AGENTD" serve --checkpoint-interval 1s
before=$(count_events '.event == "checkpoint"')
"$AGENTD" start --ttl 1h --label tick >/dev/null
i=0; until [ "$(count_events '.event == "checkpoint"')" -gt "$before" ]; do
	i=$((i + 1)); [ $i -le 200 ] || fail "no checkpoint 10 s after activity (interval 1s)"; sleep 0.05
done
[ "$(last_event "$LOG")" = checkpoint ] || fail "interval checkpoint is not after the activity"
# Quiet: no more checkpoints without new lines.
n1=$(wc -l < "$LOG"); sleep 2.5; [ "$(wc -l < "$LOG")" -eq "$n1" ] || fail "checkpoints without activity"

# --- a crash leaves a tail; the next start signs it first ----------------------
stop_daemon
"$AGENTD" serve --checkpoint-interval 1h
"$AGENTD" start --ttl 1h --label crash >/dev/null
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
kill -KILL "$daemon"
flock -w 10 "$AGENTD_DIR/run/agentd.pid" true
tailseq=$(tail -n 1 "$LOG" | jq .seq)
[ "$(last_event "$LOG")" != checkpoint ] || fail "expected an unsigned tail after the crash"
rc=0; out=$("$AUDITCTL" verify --pubkey "$WORK/pub" "$AGENTD_DIR/audit.1.jsonl" "$LOG") || rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "^unsigned tail: 1 line after the last checkpoint (seq $tailseq..$tailseq)" ||
	fail "crash tail not reported ($rc): $out"
"$AGENTD" serve --checkpoint-interval 1h
[ "$(jq -c "select(.seq == $((tailseq + 1)))" "$LOG" | jq -r .event)" = checkpoint ] ||
	fail "first line after the restart is not a checkpoint"
stop_daemon

# --- unsafe keys are refused, untouched -----------------------------------------
chmod 640 "$AGENTD_DIR/signing/key"
rc=0; err=$("$AGENTD" serve 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "signing/key: mode 0640" || fail "key mode 0640 accepted ($rc): $err"
[ "$(stat -c %a "$AGENTD_DIR/signing/key")" = 640 ] || fail "key chmod'ed"
rc=0; "$AUDITCTL" pubkey >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "auditctl pubkey read a 0640 key"
chmod 600 "$AGENTD_DIR/signing/key"
chmod 755 "$AGENTD_DIR/signing"
rc=0; err=$("$AGENTD" serve 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "signing" || fail "signing dir 0755 accepted ($rc): $err"
chmod 700 "$AGENTD_DIR/signing"
mv "$AGENTD_DIR/signing/key" "$WORK/key.real"
ln -s "$WORK/key.real" "$AGENTD_DIR/signing/key"
rc=0; err=$("$AGENTD" serve 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "symbolic link" || fail "symlinked key accepted ($rc): $err"
rm "$AGENTD_DIR/signing/key"; mv "$WORK/key.real" "$AGENTD_DIR/signing/key"
printf 'agentd-ed25519-secret short\n' > "$WORK/bad.key"; chmod 600 "$WORK/bad.key"
rc=0; err=$("$AGENTD" serve --signing-key "$WORK/bad.key" 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "not an agentd signing key" || fail "bad key file accepted ($rc): $err"
rc=0; "$AGENTD" serve --signing-key rel.key 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "relative --signing-key: exit $rc, want 2"

# --- serve --signing-key F: made there, used, printed by pubkey --key -----------
"$AGENTD" serve --signing-key "$WORK/elsewhere.key" --checkpoint-interval 1h
[ "$(stat -c %a "$WORK/elsewhere.key")" = 600 ] || fail "--signing-key file not 0600"
"$AUDITCTL" pubkey --key "$WORK/elsewhere.key" > "$WORK/pub2"
[ "$(awk '{ print $3 }' "$WORK/pub2")" != "$kid" ] || fail "the other key has the same id"
"$AGENTD" start --ttl 1h --label other >/dev/null
stop_daemon
rc=0; out=$("$AUDITCTL" verify --pubkey "$WORK/pub" "$AGENTD_DIR/audit.1.jsonl" "$LOG") || rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q 'signed by another key' || fail "checkpoint of another key accepted ($rc): $out"
"$AUDITCTL" verify --pubkey "$WORK/pub2" "$LOG" >/dev/null 2>&1 && fail "old checkpoints accepted under the new key"

# --- the secret never leaves the key file ---------------------------------------
seed2=$(awk '{ print $2 }' "$WORK/elsewhere.key")
for s in "$seed" "$seed2"; do
	grep -rqF -- "$s" "$AGENTD_DIR/agentd.log" "$LOG" "$AGENTD_DIR/audit.1.jsonl" "$WORK/pub" "$WORK/pub2" &&
		fail "the secret key is in a log or an output"
	"$AUDITCTL" verify --pubkey "$WORK/pub" "$LOG" 2>&1 | grep -qF -- "$s" && fail "secret in verify output"
done
true
