# auditctl on logs written by the real daemon: --list --json with every exit
# reason and exact durations, active/orphaned, show, verify against every kind
# of tampering, and ttl-evidence against a generated log with known answers.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
[ -x "$AUDITCTL" ] || fail "no auditctl binary at $AUDITCTL"
ROOT=$(cd "$TESTS/.." && pwd)

list() { "$AUDITCTL" --list --json "$@"; }
row() {	# row LABEL FIELD
	list | jq -r --arg l "$1" ".[] | select(.label == \$l) | .$2"
}
agent_of() {
	"$AGENTD" status --json | jq -r --arg l "$1" '.[] | select(.label == $l) | .agent_pid'
}

# requested, ttl_expired, agent_exited, agent_killed.
"$AGENTD" start --ttl 1h --label req >/dev/null
id=$(list | jq -r '.[] | select(.label == "req") | .session')
[ "$(row req state)" = active ] || fail "open session is not active: $(list)"
"$AGENTD" stop --session "$id" >/dev/null
"$AGENTD" start --ttl 2s --label ttl >/dev/null
"$AGENTD" start --ttl 1h --label exits >/dev/null
kill -TERM "$(agent_of exits)"
"$AGENTD" start --ttl 1h --label killed >/dev/null
kill -KILL "$(agent_of killed)"
wait_event '.event == "stopped" and .exit_reason == "ttl_expired"' 15
wait_event '.event == "crashed" and .exit_reason == "agent_exited"' 10
wait_event '.event == "crashed" and .exit_reason == "agent_killed"' 10

# supervisor_lost: the daemon dies with a session open (orphaned until the
# next start), then supervisor_shutdown at a clean stop.
"$AGENTD" start --ttl 1h --label lost >/dev/null
lost_agent=$(agent_of lost)
kill -KILL "$(cat "$AGENTD_DIR/run/agentd.pid")"
wait_gone "$lost_agent" 15 || fail "agent outlived the daemon"
flock -w 10 "$LOG" true || fail "the dead daemon still holds the log"
[ "$(row lost state)" = orphaned ] || fail "lost session not orphaned: $(list)"
[ "$(list --active | jq length)" -eq 0 ] || fail "--active lists an orphaned session"
"$AGENTD" start --ttl 1h --label shut >/dev/null
[ "$(row shut state)" = active ] || fail "new session not active"
[ "$(list --active | jq -r '.[].label')" = shut ] || fail "--active: $(list --active)"
stop_daemon

out=$(list) || fail "auditctl --list --json failed"
echo "$out" | jq -e 'type == "array" and length == 6' >/dev/null || fail "not 6 rows: $out"
for r in req:stopped:requested ttl:stopped:ttl_expired exits:crashed:agent_exited \
    killed:crashed:agent_killed lost:crashed:supervisor_lost shut:stopped:supervisor_shutdown; do
	IFS=: read -r label state reason <<-EOF
	$r
	EOF
	got=$(echo "$out" | jq -r --arg l "$label" '.[] | select(.label == $l) | "\(.state):\(.exit_reason)"')
	[ "$got" = "$state:$reason" ] || fail "$label: expected $state:$reason, got $got"
done
note "all six exit reasons listed"
# Every row agrees with the log to the second and the microsecond.
jq -s --argjson rows "$out" -e '
	[.[] | select(.event == "created")] as $c |
	[.[] | select(.event == "stopped" or .event == "crashed")] as $e |
	all($rows[]; . as $r |
		($c[] | select(.session == $r.session)) as $cr |
		($e[] | select(.session == $r.session)) as $er |
		$r.created_at == $cr.ts and $r.ended_at == $er.ts and
		$r.duration_s == $er.duration_s and $r.ttl_s == $cr.ttl_s and
		$r.exit_code == $er.exit_code and $r.signal == $er.signal and
		$r.keys_loaded == 0 and $r.signatures == 0)' "$LOG" >/dev/null ||
	fail "rows disagree with the log: $out"
[ "$(echo "$out" | jq '.[] | select(.label == "ttl") | .duration_s')" -eq 2 ] ||
	fail "a 2s TTL session did not last 2 s"
[ "$(echo "$out" | jq '.[] | select(.label == "exits") | .exit_code')" -eq 2 ] || fail "exit_code"
[ "$(echo "$out" | jq '.[] | select(.label == "killed") | .signal')" -eq 9 ] || fail "signal"
[ "$(list --label ttl | jq length)" -eq 1 ] || fail "--label"
[ "$(list --since 1h | jq length)" -eq 6 ] || fail "--since 1h"
[ "$(list --since 1h --now 2099-01-01T00:00:00Z | jq length)" -eq 0 ] || fail "--since with --now"
"$AUDITCTL" --list | grep -q '^SESSION' || fail "no table header"

# show: the session's events in order.
id=$(echo "$out" | jq -r '.[] | select(.label == "lost") | .session')
"$AUDITCTL" show "$id" | grep -q 'crashed .*exit_reason=supervisor_lost' || fail "show: $("$AUDITCTL" show "$id")"
[ "$("$AUDITCTL" show "$id" --json | jq -r 'map(.event) | join(",")')" = created,crashed ] ||
	fail "show --json: $("$AUDITCTL" show "$id" --json)"
# show TARGET (DESIGN §7): a unique id prefix, the label of one active
# session; an ended session's label names nothing; two active sessions with
# one label are ambiguous, in one line naming both.
"$AUDITCTL" show "${id:0:6}" | grep -q "^-- $id: host " || fail "show by a unique prefix"
"$AGENTD" start --ttl 1h --label twin >/dev/null
"$AUDITCTL" show twin | grep -q '^-- .*: host .*, active, ' || fail "show by an active session's label: $("$AUDITCTL" show twin 2>&1)"
! "$AUDITCTL" show req 2>"$WORK/err" >/dev/null || fail "show by an ended session's label"
grep -q "no session matches 'req'" "$WORK/err" || fail "show req: $(cat "$WORK/err")"
"$AGENTD" start --ttl 1h --label twin >/dev/null
rc=0; "$AUDITCTL" show twin 2>"$WORK/err" >/dev/null || rc=$?
[ "$rc" -eq 1 ] && [ "$(wc -l < "$WORK/err")" -eq 1 ] || fail "two active 'twin': exit $rc, $(cat "$WORK/err")"
[ "$(grep -o 'label twin' "$WORK/err" | wc -l)" -eq 2 ] || fail "ambiguity does not list both: $(cat "$WORK/err")"
for t in $("$AGENTD" status --json | jq -r '.[] | select(.label == "twin") | .session'); do
	"$AGENTD" stop --session "$t" >/dev/null
done
rc=0; "$AUDITCTL" show nosuchsession 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "show of an unknown id: exit $rc"

# Exit codes: 2 usage, 1 failure.
rc=0; "$AUDITCTL" frobnicate 2>/dev/null || rc=$?; [ "$rc" -eq 2 ] || fail "unknown verb: $rc"
rc=0; "$AUDITCTL" --list --since 3x 2>/dev/null || rc=$?; [ "$rc" -eq 2 ] || fail "bad --since: $rc"
rc=0; "$AUDITCTL" --log "$WORK/none" --list 2>"$WORK/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "$WORK/none: No such file" "$WORK/err" || fail "missing log: $rc $(cat "$WORK/err")"

# verify: the real log passes; every single tampering is caught.
"$AUDITCTL" verify | grep -q '^ok: ' || fail "verify of the real log: $("$AUDITCTL" verify)"
AUDITCTL=$AUDITCTL python3 - "$LOG" "$WORK/m.jsonl" <<'PY' || fail "verify missed a tampering"
import hashlib, json, os, subprocess, sys
src, tmp = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
lines = data.split(b"\n")[:-1]
n = len(lines)
def rejected(blob, what):
    open(tmp, "wb").write(blob)
    rc = subprocess.run([os.environ["AUDITCTL"], "--log", tmp, "verify"],
                        stdout=subprocess.PIPE).returncode
    if rc != 1:
        print(f"verify exit {rc} for {what}")
        return 0
    return 1
join = lambda ls: b"".join(l + b"\n" for l in ls)
ok = tries = 0
# Bytes of every line but the last (nothing records the last line's hash:
# an edit there is only caught when it breaks the line), ~40 spread out.
body = len(data) - len(lines[-1]) - 1
for k in range(40):
    pos = k * body // 40 + (k * 7) % 13
    blob = bytearray(data); blob[pos] ^= 0x01
    tries += 1; ok += rejected(bytes(blob), f"byte {pos} edited")
for i in range(n - 1):          # deleting the last line is a truncation
    tries += 1; ok += rejected(join(lines[:i] + lines[i + 1:]), f"line {i + 1} deleted")
for i in range(n - 1):
    tries += 1; ok += rejected(join(lines[:i] + [lines[i + 1], lines[i]] + lines[i + 2:]),
                               f"lines {i + 1},{i + 2} swapped")
for i in range(n):
    # A repeated line, and a forged one with the right seq and prev.
    tries += 1; ok += rejected(join(lines[:i + 1] + [lines[i]] + lines[i + 1:]),
                               f"line {i + 1} repeated")
    if i + 1 < n:
        o = json.loads(lines[i])
        f = dict(o); f["seq"] = o["seq"] + 1
        f["prev"] = hashlib.blake2b(lines[i], digest_size=32).hexdigest()
        forged = json.dumps(f, separators=(",", ":")).encode()
        tries += 1; ok += rejected(join(lines[:i + 1] + [forged] + lines[i + 1:]),
                                   f"line forged after {i + 1}")
# A torn tail and a wrong version are problems too.
tries += 1; ok += rejected(data[:-5], "torn tail")
o = json.loads(lines[0]); o["v"] = 2
tries += 1; ok += rejected(join([json.dumps(o, separators=(",", ":")).encode()] + lines[1:]), "v 2")
print(f"  verify caught {ok}/{tries} tamperings of a {n}-line log")
sys.exit(0 if ok == tries else 1)
PY

# ttl-evidence on a generated log gives the generator's answers exactly.
python3 "$ROOT/bench/genlog.py" --lines 20000 --seed 11 --answers "$WORK/answers.json" "$WORK/gen.jsonl"
"$AUDITCTL" --log "$WORK/gen.jsonl" verify >/dev/null || fail "generated log does not verify"
"$AUDITCTL" --log "$WORK/gen.jsonl" ttl-evidence --json >"$WORK/ev.json" || fail "ttl-evidence failed"
python3 - "$WORK/answers.json" "$WORK/ev.json" <<'PY' || fail "ttl-evidence differs from the known answers"
import json, sys
want, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = []
def cmp(w, g, path):
    if isinstance(w, dict):
        for k in w:
            cmp(w[k], g.get(k) if isinstance(g, dict) else None, path + "." + k)
    elif w != g:
        bad.append(f"{path}: want {w!r}, got {g!r}")
cmp(want, got, "")
for b in bad:
    print(b)
print(f"  ttl-evidence: {got['sessions']['ended']} sessions, answers {'match' if not bad else 'DIFFER'}")
sys.exit(1 if bad else 0)
PY
"$AUDITCTL" --log "$WORK/gen.jsonl" ttl-evidence --markdown | grep -q '^```$' || fail "no histogram in --markdown"
"$AUDITCTL" --log "$WORK/gen.jsonl" ttl-evidence --json --min-days 1000 |
	jq -e '.evidence.sufficient == false' >/dev/null || fail "--min-days"
# --list on the generated log agrees with jq on the session count and labels.
[ "$("$AUDITCTL" --log "$WORK/gen.jsonl" --list --json | jq length)" -eq \
  "$(jq -c 'select(.event == "created")' "$WORK/gen.jsonl" | wc -l)" ] || fail "--list row count"
[ "$("$AUDITCTL" --log "$WORK/gen.jsonl" --list --json --label alice | jq length)" -eq \
  "$(jq -c 'select(.event == "created" and .label == "alice")' "$WORK/gen.jsonl" | wc -l)" ] || fail "--label on the generated log"

# --- auditctl's lock probe against a starting daemon -------------------------
# auditctl asks whether a daemon holds the log with a shared lock it lets go
# at once. A daemon starting in that instant waits it out; a writer that keeps
# its lock (another daemon) is still refused, with the reason.
stop_daemon
# The subshells exec sleep, so $! is the process that holds the lock.
( exec 9<"$LOG"; flock -s 9; touch "$WORK/held"; exec sleep 0.1 ) &
fl=$!
for _ in $(seq 200); do [ -e "$WORK/held" ] && break; sleep 0.01; done
[ -e "$WORK/held" ] || fail "flock -s never took the log"
"$AGENTD" start --ttl 1m --label probe >/dev/null 2>"$WORK/probe.err" ||
	fail "a reader's brief shared lock made the start fail: $(cat "$WORK/probe.err")"
wait "$fl"
note "a start during a reader's shared lock (0.1 s) succeeds"
stop_daemon
rm -f "$WORK/held"
( exec 9<"$LOG"; flock -x 9; touch "$WORK/held"; exec sleep 30 ) &
fl=$!
for _ in $(seq 200); do [ -e "$WORK/held" ] && break; sleep 0.01; done
if "$AGENTD" start --ttl 1m --label blocked >/dev/null 2>"$WORK/blocked.err"; then
	kill "$fl"; fail "started although another writer holds the log"
fi
kill "$fl"; wait "$fl" 2>/dev/null || true
grep -q "locked by another agentd" "$WORK/blocked.err" ||
	fail "refusal does not say why: $(cat "$WORK/blocked.err")"
note "a writer's lasting lock: $(head -n 1 "$WORK/blocked.err")"
