# auditctl report (DESIGN §12) on a log written by the real daemon, opened in
# headless Chromium (tests/helpers/cdp.py, DevTools protocol on a pipe): no
# console error, no CSP violation, no network request; one table row per
# session; the labels made of markup stay text (no dialog, no element); a
# recorded shell plays in the page and shows its output after a seek; and the
# same for a copy of the log with its recordings found by --recordings. The
# recording's own output holds markup too: it stays terminal text.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
command -v chromium >/dev/null || fail "no chromium (scripts/deps.sh installs it)"
CDP="python3 $TESTS/helpers/cdp.py"
ROOT=$(cd "$TESTS/.." && pwd)

lab1='<script>alert(1)</script>'
lab2='"><img src=x onerror=alert(1)>'
lab3='</script><!-- x'
eval "$("$AGENTD" start --ttl 20m --label it-report)" >/dev/null
newkey k
"$AGENTD" add "$WORK/k" >/dev/null 2>&1 || fail "add"
echo payload >"$WORK/msg"
ssh-keygen -Y sign -f "$WORK/k.pub" -n file "$WORK/msg" 2>/dev/null || fail "sign"
"$AGENTD" shell -t -- sh -c 'echo report-cast-marker-4711; echo "</script><img src=x onerror=alert(2)>"' \
	</dev/null >"$WORK/shell.out" 2>&1 || fail "shell: $(cat "$WORK/shell.out")"
grep -q report-cast-marker-4711 "$WORK/shell.out" || fail "shell output: $(cat "$WORK/shell.out")"
"$AGENTD" stop >/dev/null
for l in "$lab1" "$lab2" "$lab3"; do
	"$AGENTD" start --ttl 10m --label "$l" >/dev/null
done
"$AGENTD" stop --all >/dev/null
stop_daemon
n=$(jq -s '[.[] | select(.event == "created")] | length' "$LOG")
[ "$n" -eq 4 ] || fail "expected 4 sessions in the log, got $n"

rc=0; "$AUDITCTL" --log "$LOG" report -o "$WORK/r.html" 2>"$WORK/err" || rc=$?
[ $rc -eq 0 ] || fail "report: rc $rc: $(cat "$WORK/err")"
grep -q "chain ok" "$WORK/err" || fail "report does not say the chain is ok: $(cat "$WORK/err")"
# The raw markup never reaches the file outside the player's own code.
grep -F -q "$lab1" "$WORK/r.html" && fail "label 1 written raw"
grep -F -q '<img src=x' "$WORK/r.html" && fail "label 2 written raw"
grep -F -q '</script><!--' "$WORK/r.html" && fail "label 3 written raw"
grep -q 'Content-Security-Policy" content="default-src '"'none'" "$WORK/r.html" ||
	fail "no strict CSP"
out=$($CDP check "$WORK/r.html" --rows 4 --literal "$lab1" --literal "$lab2" \
	--literal "$lab3" --label-cast it-report --cast-text report-cast-marker-4711 \
	--cast-text '</script><img src=x onerror=alert(2)>' \
	--filter it-report --filter-rows 1 ${REPORT_SCREENSHOT:+--screenshot "$REPORT_SCREENSHOT"} 2>&1) ||
	fail "in Chromium: $out"
note "report opens clean in Chromium: 4 rows, labels as text, the recording plays"

# A copy elsewhere: recordings are found beside the log, or with --recordings.
mkdir -p "$WORK/copy/recs"
cp "$LOG" "$WORK/copy/audit.jsonl"
cp -r "$AGENTD_DIR/recordings/." "$WORK/copy/recs/"
"$AUDITCTL" --log "$WORK/copy/audit.jsonl" report -o "$WORK/c1.html" 2>/dev/null ||
	fail "report on a copy"
grep -q '"embedded":false' "$WORK/c1.html" || fail "a missing recording is not noted"
"$AUDITCTL" --log "$WORK/copy/audit.jsonl" report --recordings "$WORK/copy/recs" \
	-o "$WORK/c2.html" 2>/dev/null || fail "report --recordings"
$CDP check "$WORK/c2.html" --rows 4 --label-cast it-report \
	--cast-text report-cast-marker-4711 >"$WORK/cdp2" 2>&1 ||
	fail "copy with --recordings: $(cat "$WORK/cdp2")"
note "a copied log finds its recordings with --recordings"

# --since keeps sessions created since; a tampered log still gives a report,
# which says so, and auditctl exits 1.
"$AUDITCTL" --log "$LOG" report --now 2099-01-01T00:00:00Z --since 1h \
	-o "$WORK/s.html" 2>/dev/null || fail "report --since"
$CDP check "$WORK/s.html" --rows 0 >"$WORK/cdp3" 2>&1 || fail "--since: $(cat "$WORK/cdp3")"
sed 's/"label":"it-report"/"label":"it-rep0rt"/' "$LOG" >"$WORK/bad.jsonl"
rc=0; "$AUDITCTL" --log "$WORK/bad.jsonl" report -o "$WORK/b.html" 2>/dev/null || rc=$?
[ $rc -eq 1 ] || fail "tampered log: rc $rc, expected 1"
grep -q 'class="bad"' "$WORK/b.html" && grep -q "prev does not match" "$WORK/b.html" ||
	fail "tampered log: the report does not show the broken chain"
# A generated log (bench/genlog.py): sessions of every length, sorted and
# filtered in the page.
python3 "$ROOT/bench/genlog.py" --lines 400 "$WORK/gen.jsonl"
"$AUDITCTL" --log "$WORK/gen.jsonl" report -o "$WORK/g.html" 2>/dev/null || fail "report on genlog"
n=$(jq -s '[.[] | select(.event == "created")] | length' "$WORK/gen.jsonl")
m=$(jq -s '[.[] | select(.event == "created" and .label == "review-bot")] | length' "$WORK/gen.jsonl")
$CDP check "$WORK/g.html" --rows "$n" --filter review-bot --filter-rows "$m" >"$WORK/cdp4" 2>&1 ||
	fail "generated log: $(cat "$WORK/cdp4")"
rc=0; "$AUDITCTL" --log "$LOG" report 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "no -o: rc $rc, expected 2"
rc=0; "$AUDITCTL" --log - report -o "$WORK/x.html" <"$LOG" 2>/dev/null || rc=$?
[ $rc -eq 2 ] || fail "log on stdin: rc $rc, expected 2 (it is read twice)"
"$AUDITCTL" --log "$LOG" report -o - 2>/dev/null | grep -q 'id="sessions-table"' ||
	fail "-o - does not write the page to stdout"
note "--since, a broken chain (exit 1), usage (exit 2), -o -"
