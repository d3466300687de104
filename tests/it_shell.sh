# Linked shells: agentd shell runs a command on a PTY the daemon owns, with
# the session's agent, and records it; the real asciinema prints exactly what
# the command wrote. Without a terminal here (pipes); see it_shell_tty.sh for
# a real terminal.
. "$(dirname "$0")/lib.sh"

castcat() {	# castcat FILE: what the real asciinema client prints for it
	script -qec "stty -opost; asciinema cat '$1'" /dev/null
}

eval "$("$AGENTD" start --ttl 10m --label it-shell)" >/dev/null
newkey k ed25519
ssh-add "$WORK/k" 2>/dev/null
rec=$AGENTD_DIR/recordings/$AGENTD_SESSION

# Piped input and exit status; the session's agent inside; a clean env.
rc=0
out=$(printf 'echo in-shell $AGENTD_SESSION\nssh-add -l\necho leak=$SECRET_FOO\nexit 7\n' |
	SECRET_FOO=hush "$AGENTD" shell -- sh) || rc=$?
[ $rc -eq 7 ] || fail "exit status 7 did not propagate (got $rc): $out"
echo "$out" | grep -q "in-shell $AGENTD_SESSION" || fail "command did not run in the session: $out"
echo "$out" | grep -q "$(ssh-keygen -lf "$WORK/k" | awk '{ print $2 }')" || fail "ssh-add -l inside does not see the key: $out"
echo "$out" | grep -q "leak=hush" && fail "the client's environment leaked into the shell"
has_event '.event == "shell_started"' ".shell == 1 and .pid > 1 and .command == [\"sh\"] and (.recording | endswith(\"/$AGENTD_SESSION/1.cast\"))" ||
	fail "shell_started: $(jq -c 'select(.event == "shell_started")' "$LOG")"
has_event '.event == "shell_ended" and .shell == 1' '.exit_status == 7 and .bytes_out > 0' || fail "shell_ended"
[ "$(stat -c %a "$rec/1.cast")" = 400 ] || fail "finished cast is not 0400"
[ "$(stat -c %a "$rec")" = 700 ] || fail "recordings dir is not 0700"
head -n 1 "$rec/1.cast" | jq -e ".version == 2 and .width == 80 and .height == 24 and .session == \"$AGENTD_SESSION\" and .label == \"it-shell\" and (.env | has(\"SHELL\"))" >/dev/null ||
	fail "cast header: $(head -n 1 "$rec/1.cast")"
tail -n +2 "$rec/1.cast" | jq -e -s 'all(.[]; length == 3 and (.[0] | type) == "number" and .[1] == "o")' >/dev/null ||
	fail "cast events malformed"

# Byte fidelity through the real asciinema: each case is written in chunks
# that split characters across reads; invalid bytes become U+FFFD.
n=1
check_bytes() {	# check_bytes NAME CHUNK...
	local name=$1 want got
	shift
	n=$((n + 1))
	"$AGENTD" shell -- python3 "$TESTS/helpers/write-chunks.py" "$@" </dev/null >"$WORK/direct.$n" ||
		fail "$name: shell failed"
	want=$(python3 -c 'import ast,sys; sys.stdout.buffer.write(b"".join(ast.literal_eval(a) for a in sys.argv[1:]).decode("utf-8","replace").encode())' "$@" | od -An -tx1 | tr -d ' \n')
	got=$(castcat "$rec/$n.cast" | od -An -tx1 | tr -d ' \n')
	[ "$got" = "$want" ] || fail "$name: asciinema cat printed $got, want $want"
	note "$name: ok"
}
check_bytes "plain text" "b'hello, world\\r\\n'" "b'second line\\r\\n'"
check_bytes "ANSI colours" "b'\\x1b[31mred\\x1b[0m \\x1b[1;32mgreen\\x1b[0m\\r\\n'"
check_bytes "euro split 1|2" "b'a\\xe2'" "b'\\x82\\xacb'"
check_bytes "euro split 2|1" "b'a\\xe2\\x82'" "b'\\xacb'"
check_bytes "emoji split 1|3" "b'\\xf0'" "b'\\x9f\\x98\\x80'"
check_bytes "emoji split 2|2" "b'\\xf0\\x9f'" "b'\\x98\\x80'"
check_bytes "emoji split 3|1" "b'\\xf0\\x9f\\x98'" "b'\\x80!'"
check_bytes "split over three reads" "b'\\xf0'" "b'\\x9f'" "b'\\x98\\x80'"
check_bytes "invalid bytes" "b'x\\xff y \\xc0\\xaf z \\xe2\\x82'" "b'q \\xed\\xa0\\x80 end'"
check_bytes "truncated at the very end" "b'ok \\xe2\\x82'"
check_bytes "NUL and control bytes" "b'a\\x00b\\x01c\\x07d\\x08e\\x1b[2Jf\\x7fg\\tz\\r\\n'"

# Linking is refused for a session that does not exist: nothing starts.
before=$(ls "$rec" | wc -l)
rc=0; err=$("$AGENTD" shell --session nosuchsession -- true 2>&1) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "no active session" || fail "unknown session: exit $rc: $err"
[ "$(ls "$rec" | wc -l)" -eq "$before" ] || fail "a refused shell left a recording"

# 100 MB of text: recorded whole, asciinema prints it back identical.
yes 'The quick brown fox jumps over the lazy dog 0123456789.' | head -c 100000000 > "$WORK/big.txt"
"$AGENTD" shell -t -- sh -c "stty -opost; cat '$WORK/big.txt'" </dev/null >"$WORK/big.out" || fail "100 MB shell"
n=$((n + 1))
cmp -s "$WORK/big.txt" "$WORK/big.out" || fail "100 MB: the client's output differs"
[ "$(castcat "$rec/$n.cast" | sha256sum)" = "$(sha256sum < "$WORK/big.txt")" ] || fail "100 MB: the cast differs"
size=$(stat -c %s "$rec/$n.cast")
note "100 MB: cast is $size bytes ($(( size * 100 / 100000000 ))% of the output)"
[ "$size" -le 120000000 ] || fail "cast larger than 1.2x the output for text"
verify_chain >/dev/null

# auditctl show lists the session's recordings.
"$AUDITCTL" --log "$LOG" show "$AGENTD_SESSION" > "$WORK/show.txt" || fail "auditctl show"
grep -q -- "-- recordings:" "$WORK/show.txt" || fail "auditctl show lists no recordings"
grep -q "$rec/1.cast  (exit 7)" "$WORK/show.txt" || fail "auditctl show lacks recording 1: $(cat "$WORK/show.txt")"
