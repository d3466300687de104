# Wall-clock steps (DESIGN §4): the daemon runs under an LD_PRELOAD shim
# (tests/helpers/clockshim.c) whose offset the test rewrites: -1 h, then
# +2 h. Durations are measured on CLOCK_BOOTTIME (an 8 s session logs about
# 8 s, never more than its TTL), `auditctl verify` passes and warns about
# each step (its seq and size), --list and ttl-evidence take the logged
# duration_s, and a session lost with its daemon is measured on
# CLOCK_BOOTTIME when the boot is the same (boot_id and boottime_ms in
# created).
. "$(dirname "$0")/lib.sh"

: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"
SHIM=$WORK/clockshim.so
OFF=$WORK/offset
cc -shared -fPIC -o "$SHIM" "$TESTS/helpers/clockshim.c" -ldl ||
	fail "cannot build the clock shim"
echo 0 > "$OFF"
# The shim must see the daemon that `agentd start` autostarts; an ASan build
# wants its runtime first in the library list, the shim comes before it.
export CLOCKSHIM_FILE=$OFF
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
shimmed() { LD_PRELOAD=$SHIM "$@"; }

# The shim works: a shimmed `date` runs an hour ahead.
echo 3600 > "$OFF"
d=$(( $(shimmed date +%s) - $(date +%s) ))
[ "$d" -ge 3590 ] && [ "$d" -le 3610 ] || fail "the clock shim does not step the clock ($d)"
echo 0 > "$OFF"

id_of() { "$AGENTD" status --json | jq -r --arg l "$1" '.[] | select(.label == $l) | .session'; }

shimmed "$AGENTD" start --ttl 1m --label eight >/dev/null
t0=$(date +%s)
a=$(id_of eight)
[ -n "$a" ] || fail "session eight did not start"
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
grep -q "$SHIM" "/proc/$daemon/maps" || fail "the daemon does not run under the shim"

# -1 h: the next event's ts goes backwards.
echo -3600 > "$OFF"
"$AGENTD" start --ttl 1m --label back >/dev/null
b=$(id_of back)
back_seq=$(jq -r --arg s "$b" 'select(.event == "created" and .session == $s) | .seq' "$LOG")

# +2 h, then stop once about 8 s have passed since the first start.
echo 7200 > "$OFF"
while [ $(( $(date +%s) - t0 )) -lt 8 ]; do sleep 0.2; done
"$AGENTD" stop --session "$a" >/dev/null
"$AGENTD" stop --session "$b" >/dev/null
da=$(jq -r --arg s "$a" 'select(.event == "stopped" and .session == $s) | .duration_s' "$LOG")
db=$(jq -r --arg s "$b" 'select(.event == "stopped" and .session == $s) | .duration_s' "$LOG")
note "8 s session across -1 h/+2 h steps: duration_s $da (back: $db)"
[ "$da" -ge 7 ] && [ "$da" -le 20 ] || fail "duration_s $da for an 8 s session (wall clock, not CLOCK_BOOTTIME?)"
[ "$db" -le 20 ] || fail "duration_s $db for a session of a few seconds"

# A session lost with its daemon, found at the next start 2 h later (by
# the wall clock): measured on CLOCK_BOOTTIME, not by ts (which says 2 h,
# capped at the TTL, 1 h).
"$AGENTD" start --ttl 1h --label lost >/dev/null
c=$(id_of lost)
has_event ".event == \"created\" and .session == \"$c\"" '(.boottime_ms | type) == "number" and (.boot_id | length) > 0' ||
	fail "created has no boottime_ms / boot_id"
agent=$("$AGENTD" status --json | jq -r '.[] | select(.label == "lost") | .agent_pid')
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")
kill -KILL "$daemon"
flock -w 20 "$AGENTD_DIR/run/agentd.pid" true
wait_gone "$agent" 15 || fail "ssh-agent outlived its killed daemon"
echo 14400 > "$OFF"
shimmed "$AGENTD" start --ttl 1m --label after >/dev/null
dc=$(jq -r --arg s "$c" 'select(.event == "crashed" and .session == $s) | .duration_s' "$LOG")
note "lost session found 2 h later by the wall clock: duration_s $dc"
[ -n "$dc" ] && [ "$dc" -le 60 ] || fail "supervisor_lost duration_s $dc (by ts, not CLOCK_BOOTTIME)"
"$AGENTD" stop --all >/dev/null

# verify: passes, and names each step.
out=$("$AUDITCTL" verify 2>"$WORK/verify.err") || fail "verify failed on a stepped clock: $out $(cat "$WORK/verify.err")"
note "verify: $out"
sed 's/^/    /' "$WORK/verify.err"
echo "$out" | grep -q '^ok: .*wall-clock step' || fail "verify does not mention the steps: $out"
grep -q "clock stepped back by 1h.* at seq $back_seq " "$WORK/verify.err" ||
	fail "verify does not name the 1 h step back at seq $back_seq"
grep -q "clock stepped forward by about 2h.*session $a" "$WORK/verify.err" ||
	fail "verify does not name the +2 h step during session $a"
verify_chain >/dev/null

# The folds take the logged duration_s, never the ts difference (2 h).
d=$("$AUDITCTL" --list --json | jq -r --arg s "$a" '.[] | select(.session == $s) | .duration_s')
[ "$d" = "$da" ] || fail "--list duration_s $d, the log says $da"
max=$("$AUDITCTL" ttl-evidence --json | jq -r '.duration_s.max')
[ "$max" -le 3600 ] || fail "ttl-evidence: longest duration $max s on sessions of at most 1 h"
"$AUDITCTL" --list | grep "$a" | grep -qE " (7|8|9|1[0-9]|20)s " ||
	fail "--list table: $("$AUDITCTL" --list | grep "$a")"
