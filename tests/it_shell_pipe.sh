# agentd shell like ssh: pipes when stdin is not a terminal (-T forces them),
# a PTY with -t. On pipes stdout and stderr stay apart, nothing is echoed,
# both are recorded as "o" events, the exit status passes through. On a PTY
# fed by a pipe, end of input reaches bash and python as under script(1).
. "$(dirname "$0")/lib.sh"

castcat() {	# castcat FILE: what the real asciinema client prints for it
	script -qec "stty -opost; asciinema cat '$1'" /dev/null
}
lastcast() { ls -t "$rec"/*.cast | head -n 1; }

eval "$("$AGENTD" start --ttl 10m --label it-pipe)" >/dev/null
rec=$AGENTD_DIR/recordings/$AGENTD_SESSION

# The reproduction: piped into bash, it ends (today: hangs until the TTL).
rc=0; out=$(printf 'echo hi\n' | timeout 10 "$AGENTD" shell -- bash) || rc=$?
[ $rc -eq 0 ] && [ "$out" = hi ] || fail "printf 'echo hi\\n' | agentd shell -- bash: rc $rc, output '$out'"
has_event '.event == "shell_started" and .shell == 1' '.tty == false' || fail "shell 1 not on pipes"

# Exit status and signals pass through.
rc=0; "$AGENTD" shell -- sh -c 'exit 7' </dev/null || rc=$?
[ $rc -eq 7 ] || fail "exit 7 came back as $rc"
rc=0; "$AGENTD" shell -- sh -c 'kill -TERM $$' </dev/null || rc=$?
[ $rc -eq 143 ] || fail "SIGTERM came back as $rc, want 143"

# stdout and stderr stay apart; both are in the cast; asciinema prints them.
rc=0; "$AGENTD" shell -- sh -c 'echo to-out; echo to-err >&2; exit 3' \
	</dev/null >"$WORK/o" 2>"$WORK/e" || rc=$?
[ $rc -eq 3 ] || fail "stderr case: rc $rc"
[ "$(cat "$WORK/o")" = to-out ] || fail "stdout got: $(cat "$WORK/o")"
[ "$(cat "$WORK/e")" = to-err ] || fail "stderr got: $(cat "$WORK/e")"
c=$(lastcast)
tail -n +2 "$c" | jq -e -s 'all(.[]; .[1] == "o")' >/dev/null || fail "pipe cast has events other than o"
[ "$(castcat "$c" | sort | tr '\n' ' ')" = "to-err to-out " ] ||
	fail "asciinema cat of the pipe cast: $(castcat "$c" | od -c | head)"
"$AGENTD" shell -- printf 'a\nb \342\202\254\n' </dev/null >/dev/null
[ "$(castcat "$(lastcast)" | od -An -tx1)" = "$(printf 'a\nb \342\202\254\n' | od -An -tx1)" ] ||
	fail "asciinema cat does not print the pipe output byte for byte"
note "pipes: exit status, signal, stderr apart, asciinema cat ok"

# A reader that stops early ends the writer, as a direct pipe would: SIGPIPE
# (before: yes ran on and filled the cast at ~180 MB/s).
out=$(timeout 10 "$AGENTD" shell -- yes </dev/null | head -n 1; echo "rc=${PIPESTATUS[0]}")
[ "$out" = "y
rc=141" ] || fail "agentd shell -- yes | head -1: $out (want y, then SIGPIPE: 141)"
size=$(stat -c %s "$(lastcast)")
[ "$size" -le 4194304 ] || fail "yes | head -1: cast of $size bytes"
note "yes | head -1: SIGPIPE, cast of $size bytes"

# A passphrase piped to ssh-add is not echoed: not in the cast, not in the
# output, and the key is loaded (the reproduction: no -t/-T, stdin a pipe).
# On a PTY (-t) echo is off for piped input, as under script; whether
# ssh-add gets the passphrase there is a race (readpassphrase flushes the
# typeahead), so only the echo is checked.
ssh-keygen -q -t ed25519 -N 'Pw-Xy7-secret' -C it-pw -f "$WORK/pw"
for mode in "" -t; do
	ssh-add -D >/dev/null 2>&1
	rc=0; printf 'Pw-Xy7-secret\n' | timeout 10 "$AGENTD" shell $mode -- ssh-add "$WORK/pw" \
		>"$WORK/o" 2>"$WORK/e" || rc=$?
	c=$(lastcast)
	! grep -q 'Pw-Xy7' "$c" "$WORK/o" "$WORK/e" || fail "ssh-add '$mode': passphrase in the cast or output"
	[ -n "$mode" ] && { note "ssh-add -t: passphrase in neither cast nor output (rc $rc)"; continue; }
	[ $rc -eq 0 ] || fail "ssh-add: rc $rc: $(cat "$WORK/o" "$WORK/e")"
	ssh-add -l | grep -q it-pw || fail "ssh-add: key not loaded"
	note "ssh-add on pipes: key loaded, passphrase in neither cast nor output"
done

# A PTY fed by a pipe: the program sees end of input once it has read what
# came before, also when it was busy (bash runs sleep in canonical mode,
# then readline reads raw) and without a final newline.
pty_case() {	# pty_case NAME WANT INPUT CMD...
	local name=$1 want=$2 input=$3 rc=0 out
	shift 3
	out=$(printf "$input" | timeout 10 "$AGENTD" shell -t -- "$@" | tr -d '\r') || rc=$?
	[ $rc -eq 0 ] || fail "$name: rc $rc (124: end of input never reached it): $out"
	echo "$out" | grep -q -- "$want" || fail "$name: output lacks '$want': $out"
	note "-t $name: ok"
}
pty_case "bash" hi 'echo hi\n' bash --norc --noprofile
pty_case "bash, busy" done 'sleep 1\necho done\n' bash --norc --noprofile
pty_case "bash, busy at the end" '' 'echo x; sleep 1\n' bash --norc --noprofile
pty_case "python3" 42 'print(6*7)\n' python3 -q
pty_case "python3, busy" 43 'import time\ntime.sleep(1)\nprint(6*7+1)\n' python3 -q
pty_case "cat, no final newline" abc 'abc' cat
if command -v zsh >/dev/null; then
	pty_case "zsh" hi 'echo hi\n' zsh -f
	pty_case "zsh, busy" done 'sleep 1\necho done\n' zsh -f
else
	note "no zsh: its cases skipped"
fi
has_event '.event == "shell_started"' '.tty | type == "boolean"' || fail "shell_started without tty"

# -t and -T: the last one wins, as with ssh.
out=$("$AGENTD" shell -t -T -- tty </dev/null || true)
[ "$out" = "not a tty" ] || fail "-t -T: want pipes, tty says '$out'"
out=$("$AGENTD" shell -T -t -- tty </dev/null | tr -d '\r')
case $out in /dev/pts/*) ;; *) fail "-T -t: want a PTY, tty says '$out'" ;; esac
note "-t/-T: last wins"
verify_chain >/dev/null

# The daemon dies: a command on pipes (no terminal to hang it up) goes too.
"$AGENTD" shell -- sleep 1000 </dev/null >/dev/null 2>&1 &
client=$!
EXTRA_PIDS="$EXTRA_PIDS $client"
wait_event '.event == "shell_started" and .command == ["sleep", "1000"]' 10
spid=$(jq -r 'select(.event == "shell_started" and .command == ["sleep", "1000"]) | .pid' "$LOG")
kill -KILL "$(cat "$AGENTD_DIR/run/agentd.pid")"
wait_gone "$spid" 15 || fail "a command on pipes outlived the killed daemon by 15 s"
rc=0; wait "$client" || rc=$?
[ $rc -ne 0 ] || fail "the client of a shell whose daemon died exited 0"
note "daemon killed: the command on pipes is gone, the client exited $rc"
