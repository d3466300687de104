# One escaping rule for every human-readable output (DESIGN §7, lib/escape):
# sessions whose labels (and a linked command) hold every control byte, C1
# controls, bidi overrides and table/Markdown syntax, and a forged log with
# the same in ids, event names, keys and exit reasons. Every table, message
# and Markdown output of agentd and auditctl must hold no raw byte below
# 0x20 but the newline, no DEL, no C1 control, no bidi control, be valid
# UTF-8, and have one table row per session (no forged row).
. "$(dirname "$0")/lib.sh"

: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"

# check_out NAME FILE [ROWS]: FILE is safe to show; with ROWS, it is a table
# of a header and ROWS rows. Markdown tables: 3 unescaped pipes a row.
check_out() {
	python3 - "$@" <<'PY' || fail "$1: unsafe output (see above)"
import re, sys
name, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
bad = sorted({b for b in data if (b < 0x20 and b != 0x0a) or b == 0x7f})
if bad:
    sys.exit(f"{name}: raw control bytes {[hex(b) for b in bad]} in {data[:400]!r}")
try:
    text = data.decode('utf-8')
except UnicodeDecodeError as e:
    sys.exit(f"{name}: not UTF-8: {e}")
hidden = [c for c in text if 0x80 <= ord(c) <= 0x9f or 0x202a <= ord(c) <= 0x202e
          or 0x2066 <= ord(c) <= 0x2069 or ord(c) in (0x200e, 0x200f, 0x061c)]
if hidden:
    sys.exit(f"{name}: raw C1/bidi characters {[hex(ord(c)) for c in set(hidden)]}")
lines = text.split('\n')
if lines and lines[-1] == '':
    lines.pop()
if len(sys.argv) > 3 and len(lines) != 1 + int(sys.argv[3]):
    sys.exit(f"{name}: {len(lines) - 1} rows for {sys.argv[3]} sessions:\n" + text)
for l in lines:
    if l.startswith('|'):
        pipes = len(re.findall(r'(?<!\\)(?:\\\\)*\|', l))
        if pipes != 3:
            sys.exit(f"{name}: Markdown row with {pipes} cell separators: {l!r}")
PY
	note "$1: safe${3:+, $3 rows}"
}

# Every control byte but NUL (argv cannot hold it), DEL, C1 controls both
# as UTF-8 and as raw bytes, bidi overrides, and the issue's forged row.
c0=$(printf 'c0:'; for i in $(seq 1 31) 127; do printf "\\$(printf %03o "$i")"; done; printf ':end')
c1=$(printf 'c1:'; for i in $(seq 128 159); do python3 -c "import sys; sys.stdout.buffer.write(chr($i).encode())"; done
	printf '\x80\x9b\x9f raw'; printf '\xe2\x80\xae bidi \xe2\x81\xa6 | *md* [l](x) <b>')
forge=$'x\e]0;T\a\e[2J\rfake\n'
labels=("$c0" "$c1" "$forge" 'plain \x1b not an escape')

for l in "${labels[@]}"; do
	"$AGENTD" start --ttl 5m --label "$l" >/dev/null || fail "cannot start a session labelled $(printf %q "$l")"
done
n=${#labels[@]}
[ "$("$AGENTD" status --json | jq length)" -eq "$n" ] || fail "expected $n sessions"
# The labels reached the log intact (JSON escapes them; C1 as characters).
[ "$(jq -r 'select(.event == "created") | .label' "$LOG" | grep -c '^c0:')" -eq 1 ] || fail "c0 label not in the log"

"$AUDITCTL" show 'plain \x1b not an escape' | grep -q '^-- .*: host ' || fail "show LABEL of one active session"
# A linked command holding control bytes (shell_started.command).
id0=$("$AGENTD" status --json | jq -r '.[0].session')
timeout 30 "$AGENTD" shell --session "$id0" -- /bin/echo "$c0" "$c1" "$forge" </dev/null >/dev/null 2>&1 ||
	note "agentd shell exited non-zero (the command is logged all the same)"
wait_event '.event == "shell_ended"' 20
has_event '.event == "shell_started"' '.command[1] | startswith("c0:")' || fail "the command is not logged as given"
# A command that cannot be run: its name comes back in a message on the
# shell's terminal (CR LF there are the terminal's line ends).
timeout 30 "$AGENTD" shell --session "$id0" -- "$c0" </dev/null 2>&1 | tr -d '\r' > "$WORK/out" || true
grep -q 'c0:' "$WORK/out" || fail "no message naming the command: $(cat -v "$WORK/out")"
check_out "agentd shell -- COMMAND (cannot run)" "$WORK/out"

"$AGENTD" status > "$WORK/status" || fail "agentd status failed"
check_out "agentd status" "$WORK/status" "$n"
"$AUDITCTL" --list > "$WORK/list" || fail "auditctl --list failed"
check_out "auditctl --list (active)" "$WORK/list" "$n"
"$AUDITCTL" --list --label "$forge" > "$WORK/list1"
check_out "auditctl --list --label" "$WORK/list1" 1
for id in $("$AGENTD" status --json | jq -r '.[].session'); do
	"$AUDITCTL" show "$id" > "$WORK/show"
	check_out "auditctl show $id" "$WORK/show"
done

# JSON stays JSON (the same labels come out of jq), with DEL, C1 and bidi
# characters as \u escapes.
"$AGENTD" status --json > "$WORK/json"
check_out "agentd status --json" "$WORK/json"
"$AUDITCTL" --list --json > "$WORK/json2"
check_out "auditctl --list --json" "$WORK/json2"
"$AUDITCTL" show --json "$id0" > "$WORK/json3"
check_out "auditctl show --json" "$WORK/json3"
want=$(jq -r 'select(.event == "created") | .label' "$LOG" | sort)
[ "$(jq -r '.[].label' "$WORK/json" | sort)" = "$want" ] || fail "status --json changed the labels"
[ "$(jq -r '.[].label' "$WORK/json2" | sort)" = "$want" ] || fail "--list --json changed the labels"
[ "$(jq -r '.[] | select(.event == "created") | .label' "$WORK/json3")" = "$(jq -r --arg s "$id0" 'select(.event == "created" and .session == $s) | .label' "$LOG")" ] ||
	fail "show --json changed the label"

# Messages that name a label or an argument.
for l in "${labels[@]}"; do
	"$AGENTD" stop --session "$l-none" 2> "$WORK/err" && fail "stop of a label of no session succeeded"
	check_out "agentd stop --session LABEL (error)" "$WORK/err"
	grep -q 'no active session' "$WORK/err" || fail "stop: $(cat -v "$WORK/err")"
	"$AGENTD" add --session "$l-none" /dev/null 2> "$WORK/err" && fail "add to a bad session succeeded"
	check_out "agentd add --session LABEL (error)" "$WORK/err"
	# A label names its one active session (DESIGN §7): shown, safely
	# (a label with bytes that are not UTF-8 is logged changed: no match).
	if "$AUDITCTL" show "$l" > "$WORK/out" 2> "$WORK/err"; then
		check_out "auditctl show LABEL" "$WORK/out"
	else
		check_out "auditctl show LABEL (error)" "$WORK/err"
	fi
	"$AUDITCTL" show "${l:0:40}+" > "$WORK/out" 2> "$WORK/err" && fail "show of an unknown word succeeded"
	check_out "auditctl show WORD (error)" "$WORK/err"
	"$AGENTD" "$l" 2> "$WORK/err" && fail "agentd LABEL succeeded"
	check_out "agentd LABEL (unknown verb)" "$WORK/err"
	"$AUDITCTL" "$l" 2> "$WORK/err" && fail "auditctl LABEL succeeded"
	check_out "auditctl LABEL (unknown verb)" "$WORK/err"
	"$AUDITCTL" --list "--$l" 2> "$WORK/err" && fail "auditctl --list --LABEL succeeded"
	check_out "auditctl --list --LABEL (unknown option)" "$WORK/err"
	"$AUDITCTL" --log "$WORK/$l" --list > "$WORK/out" 2> "$WORK/err" && fail "--list of a missing log succeeded"
	check_out "auditctl --log MISSING (error)" "$WORK/err"
	"$AGENTD" start --ttl "$l" 2> "$WORK/err" && fail "start --ttl LABEL succeeded"
	check_out "agentd start --ttl LABEL (usage error)" "$WORK/err"
done

# A label names one active session (DESIGN §7); two with the same hostile
# label: the ambiguity is one escaped line listing both.
"$AGENTD" start --ttl 5m --label "$forge" >/dev/null || fail "start of a second forged label"
n=$((n + 1))
"$AGENTD" stop --session "$forge" 2> "$WORK/err" && fail "stop of an ambiguous label succeeded"
check_out "agentd stop --session LABEL (ambiguous)" "$WORK/err" 0
grep -q 'ambiguous' "$WORK/err" || fail "ambiguous: $(cat -v "$WORK/err")"
"$AGENTD" stop --session "$c0" > "$WORK/out" 2> "$WORK/err" || fail "stop --session LABEL: $(cat -v "$WORK/err")"
check_out "agentd stop --session LABEL" "$WORK/out"
"$AGENTD" stop --all > "$WORK/stopped" || fail "stop --all failed"
check_out "agentd stop --all" "$WORK/stopped"
"$AUDITCTL" --list > "$WORK/list" || fail "auditctl --list failed"
check_out "auditctl --list (ended)" "$WORK/list" "$n"
"$AUDITCTL" ttl-evidence > "$WORK/ev"
check_out "auditctl ttl-evidence" "$WORK/ev"
"$AUDITCTL" ttl-evidence --markdown > "$WORK/md"
check_out "auditctl ttl-evidence --markdown" "$WORK/md"
"$AUDITCTL" verify > "$WORK/verify" || fail "verify failed: $(cat "$WORK/verify")"
check_out "auditctl verify" "$WORK/verify"

# A forged log (a review works on copies: auditctl reads any file) with
# control bytes where the daemon never puts them: session ids, event names,
# field names, exit reasons. Hash-chained, so verify walks all of it.
python3 - "$WORK/forged.jsonl" <<'PY'
import hashlib, json, sys
ctl = ''.join(chr(i) for i in range(1, 32)) + '\x7f' + ''.join(chr(i) for i in range(0x80, 0xa0)) + '\u202e|'
rows, prev, seq = [], '0' * 64, 0
def emit(event, session, ts, **fields):
    global prev, seq
    seq += 1
    obj = {'v': 1, 'seq': seq, 'ts': ts, 'event': event, 'session': session, **fields, 'prev': prev}
    line = json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode('utf-8', 'surrogatepass')
    prev = hashlib.blake2b(line, digest_size=32).hexdigest()
    rows.append(line)
ids = ['s1\x1b[2J\r\nfake', 'plain2', 's3|x\u202e']
for i, s in enumerate(ids):
    emit('created', s, f'2026-11-2{i}T10:00:00.000000Z', label='L' + ctl, ttl_s=600, key_ttl_s=600)
emit('odd\x1b]0;T\x07|' + ctl, 'plain2', '2026-11-22T10:00:01.000000Z', **{'k\x07|' + ctl: 'v' + ctl})
for i, s in enumerate(ids):
    emit('stopped', s, f'2026-11-2{i}T10:05:00.000000Z', exit_reason='r' + ctl + str(i % 2), duration_s=300)
open(sys.argv[1], 'wb').write(b'\n'.join(rows) + b'\n')
PY
F=$WORK/forged.jsonl
"$AUDITCTL" --log "$F" --list > "$WORK/out" 2> "$WORK/err" || fail "--list of the forged log failed: $(cat -v "$WORK/err")"
check_out "auditctl --list (forged log)" "$WORK/out" 3
check_out "auditctl --list (forged log, stderr)" "$WORK/err"
for id in 's1' 'plain2' 's3'; do
	full=$(jq -r --arg p "$id" 'select(.event == "created" and (.session | startswith($p))) | .session' "$F")
	"$AUDITCTL" --log "$F" show "$full" > "$WORK/out" || fail "show of a forged id failed"
	check_out "auditctl show (forged log, $id)" "$WORK/out"
done
"$AUDITCTL" --log "$F" ttl-evidence --min-days 0 --min-sessions 0 > "$WORK/out"
check_out "auditctl ttl-evidence (forged log)" "$WORK/out"
"$AUDITCTL" --log "$F" ttl-evidence --markdown > "$WORK/out"
check_out "auditctl ttl-evidence --markdown (forged log)" "$WORK/out"
grep -q '^| exit_reason ' "$WORK/out" || fail "no exit_reason rows in --markdown"
"$AUDITCTL" --log "$F" verify > "$WORK/out" 2> "$WORK/err" || fail "verify of the forged (well-chained) log failed: $(cat -v "$WORK/out")"
check_out "auditctl verify (forged log)" "$WORK/out"
# A broken line: verify's message quotes log text and names the path.
cp "$F" "$WORK/$forge.jsonl"
python3 - "$WORK/$forge.jsonl" <<'PY'
import sys
p = sys.argv[1]; lines = open(p, 'rb').read().split(b'\n')
lines[2] = lines[2].replace(b'"ts":"2026-11-22T10:00:00.000000Z"', b'"ts":"2026-11-22T10:00:00Z\\u001b[2J"')
open(p, 'wb').write(b'\n'.join(lines))
PY
"$AUDITCTL" --log "$WORK/$forge.jsonl" verify > "$WORK/out" 2> "$WORK/err" && fail "verify passed a changed line"
check_out "auditctl verify (broken forged log)" "$WORK/out"
check_out "auditctl verify (broken forged log, stderr)" "$WORK/err"
"$AUDITCTL" --log "$WORK/$forge.jsonl" --list > "$WORK/out" 2> "$WORK/err"
check_out "auditctl --list (broken forged log, warnings)" "$WORK/err"
