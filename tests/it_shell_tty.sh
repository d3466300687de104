# agentd shell in a real terminal (tmux): typed commands run, the session's
# keys are visible, resize reaches the shell (stty size) and the cast (an "r"
# event), ^C goes to the command not the client, the exit status propagates,
# and raw mode is restored. Then the ways a shell can be cut off: killing
# the command, the client, the session and the daemon each leave a parseable
# cast and the right events.
. "$(dirname "$0")/lib.sh"

command -v tmux >/dev/null || { note "no tmux: skipped"; exit 0; }
TM="tmux -L agentd-it-$$ -f /dev/null"
tmux_cleanup() { $TM kill-server 2>/dev/null || true; }
trap 'tmux_cleanup; cleanup' EXIT

eval "$("$AGENTD" start --ttl 10m --label it-tty)" >/dev/null
newkey k ed25519
ssh-add "$WORK/k" 2>/dev/null
rec=$AGENTD_DIR/recordings/$AGENTD_SESSION
fp=$(ssh-keygen -lf "$WORK/k" | awk '{ print $2 }')

screen() { $TM capture-pane -p -t it 2>/dev/null; }
wait_screen() {	# wait_screen PATTERN [secs]
	local i=0
	until screen | grep -q -- "$1"; do
		i=$((i + 1))
		[ $i -le $(( ${2:-10} * 20 )) ] || fail "screen never showed '$1':
$(screen)"
		sleep 0.05
	done
}
type_line() { $TM send-keys -t it -l "$1"; $TM send-keys -t it Enter; }

# The outer shell reports the client's exit status and the terminal's mode
# after it, so we see both raw mode restored and the status.
$TM new-session -d -s it -x 100 -y 30 \
	"stty -a | grep -o ' -\\?icanon' > '$WORK/mode.before'; \
	 AGENTD_DIR='$AGENTD_DIR' AGENTD_SESSION='$AGENTD_SESSION' '$AGENTD' shell -- env PS1='tty\$ ' bash --norc --noprofile -i; \
	 echo \$? > '$WORK/rc'; stty -a | grep -o ' -\\?icanon' > '$WORK/mode.after'; sleep 60"
wait_screen 'tty\$'
type_line 'stty size; echo marker-$((6*7))'
wait_screen 'marker-42'
screen | grep -q '^30 100' || fail "stty size inside is not 30 100: $(screen)"
type_line 'ssh-add -l'
wait_screen "$fp"

$TM resize-window -t it -x 120 -y 40
sleep 0.3
type_line 'clear; stty size'
wait_screen '^40 120'
has_r=$(tail -n +2 "$rec/1.cast" | jq -c 'select(.[1] == "r") | .[2]' | tr -d '"' | tr '\n' ' ')
note "resize events: $has_r"
echo "$has_r" | grep -q "120x40" || fail "no resize event 120x40 in the cast (got: $has_r)"

# ^C reaches the command inside; the client and the shell live on.
type_line 'sleep 100'
sleep 0.3
$TM send-keys -t it C-c
type_line 'echo after-interrupt'
wait_screen 'after-interrupt'
type_line 'exit 5'
for i in $(seq 100); do [ -s "$WORK/rc" ] && break; sleep 0.05; done
[ "$(cat "$WORK/rc" 2>/dev/null)" = 5 ] || fail "exit status 5 did not come back: $(cat "$WORK/rc" 2>/dev/null)"
[ "$(cat "$WORK/mode.before")" = "$(cat "$WORK/mode.after")" ] ||
	fail "terminal mode not restored: before '$(cat "$WORK/mode.before")' after '$(cat "$WORK/mode.after")'"
note "mode before/after: $(cat "$WORK/mode.before") / $(cat "$WORK/mode.after")"
has_event '.event == "shell_ended" and .shell == 1' '.exit_status == 5' || fail "shell_ended with 5"
has_event '.event == "shell_started" and .shell == 1' '.tty == true' || fail "a shell started from a terminal is not on a PTY"
script -qec "asciinema cat '$rec/1.cast'" /dev/null | grep -q 'marker-42' || fail "asciinema cat lacks the typed command's output"
# Input is not recorded: what was typed appears only as the terminal's echo.
tmux_cleanup

# Cut-offs, each with a parseable cast and the right events.
cast_ok() {	# every line of a cast is JSON (the last may be torn after SIGKILL of the daemon)
	python3 - "$1" "${2:-strict}" <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
if lines[-1] == b"":
    lines.pop()
elif sys.argv[2] == "strict":
    sys.exit("torn last line")
else:
    lines.pop()  # at most the last line may be lost
hdr = json.loads(lines[0]); assert hdr["version"] == 2
for l in lines[1:]:
    e = json.loads(l); assert len(e) == 3
PY
}

# 1. The command is killed: client exits 128+9, shell_ended says signal 9.
"$AGENTD" shell -- sh -c 'echo started; exec sleep 1000' </dev/null >"$WORK/o1" &
client=$!
wait_event '.event == "shell_started" and .shell == 2' 10
pid=$(jq -r 'select(.event == "shell_started" and .shell == 2) | .pid' "$LOG")
for i in $(seq 100); do grep -q started "$WORK/o1" && break; sleep 0.05; done
kill -KILL "$pid"
rc=0; wait "$client" || rc=$?
[ $rc -eq 137 ] || fail "client exit $rc after the command was killed, want 137"
has_event '.event == "shell_ended" and .shell == 2' '.exit_status == null and .signal == 9' || fail "shell_ended signal 9"
cast_ok "$rec/2.cast" || fail "cast 2 not parseable"

# 2. The client is killed: the daemon hangs the command up (SIGHUP).
"$AGENTD" shell -- sleep 1000 </dev/null >/dev/null &
client=$!
wait_event '.event == "shell_started" and .shell == 3' 10
kill -KILL "$client"; wait "$client" 2>/dev/null || true
wait_event '.event == "shell_ended" and .shell == 3' 10
has_event '.event == "shell_ended" and .shell == 3' '.signal == 1' || fail "client loss did not hang up the command"
cast_ok "$rec/3.cast" || fail "cast 3 not parseable"
[ "$(stat -c %a "$rec/3.cast")" = 400 ] || fail "cast 3 not closed"

# 3. The session stops: its shells are hung up before it ends.
"$AGENTD" shell -- sleep 1000 </dev/null >/dev/null &
client=$!
wait_event '.event == "shell_started" and .shell == 4' 10
"$AGENTD" stop >/dev/null
rc=0; wait "$client" || rc=$?
[ $rc -eq 129 ] || fail "client exit $rc after the session stopped, want 129 (SIGHUP)"
s4=$(jq -r 'select(.event == "shell_ended" and .shell == 4) | .seq' "$LOG")
st=$(jq -r 'select(.event == "stopped") | .seq' "$LOG")
[ -n "$s4" ] && [ -n "$st" ] && [ "$s4" -lt "$st" ] || fail "shell_ended must come before stopped"
cast_ok "$rec/4.cast" || fail "cast 4 not parseable"

# 4. The daemon is killed: the command dies with its terminal, the cast stays
# parseable (at most its last line lost), the next start reports the session.
eval "$("$AGENTD" start --ttl 10m --label it-tty2)" >/dev/null
rec2=$AGENTD_DIR/recordings/$AGENTD_SESSION
"$AGENTD" shell -- sh -c 'while :; do echo tick; sleep 0.01; done' </dev/null >/dev/null 2>&1 &
client=$!
wait_event ".event == \"shell_started\" and .session == \"$AGENTD_SESSION\"" 10
pid=$(jq -r "select(.event == \"shell_started\" and .session == \"$AGENTD_SESSION\") | .pid" "$LOG")
sleep 0.3
kill -KILL "$(cat "$AGENTD_DIR/run/agentd.pid")"
wait "$client" 2>/dev/null || true
wait_gone "$pid" 15 || fail "the shell outlived the killed daemon"
cast_ok "$rec2/1.cast" lenient || fail "cast after daemon SIGKILL not parseable"
"$AGENTD" start --ttl 1m >/dev/null
has_event ".event == \"crashed\" and .session == \"$AGENTD_SESSION\"" '.exit_reason == "supervisor_lost"' ||
	fail "the killed daemon's session was not reported"
has_event ".event == \"shell_ended\" and .session == \"$AGENTD_SESSION\"" '.reason == "supervisor_lost" and .exit_status == null' ||
	fail "the killed daemon's shell has no shell_ended"
se=$(jq -r "select(.event == \"shell_ended\" and .session == \"$AGENTD_SESSION\") | .seq" "$LOG")
cr=$(jq -r "select(.event == \"crashed\" and .session == \"$AGENTD_SESSION\") | .seq" "$LOG")
[ "$se" -lt "$cr" ] || fail "shell_ended must come before the session's crashed"
verify_chain >/dev/null
