# Daily use (issue 16, agentd side): --version, OpenSSH durations and the TTL
# cap said on stderr, option errors as "agentd VERB: ..." (exit 2), session
# targets by id prefix or label (ambiguity listed on one line), keys_held,
# agentd inside a linked shell reaching its own daemon (AGENTD_DIR and XDG
# roots), agentd kill / -k and stop printing the unsets for eval, 126 vs
# 127, lifetime_asked_s, the shell's recording and end lines, stop saying
# what it waits for, and make demo | head cleaning up.
. "$(dirname "$0")/lib.sh"

PTY=$TESTS/helpers/pty-run.py
expect() {	# expect CODE PATTERN CMD...: exit CODE, stderr matches PATTERN
	local code=$1 pat=$2 rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ $rc -eq "$code" ] || fail "$*: exit $rc, expected $code ($err)"
	echo "$err" | head -n 1 | grep -q -- "$pat" || fail "$*: first line lacks '$pat': $err"
}

# --- version ----------------------------------------------------------------
want=$(sed -n 's/^#define AGENTD_VERSION[[:space:]]*"\(.*\)"/\1/p' "$TESTS/../lib/version.h")
[ -n "$want" ] || fail "no AGENTD_VERSION in lib/version.h"
[ "$("$AGENTD" --version)" = "agentd $want" ] || fail "agentd --version: $("$AGENTD" --version 2>&1)"
[ "$("$AGENTD" version)" = "agentd $want" ] || fail "agentd version"
"$AGENTD" --help | grep -q '^ *agentd version$' || fail "usage lacks version"
"$AGENTD" --help | grep -q '^ *agentd kill' || fail "usage lacks kill"
note "version: agentd $want"

# --- option errors: "agentd VERB: ...", exit 2, escaped ---------------------
expect 2 "^agentd start: -s, -c and --json exclude each other" "$AGENTD" start -s -c
expect 2 "^agentd start: -s, -c and --json exclude each other" "$AGENTD" start --json -s
expect 2 "^agentd stop: -s, -c and --json exclude each other" "$AGENTD" stop -c -s
expect 2 "^agentd start: unrecognized option '--bogus'" "$AGENTD" start --bogus
expect 2 "^agentd start: option '--ttl' requires an argument" "$AGENTD" start --ttl
expect 2 "^agentd status: option '--json' doesn't allow an argument" "$AGENTD" status --json=1
expect 2 "^agentd shell: invalid option -- 'x'" "$AGENTD" shell -x
expect 2 "^agentd kill: invalid option -- 'z'" "$AGENTD" -k -z
expect 2 "^agentd add: option '--session' requires an argument" "$AGENTD" add --session
"$AGENTD" start $'--x\e[2J\a' 2> "$WORK/err" && fail "an unknown option was accepted"
LC_ALL=C grep -q "$(printf '[\001-\010\016-\037\177]')" "$WORK/err" && fail "raw control bytes in an option error: $(cat -v "$WORK/err")"
grep -q '^agentd start: unrecognized option' "$WORK/err" || fail "option error: $(cat -v "$WORK/err")"
[ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "a usage error started the daemon"
note "option errors: agentd VERB: ..., exit 2, escaped"

# --- kill without a daemon ----------------------------------------------------
expect 1 "^agentd kill: " "$AGENTD" kill

# --- durations: OpenSSH TIME FORMATS; the TTL cap is said -------------------
for d in 1H:3600 30S:30 1h30m:5400 10M:600 1m1h:3660; do
	"$AGENTD" start --ttl "${d%%:*}" --json > "$WORK/s" 2> "$WORK/err" || fail "start --ttl ${d%%:*}: $(cat "$WORK/err")"
	[ "$(jq .ttl_s "$WORK/s")" = "${d#*:}" ] || fail "--ttl ${d%%:*}: ttl_s $(jq .ttl_s "$WORK/s"), want ${d#*:}"
	[ ! -s "$WORK/err" ] || fail "--ttl ${d%%:*} under the cap: stderr says $(cat "$WORK/err")"
	"$AGENTD" stop --session "$(jq -r .session "$WORK/s")" >/dev/null
done
"$AGENTD" start --ttl 1w --json > "$WORK/s" 2> "$WORK/err" || fail "start --ttl 1w"
[ "$(jq .ttl_s "$WORK/s")" = 43200 ] || fail "--ttl 1w not capped at 12h"
[ "$(wc -l < "$WORK/err")" -eq 1 ] && grep -q "^agentd start: --ttl 1w capped at the daemon's --max-ttl: 12h$" "$WORK/err" ||
	fail "the cap is not said on one stderr line: $(cat "$WORK/err")"
"$AGENTD" stop --session "$(jq -r .session "$WORK/s")" >/dev/null
note "durations: 1H 30S 1h30m 10M 1m1h; --ttl 1w capped, said on stderr"

# --- targets: prefix, label, ambiguity ---------------------------------------
a=$("$AGENTD" start --ttl 10m --label alpha --json | jq -r .session)
b=$("$AGENTD" start --ttl 10m --label dup --json | jq -r .session)
c=$("$AGENTD" start --ttl 10m --label dup --json | jq -r .session)
newkey k
"$AGENTD" add --session alpha "$WORK/k" >/dev/null 2>&1 || fail "add --session LABEL"
has_event ".event == \"key_loaded\" and .session == \"$a\"" 'true' || fail "add --session alpha went elsewhere"
out=$("$AGENTD" shell --session "${b:0:20}" -- sh -c 'echo "$AGENTD_SESSION"' </dev/null) || fail "shell --session PREFIX"
[ "$out" = "$b" ] || fail "shell --session prefix reached $out, not $b"
rc=0; "$AGENTD" stop --session dup > /dev/null 2> "$WORK/err" || rc=$?
[ $rc -eq 1 ] || fail "stop --session of an ambiguous label: exit $rc"
[ "$(wc -l < "$WORK/err")" -eq 1 ] && grep -q "ambiguous" "$WORK/err" && grep -q "$b" "$WORK/err" && grep -q "$c" "$WORK/err" ||
	fail "ambiguity is not one line listing both: $(cat "$WORK/err")"
"$AGENTD" stop --session "${c:0:12}" | grep -qx "stopped $c" || fail "stop --session PREFIX"
"$AGENTD" stop --session dup | grep -qx "stopped $b" || fail "stop --session LABEL once unique"
note "targets: prefix, label, ambiguity listed on one line"

# --- keys_held in status -------------------------------------------------------
"$AGENTD" status --json > "$WORK/st"
jq -e --arg a "$a" '.[] | select(.session == $a) | .keys_held == 1 and (has("keys_loaded") | not)' "$WORK/st" >/dev/null ||
	fail "status --json: no keys_held 1: $(cat "$WORK/st")"
"$AGENTD" status | awk -v a="$a" '$1 == a { print $4 }' | grep -qx 1 || fail "status table KEYS column"
"$AGENTD" stop --session "$a" >/dev/null

# --- inside a linked shell: the same daemon and log ---------------------------
eval "$("$AGENTD" start -s --ttl 10m --label inner)" >/dev/null
out=$("$AGENTD" shell -- sh -c "unset AGENTD_DIR_UNUSED; env | grep -E '^(AGENTD_DIR|XDG_RUNTIME_DIR|XDG_STATE_HOME)='; \"$AGENTD\" status --json" </dev/null) ||
	fail "agentd status inside a linked shell failed: $out"
echo "$out" | grep -qx "AGENTD_DIR=$AGENTD_DIR" || fail "the linked shell lacks AGENTD_DIR: $out"
echo "$out" | tail -n 1 | jq -e --arg s "$AGENTD_SESSION" '.[] | select(.session == $s)' >/dev/null ||
	fail "agentd status inside the shell did not see the session: $out"
out=$("$AGENTD" shell -- sh -c "\"$AGENTD\" add \"$WORK/k\" && \"$AGENTD\" start --json --label from-inside" </dev/null 2>&1) ||
	fail "agentd add/start inside a linked shell: $out"
echo "$out" | tail -n 1 | jq -e '.session' >/dev/null || fail "start inside the shell: $out"
"$AGENTD" stop --session from-inside >/dev/null || fail "the session started inside is not ours"
note "AGENTD_DIR: status, add and start inside a linked shell reach the daemon"

# --- 126 vs 127 -------------------------------------------------------------------
rc=0; "$AGENTD" shell -- /etc/passwd </dev/null >/dev/null 2>&1 || rc=$?
[ $rc -eq 126 ] || fail "shell -- /etc/passwd: exit $rc, want 126"
rc=0; "$AGENTD" shell -- /nonexistent/cmd </dev/null >/dev/null 2>&1 || rc=$?
[ $rc -eq 127 ] || fail "shell -- /nonexistent/cmd: exit $rc, want 127"

# --- lifetime_asked_s: ssh-add -t through the relay ----------------------------
newkey k2
ssh-add -t 99999 "$WORK/k2" >/dev/null 2>&1 || fail "ssh-add -t 99999"
has_event '.event == "key_loaded" and .key_type == "ssh-ed25519" and .lifetime_asked_s == 99999' \
	'.lifetime_s <= 600' || fail "key_loaded lacks lifetime_asked_s 99999 with a capped lifetime_s"

# --- the shell's lines on a terminal: recording path, then the TTL's end ---------
t=$("$AGENTD" start --ttl 3 --label short --json | jq -r .session)
rc=0; timeout 30 python3 "$PTY" "$AGENTD" shell --session "$t" -- sleep 60 > "$WORK/pty" || rc=$?
tr -d '\r' < "$WORK/pty" > "$WORK/pty.txt"
grep -qx "agentd shell: recording to $AGENTD_DIR/recordings/$t/1.cast" "$WORK/pty.txt" ||
	fail "no recording line on the terminal: $(cat -v "$WORK/pty.txt")"
grep -qx "agentd shell: session $t expired" "$WORK/pty.txt" ||
	fail "no 'session expired' line on the terminal (rc $rc): $(cat -v "$WORK/pty.txt")"
t=$("$AGENTD" start --ttl 3 --label short-q --json | jq -r .session)
timeout 30 python3 "$PTY" "$AGENTD" shell -q --session "$t" -- sleep 60 > "$WORK/pty" || true
grep -q "agentd shell:" "$WORK/pty" && fail "-q still printed: $(cat -v "$WORK/pty")"
"$AGENTD" shell -- true </dev/null 2> "$WORK/err" >/dev/null
[ ! -s "$WORK/err" ] || fail "shell on pipes printed on stderr: $(cat "$WORK/err")"
note "shell: recording line and 'session ... expired' on a terminal; -q and pipes quiet"

# --- stop says what it waits for; the current session's stop prints unsets -------
"$AGENTD" shell -- sh -c 'trap "" HUP; exec sleep 60' </dev/null >/dev/null 2>&1 &
spid=$!
EXTRA_PIDS="$EXTRA_PIDS $spid"
wait_event ".event == \"shell_started\" and .session == \"$AGENTD_SESSION\" and .command[2] == \"trap \\\"\\\" HUP; exec sleep 60\"" 10
id=$AGENTD_SESSION
"$AGENTD" stop > "$WORK/out" 2> "$WORK/err" || fail "stop: $(cat "$WORK/err")"
grep -q "^agentd stop: waiting for session $id to end" "$WORK/err" || fail "stop did not say what it waits for: $(cat "$WORK/err")"
printf "unset SSH_AUTH_SOCK;\nunset AGENTD_SESSION;\necho agentd session '%s' stopped;\n" "$id" | cmp -s - "$WORK/out" ||
	fail "stop of the current session: $(cat "$WORK/out")"
eval "$(cat "$WORK/out")" >/dev/null
[ -z "${SSH_AUTH_SOCK:-}" ] && [ -z "${AGENTD_SESSION:-}" ] || fail "eval of stop's output left the variables"
wait $spid 2>/dev/null || true

# --- stop --all leaves the daemon; kill ends it and every session -----------------
"$AGENTD" start --ttl 10m --label s1 >/dev/null
"$AGENTD" start --ttl 10m --label s2 >/dev/null
"$AGENTD" stop --all | grep -c '^stopped ' | grep -qx 2 || fail "stop --all"
pid=$(cat "$AGENTD_DIR/run/agentd.pid")
alive "$pid" || fail "stop --all ended the daemon"
eval "$("$AGENTD" start --ttl 10m --label k1)" >/dev/null
k1=$AGENTD_SESSION
"$AGENTD" start --ttl 10m --label k2 >/dev/null
SHELL=/bin/bash "$AGENTD" kill > "$WORK/out" || fail "agentd kill"
printf "unset SSH_AUTH_SOCK;\nunset AGENTD_SESSION;\necho agentd pid %s killed;\n" "$pid" | cmp -s - "$WORK/out" ||
	fail "agentd kill output: $(cat "$WORK/out")"
[ ! -e "$AGENTD_DIR/run/control.sock" ] && [ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "kill left the socket or pidfile"
wait_gone "$pid" 15 || fail "the daemon outlived agentd kill"
[ "$(count_events '.event == "stopped" and .exit_reason == "supervisor_shutdown"')" -eq 2 ] ||
	fail "kill did not log supervisor_shutdown for both sessions"
jq -r 'select(.event == "created") | .agent_pid' "$LOG" | while read -r p; do
	alive "$p" && fail "agent $p outlived agentd kill"
	true
done
eval "$(cat "$WORK/out")" >/dev/null
[ -z "${AGENTD_SESSION:-}" ] || fail "eval of kill's output left AGENTD_SESSION"
# csh: -c, or $SHELL ending in csh, as start chooses; -k is kill.
"$AGENTD" start --ttl 10m >/dev/null
SHELL=/bin/tcsh "$AGENTD" -k > "$WORK/out" || fail "agentd -k"
head -n 2 "$WORK/out" | tr '\n' ' ' | grep -qx 'unsetenv SSH_AUTH_SOCK; unsetenv AGENTD_SESSION; ' || fail "-k csh: $(cat "$WORK/out")"
"$AGENTD" start --ttl 10m >/dev/null
SHELL=/bin/bash "$AGENTD" -k -c | head -n 1 | grep -qx 'unsetenv SSH_AUTH_SOCK;' || fail "-k -c"
[ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "-k left the daemon"
note "stop --all keeps the daemon; kill and -k end it, print unsets (sh/csh)"

# --- the linked shell under XDG roots (no AGENTD_DIR) -------------------------------
xr=$AGENTD_DIR/xdg-run; xs=$AGENTD_DIR/xdg-state
mkdir -m 700 "$xr" "$xs"
(
	unset AGENTD_DIR
	export XDG_RUNTIME_DIR=$xr XDG_STATE_HOME=$xs
	trap 'pid=$(cat "$xr/agentd/agentd.pid" 2>/dev/null) && kill -TERM "$pid" 2>/dev/null; flock -w 20 "$xr/agentd/agentd.pid" true 2>/dev/null || true' EXIT
	eval "$("$AGENTD" start -s --ttl 10m --label xdg)" >/dev/null
	out=$("$AGENTD" shell -- sh -c "env | grep ^XDG_; \"$AGENTD\" status --json" </dev/null) || fail "status inside (XDG): $out"
	echo "$out" | grep -qx "XDG_RUNTIME_DIR=$xr" && echo "$out" | grep -qx "XDG_STATE_HOME=$xs" ||
		fail "the linked shell lacks the XDG roots: $out"
	echo "$out" | tail -n 1 | jq -e --arg s "$AGENTD_SESSION" '.[] | select(.session == $s)' >/dev/null ||
		fail "status inside the shell (XDG) did not see the session: $out"
	"$AGENTD" kill >/dev/null
)
note "XDG_RUNTIME_DIR/XDG_STATE_HOME: the linked shell reaches the daemon"

# --- make demo | head: nothing left behind ---------------------------------------
dt=$WORK/demo-tmp
mkdir "$dt"
first=$(TMPDIR=$dt AUDITCTL=${AUDITCTL:-$(dirname "$AGENTD")/auditctl} sh "$TESTS/../scripts/demo.sh" 2>/dev/null | head -n 3 | head -n 1)
dd=${first#\# AGENTD_DIR=}; dd=${dd%% *}
case $dd in "$dt"/agentd-demo.*) ;; *) fail "the demo does not name its AGENTD_DIR: $first" ;; esac
[ -z "$(ls -A "$dt")" ] || fail "demo | head left $(ls -A "$dt")"
# The daemon has AGENTD_DIR in its environment, the agents the path in argv.
for p in /proc/[0-9]*; do
	{ tr '\0' '\n' < "$p/environ" | grep -qx "AGENTD_DIR=$dd" ||
	  tr '\0' ' ' < "$p/cmdline" | grep -qF "$dd/"; } 2>/dev/null &&
		fail "demo | head left process ${p#/proc/}: $(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)"
done
true
note "demo | head: daemon, agents and keys gone"
verify_chain >/dev/null
