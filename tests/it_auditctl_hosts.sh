# auditctl across many hosts (DESIGN §7, §11): 20 hosts' logs from
# bench/genlog.py read at once through a glob give the answers of the
# per-host runs merged (--list --json, verify, ttl-evidence); a rotated set is
# one chain whatever the names' order; a collector's copy beside the local
# set adds nothing, and a cut-off tail or a fork between copies fails verify;
# the host falls back to the directory's name; show takes a unique id prefix
# and refuses an ambiguous one in one line; a fresh install lists nothing;
# ttl-evidence's text rows are aligned (wcwidth) and in percent.
#   HOSTS_LINES=200000 (the issue's size; bench/auditctl-hosts.sh runs it).
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
ROOT=$(cd "$TESTS/.." && pwd)
LINES=${HOSTS_LINES:-20000}
NOW=--now=2030-01-01T00:00:00Z
H=$WORK/hosts

# --- 20 hosts, one log each ----------------------------------------------------
for i in $(seq -w 1 20); do
	mkdir -p "$H/h$i"
	python3 "$ROOT/bench/genlog.py" --lines "$LINES" --seed "$i" --host "host$i" "$H/h$i/audit.jsonl" &
	[ $((10#$i % 2)) -eq 0 ] && wait
done
wait
"$AUDITCTL" --log "$H/*/audit.jsonl" --list --json $NOW > "$WORK/all.json" || fail "--list across 20 hosts failed"
for i in $(seq -w 1 20); do
	"$AUDITCTL" --log "$H/h$i/audit.jsonl" --list --json $NOW
done | jq -s -c add > "$WORK/merged.json"
jq -c . "$WORK/all.json" > "$WORK/all.c.json"
cmp -s "$WORK/all.c.json" "$WORK/merged.json" || fail "--list across hosts differs from the per-host runs merged"
[ "$(jq '[.[].host] | unique | length' "$WORK/all.json")" -eq 20 ] || fail "--list --json: not 20 hosts"
[ "$(jq 'map(select(.host == null)) | length' "$WORK/all.json")" -eq 0 ] || fail "a row without host"
note "--list --json: $(jq length "$WORK/all.json") sessions of 20 hosts, equal to the per-host runs merged"
# The table has a HOST column.
"$AUDITCTL" --log "$H/h0[12]/audit.jsonl" --list $NOW | head -n 1 | grep -q ' HOST ' || fail "no HOST column"
[ "$("$AUDITCTL" --log "$H/h0[12]/audit.jsonl" --list $NOW | awk 'NR > 1' | grep -c ' host0[12]  ')" -eq \
  "$(cat "$H/h01/audit.jsonl" "$H/h02/audit.jsonl" | grep -c '"event":"created"')" ] || fail "table rows do not name their host"

"$AUDITCTL" --log "$H/*/audit.jsonl" verify > "$WORK/verify.all" || fail "verify across hosts failed: $(tail -3 "$WORK/verify.all")"
for i in $(seq -w 1 20); do
	"$AUDITCTL" --log "$H/h$i/audit.jsonl" verify | sed "s/^/host host$i: /"
done > "$WORK/verify.merged"
echo "ok: 20 hosts, every chain intact" >> "$WORK/verify.merged"
diff "$WORK/verify.merged" "$WORK/verify.all" >&2 || fail "verify across hosts differs from the per-host runs merged"
note "verify: 20 chains, equal to the per-host runs merged"

# ttl-evidence across hosts: the figures of all sessions together.
cat "$H"/*/audit.jsonl > "$WORK/cat.jsonl"
"$AUDITCTL" --log "$H/*/audit.jsonl" ttl-evidence --json $NOW | jq -S 'del(.hosts)' > "$WORK/ev.all"
"$AUDITCTL" --log "$WORK/cat.jsonl" ttl-evidence --json $NOW 2>/dev/null | jq -S 'del(.hosts)' > "$WORK/ev.cat"
diff "$WORK/ev.cat" "$WORK/ev.all" >&2 || fail "ttl-evidence across hosts differs from all sessions together"
# Per host: the per-host runs' counts.
"$AUDITCTL" --log "$H/*/audit.jsonl" ttl-evidence --json | jq -c '.hosts | map([.host, .ended, .ran_into_ttl])' > "$WORK/ev.hosts"
for i in $(seq -w 1 20); do
	"$AUDITCTL" --log "$H/h$i/audit.jsonl" ttl-evidence --json | jq -c --arg h "host$i" '[$h, .sessions.ended, .ran_into_ttl.sessions]'
done | jq -s -c . > "$WORK/ev.hosts.merged"
cmp -s "$WORK/ev.hosts" "$WORK/ev.hosts.merged" || fail "ttl-evidence per host: $(cat "$WORK/ev.hosts") vs $(cat "$WORK/ev.hosts.merged")"
"$AUDITCTL" --log "$H/h0[12]/audit.jsonl" ttl-evidence | grep -q '^host host02  *[0-9]* ended ([0-9]* % ran into the TTL)$' || fail "ttl-evidence: no host rows"

# One tampered host: verify fails, names it, the others stay ok.
cp "$H/h07/audit.jsonl" "$WORK/h07.orig"
sed -i '100s/^{"v":1,/{"v":1, /' "$H/h07/audit.jsonl"
rc=0; "$AUDITCTL" --log "$H/*/audit.jsonl" verify > "$WORK/verify.bad" || rc=$?
[ "$rc" -eq 1 ] || fail "verify with one tampered host: exit $rc"
grep -q '^host host07: .*line 101: prev does not match' "$WORK/verify.bad" || fail "tampered host not named: $(cat "$WORK/verify.bad")"
[ "$(grep -c ': ok: ' "$WORK/verify.bad")" -eq 19 ] || fail "the other 19 hosts not ok"
grep -q '^FAILED: 1 of 20 hosts' "$WORK/verify.bad" || fail "no summary: $(tail -1 "$WORK/verify.bad")"
cp "$WORK/h07.orig" "$H/h07/audit.jsonl"

# --- a rotated set, a collector's copy ---------------------------------------
R=$WORK/rot; mkdir -p "$R/local" "$R/collector"
G=$H/h03/audit.jsonl
python3 "$TESTS/helpers/logedit.py" rotate "$G" 12000 "$R/local/audit.jsonl.1" "$R/local/audit.jsonl"
cat "$R/local/audit.jsonl.1" "$R/local/audit.jsonl" > "$R/collector/host03.jsonl"
# The glob sorts audit.jsonl first: joined by seq all the same.
out=$("$AUDITCTL" --log "$R/local/audit.jsonl*" verify) || fail "rotated set: $out"
echo "$out" | grep -q "^ok: $((LINES + 1)) lines, chain intact, seq 1..$((LINES + 1)) across the files given" || fail "rotated set: $out"
"$AUDITCTL" --log "$R/local/audit.jsonl*" --list --json $NOW | jq -c . > "$WORK/rot.json"
"$AUDITCTL" --log "$G" --list --json $NOW | jq -c . > "$WORK/one.json"
cmp -s "$WORK/rot.json" "$WORK/one.json" || fail "--list of the rotated set differs from the one file's"
# The collector's copy beside the local set: the same chain, nothing twice.
out=$("$AUDITCTL" --log "$R/local/audit.jsonl*" --log "$R/collector/host03.jsonl" verify) || fail "local + collector: $out"
"$AUDITCTL" --log "$R/local/audit.jsonl*" --log "$R/collector/*" --list --json $NOW | jq -c . > "$WORK/both.json"
cmp -s "$WORK/both.json" "$WORK/one.json" || fail "--list of local + collector lists sessions twice or differently"
# The local file cut: the collector shows lines it lacks.
head -n -25 "$R/local/audit.jsonl" > "$R/cut.jsonl"
rc=0; out=$("$AUDITCTL" --log "$R/local/audit.jsonl.1" --log "$R/cut.jsonl" --log "$R/collector/host03.jsonl" verify) || rc=$?
[ "$rc" -eq 1 ] || fail "a cut-off local file verified beside the collector's copy: $out"
echo "$out" | grep -q "cut.jsonl ends at seq $((LINES + 1 - 25)) but .*host03.jsonl, a copy of the same chain, goes on to seq $((LINES + 1)): 25 lines missing" ||
	fail "truncation not reported: $out"
note "cut-off tail: $out"
# Alone, the cut file still verifies: only the other copy shows the cut.
"$AUDITCTL" --log "$R/local/audit.jsonl.1" --log "$R/cut.jsonl" verify >/dev/null || fail "the cut set alone should verify"
# A fork: the collector's copy rewritten with recomputed hashes.
n=$(grep -n '"event":"created"' "$R/collector/host03.jsonl" | sed -n '500p' | cut -d: -f1)
python3 "$TESTS/helpers/logedit.py" fork "$R/collector/host03.jsonl" "$n" "$R/fork.jsonl"
"$AUDITCTL" --log "$R/fork.jsonl" verify >/dev/null || fail "the rewritten copy alone should verify (no key)"
rc=0; out=$("$AUDITCTL" --log "$R/local/audit.jsonl*" --log "$R/fork.jsonl" verify) || rc=$?
[ "$rc" -eq 1 ] || fail "a forked copy verified: $out"
echo "$out" | grep -q 'differ at or before seq .* (the copies fork' || fail "fork not reported: $out"

# A rotated file with no created event (sessions all older) takes the host of
# the file it continues (by seq and hash), not its directory's name.
k=$(grep -n '"event":"created"' "$G" | tail -n 1 | cut -d: -f1)
mkdir -p "$R/x" "$R/y"
python3 "$TESTS/helpers/logedit.py" rotate "$G" "$k" "$R/x/audit.jsonl.1" "$R/y/audit.jsonl"
! grep -q '"event":"created"' "$R/y/audit.jsonl" || fail "set-up: the new file has a created event"
out=$("$AUDITCTL" --log "$R/y/audit.jsonl" --log "$R/x/audit.jsonl.1" verify) || fail "rotated file without a host: $out"
echo "$out" | grep -q "^ok: $((LINES + 1)) lines, chain intact, seq 1..$((LINES + 1)) across the files given" ||
	fail "a rotated file without a host not joined to its host: $out"

# --- the host when the log names none: the directory's name ------------------
mkdir -p "$WORK/fallbackhost"
python3 "$TESTS/helpers/logedit.py" nohost "$H/h04/audit.jsonl" "$WORK/fallbackhost/audit.jsonl"
[ "$("$AUDITCTL" --log "$WORK/fallbackhost/audit.jsonl" --list --json | jq -r '[.[].host] | unique | join(",")')" = fallbackhost ] ||
	fail "no fallback to the directory's name"

# --- show: a unique prefix, an ambiguous one ---------------------------------
id=$(jq -r '.[100].session' "$WORK/all.json")
host=$(jq -r '.[100].host' "$WORK/all.json")
"$AUDITCTL" --log "$H/*/audit.jsonl" show "${id:0:12}" $NOW > "$WORK/show" || fail "show by a unique prefix failed"
grep -q "^-- $id: host $host, " "$WORK/show" || fail "show: $(tail -2 "$WORK/show")"
[ "$("$AUDITCTL" --log "$H/*/audit.jsonl" show "$id" --json | jq length)" -eq \
  "$(grep -c "\"session\":\"$id\"" "$H"/*/audit.jsonl | awk -F: '{ s += $2 } END { print s }')" ] || fail "show --json across hosts"
# Standard input is kept (a pipe read twice: fold, then the session's lines).
[ "$(cat "$H/h01/audit.jsonl" | "$AUDITCTL" --log - show "$(jq -r '.[3].session' "$WORK/all.json" | cut -c1-10)" | grep -c '^20')" -ge 2 ] ||
	fail "show from a pipe: no events"
[ "$(cat "$H/h01/audit.jsonl" | "$AUDITCTL" --log - --list --json | jq -r '.[0].host')" = host01 ] || fail "--list from a pipe: no host"
p=$(jq -r '.[].session[0:1]' "$WORK/all.json" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
rc=0; "$AUDITCTL" --log "$H/*/audit.jsonl" show "$p" > "$WORK/out" 2> "$WORK/err" || rc=$?
[ "$rc" -eq 1 ] || fail "an ambiguous prefix: exit $rc"
[ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "ambiguity is not one line: $(cat "$WORK/err")"
grep -q "^auditctl show: '$p' is ambiguous: [0-9]* sessions match: $p[0-9a-z]* (host host[0-9]*, label " "$WORK/err" ||
	fail "ambiguity message: $(cat "$WORK/err")"
note "ambiguous: $(cut -c1-120 "$WORK/err")…"

# --- a fresh install: no log yet ----------------------------------------------
mkdir -p "$WORK/fresh"
[ "$(AGENTD_DIR=$WORK/fresh "$AUDITCTL" --list --json)" = "[]" ] || fail "--list --json on a fresh install"
out=$(AGENTD_DIR=$WORK/fresh "$AUDITCTL" --list) || fail "--list on a fresh install failed"
[ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q '^SESSION ' || fail "--list on a fresh install: $out"
# A log named and missing is still an error.
! "$AUDITCTL" --log "$WORK/fresh/none.jsonl" --list >/dev/null 2>&1 || fail "a missing --log listed"
! "$AUDITCTL" --log "$WORK/fresh/*.jsonl" --list 2>"$WORK/err" >/dev/null || fail "a glob matching nothing listed"
grep -q 'no file matches' "$WORK/err" || fail "glob error: $(cat "$WORK/err")"

# --- --version ------------------------------------------------------------------
"$AUDITCTL" --version | grep -Eq '^auditctl [0-9]+\.[0-9]+' || fail "--version: $("$AUDITCTL" --version)"
"$AUDITCTL" version | grep -Eq '^auditctl [0-9]' || fail "version"
"$AUDITCTL" --help | grep -q -- '--version' || fail "--version not in the usage"

# --- ttl-evidence text: aligned, percentages ------------------------------------
python3 - "$WORK/wide.jsonl" <<'PY'
import hashlib, json, sys
rows, prev = [], "0" * 64
def emit(**o):
    global prev
    line = json.dumps(o, separators=(",", ":"), ensure_ascii=False).encode()
    rows.append(line); prev = hashlib.blake2b(line, digest_size=32).hexdigest()
seq = 0
for i, r in enumerate(["requested", "終了した理由", "ttl_expired", "ttl_expired"]):
    seq += 1
    emit(v=1, seq=seq, ts=f"2026-11-2{i}T10:00:00.000000Z", event="created", session=f"s{i}",
         label="l", host="wide", ttl_s=600, key_ttl_s=600, prev=prev)
    seq += 1
    emit(v=1, seq=seq, ts=f"2026-11-2{i}T10:05:00.000000Z", event="stopped", session=f"s{i}",
         exit_reason=r, duration_s=300, prev=prev)
open(sys.argv[1], "wb").write(b"\n".join(rows) + b"\n")
PY
"$AUDITCTL" --log "$WORK/wide.jsonl" ttl-evidence > "$WORK/ev.txt" || fail "ttl-evidence (text) failed"
python3 - "$WORK/ev.txt" <<'PY' || fail "ttl-evidence text rows not aligned"
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
rows = open(sys.argv[1], encoding="utf-8").read().split("\n\n")[0].split("\n")
cols = set()
for r in rows:
    key = r.split("  ")[0]
    rest = r[len(key):]
    cols.add(width(key) + len(rest) - len(rest.lstrip(" ")))
if len(cols) != 1:
    sys.exit(f"values start at columns {sorted(cols)}:\n" + "\n".join(rows))
PY
grep -q '^ran into the TTL  *2 sessions (50 % of the ended)$' "$WORK/ev.txt" || fail "no percentage: $(grep 'ran into' "$WORK/ev.txt")"
grep -q '^duration as % of TTL p50/p90/p99/max  *50 % / 50 % / 50 % / 50 %$' "$WORK/ev.txt" || fail "no percent of TTL: $(cat "$WORK/ev.txt")"
! grep -q 'share 0' "$WORK/ev.txt" || fail "a share instead of a percentage"
"$AUDITCTL" --log "$WORK/wide.jsonl" ttl-evidence --markdown | grep -q '^| duration as % of TTL p50/p90/p99/max | 50 % / 50 % / 50 % / 50 % |$' ||
	fail "no percent of TTL in Markdown"
note "ttl-evidence: aligned over a wide exit reason, percentages in text and Markdown"
