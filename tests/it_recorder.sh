# Remote session recorders (issue 6): a test recorder (tests/helpers/
# recorder.py, V1 and V2, misbehaving on command) on 127.0.0.1 receives the
# very bytes of the local cast; each failure gets the policy's outcome and a
# recording_failed event, and what the recorder got is a prefix of the
# local file. Stalled acks are found after AGENTD_RECORDER_ACK_TIMEOUT_MS
# (the test knob; 30 s by protocol).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3	# Debian's, with python3-h2
$PY -c 'import h2' 2>/dev/null || fail "python3-h2 is missing (scripts/deps.sh installs it)"
export AGENTD_RECORDER_ACK_TIMEOUT_MS=1500
nrec=0

# recorder ARGS... : starts one, sets $port and $out.
recorder() {
	nrec=$((nrec + 1))
	out=$WORK/rec$nrec
	$PY "$TESTS/helpers/recorder.py" --port-file "$WORK/rec$nrec.port" --out "$out" "$@" \
		>"$WORK/rec$nrec.log" 2>&1 &
	EXTRA_PIDS="$EXTRA_PIDS $!"
	disown $!	# killed at the end: no "Killed" notice
	local i=0
	until [ -s "$WORK/rec$nrec.port" ]; do
		i=$((i + 1)); [ $i -le 100 ] || fail "the test recorder did not start"
		sleep 0.05
	done
	port=$(cat "$WORK/rec$nrec.port")
}

# A port where nothing listens.
dead=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# daemon SERVE-ARGS... : a fresh daemon with that configuration and a session.
daemon() {
	stop_daemon
	"$AGENTD" serve "$@" || fail "agentd serve $*"
	eval "$("$AGENTD" start --ttl 10m --label it-recorder)" >/dev/null
	rec=$AGENTD_DIR/recordings/$AGENTD_SESSION
}

# The upload's JSON summary, once the recorder wrote it.
upload_end() {	# upload_end K -> prints the JSON
	local i=0
	until [ -s "$out/up-$1.json" ]; do
		i=$((i + 1)); [ $i -le 100 ] || fail "upload $1 never ended: $(ls "$out")"
		sleep 0.05
	done
	cat "$out/up-$1.json"
}

# The last recording_failed event of this session.
last_failure() {
	jq -c "select(.event == \"recording_failed\" and .session == \"$AGENTD_SESSION\")" "$LOG" | tail -n 1
}

is_prefix() {	# is_prefix RECEIVED LOCAL
	local n
	n=$(stat -c %s "$1")
	[ "$n" -le "$(stat -c %s "$2")" ] && cmp -s -n "$n" "$1" "$2"
}

# --- success: V2, V1, and the first of two recorders dead -------------------
recorder --mode v2
daemon --recorder "127.0.0.1:$port"
"$AGENTD" shell -- sh -c 'printf "hello\n"; printf "\342\202"; printf "\254 split\n"' </dev/null >/dev/null ||
	fail "V2: shell failed"
upload_end 1 | jq -e '.version == 2 and .end == "complete" and .acked == .bytes' >/dev/null ||
	fail "V2: $(cat "$out/up-1.json")"
cmp -s "$out/up-1.cast" "$rec/1.cast" || fail "V2: the received cast differs from the local file"
[ -z "$(last_failure)" ] || fail "V2: recording_failed written: $(last_failure)"
note "V2: received cast identical to the local file, every byte acknowledged"

recorder --mode v1
daemon --recorder "127.0.0.1:$port"
"$AGENTD" shell -- sh -c 'echo v1 one; echo v1 two' </dev/null >/dev/null || fail "V1: shell failed"
upload_end 1 | jq -e '.version == 1 and .end == "complete"' >/dev/null || fail "V1: $(cat "$out/up-1.json")"
cmp -s "$out/up-1.cast" "$rec/1.cast" || fail "V1: the received cast differs from the local file"
note "V1 (HTTP/1.1, 100-continue, chunked): received cast identical"

recorder --mode v2
daemon --recorder "127.0.0.1:$dead" --recorder "127.0.0.1:$port"
"$AGENTD" shell -- sh -c 'echo second recorder' </dev/null >/dev/null || fail "two recorders: shell failed"
upload_end 1 | jq -e '.end == "complete" and .acked == .bytes' >/dev/null || fail "two recorders: $(cat "$out/up-1.json")"
cmp -s "$out/up-1.cast" "$rec/1.cast" || fail "two recorders: the second did not get the stream"
note "first recorder dead: the second received the stream"

# --- no recorder at start ---------------------------------------------------
daemon --recorder "127.0.0.1:$dead"
rc=0; "$AGENTD" shell -- sh -c 'echo fail open' </dev/null >"$WORK/o" 2>&1 || rc=$?
[ $rc -eq 0 ] && grep -q "fail open" "$WORK/o" || fail "absent, continue: rc $rc: $(cat "$WORK/o")"
last_failure | jq -e ".action == \"continued\" and .shell == 1 and .recorder == \"127.0.0.1:$dead\" and
	(.attempts | length == 1 and .[0].recorder == \"127.0.0.1:$dead\" and (.[0].error | length > 0))" >/dev/null ||
	fail "absent, continue: $(last_failure)"
grep -q "fail open" "$rec/1.cast" || fail "absent, continue: the local cast lacks the output"
has_event '.event == "shell_started" and .session == env.AGENTD_SESSION' 'true' || fail "absent, continue: no shell_started"
note "absent, fail open: shell ran, local cast kept, recording_failed/continued"

daemon --recorder "127.0.0.1:$dead" --on-recording-failure reject \
	--recording-failure-message "recording is required here"
rc=0; "$AGENTD" shell -- sh -c 'echo must not run' </dev/null >"$WORK/o" 2>"$WORK/e" || rc=$?
[ $rc -eq 254 ] || fail "absent, reject: exit $rc, want 254: $(cat "$WORK/o" "$WORK/e")"
grep -qx "recording is required here" "$WORK/e" || fail "absent, reject: message: $(cat "$WORK/e")"
grep -q "must not run" "$WORK/o" && fail "absent, reject: the command ran"
last_failure | jq -e '.action == "rejected"' >/dev/null || fail "absent, reject: $(last_failure)"
[ "$(count_events '.event == "shell_started" and .session == env.AGENTD_SESSION')" -eq 0 ] ||
	fail "absent, reject: shell_started written"
note "absent, reject: exit 254 with the message, recording_failed/rejected, no shell"

recorder --mode v2 --misbehave refuse
daemon --recorder "127.0.0.1:$port" --on-recording-failure reject --recording-failure-message "no recorder"
rc=0; "$AGENTD" shell -- true </dev/null >/dev/null 2>"$WORK/e" || rc=$?
[ $rc -eq 254 ] || fail "V2 403, reject: exit $rc"
last_failure | jq -e '.action == "rejected" and (.attempts[0].error | test("403"))' >/dev/null ||
	fail "V2 403, reject: $(last_failure)"
note "V2 refuses with 403: rejected ($(last_failure | jq -r '.attempts[0].error'))"

recorder --mode v1 --misbehave refuse
daemon --recorder "127.0.0.1:$port"
"$AGENTD" shell -- sh -c 'echo still runs' </dev/null >"$WORK/o" || fail "V1 403, continue: shell failed"
last_failure | jq -e '.action == "continued" and (.attempts[0].error | test("403"))' >/dev/null ||
	fail "V1 403, continue: $(last_failure)"
note "V1 refuses with 403: continued ($(last_failure | jq -r '.attempts[0].error'))"

# --- failures mid-session ---------------------------------------------------
mid() {	# mid NAME POLICY WANT-ACTION WANT-ERROR RECORDER-ARGS...
	local name=$1 policy=$2 action=$3 want=$4 rc=0
	shift 4
	recorder "$@"
	daemon --recorder "127.0.0.1:$port" --on-recording-failure "$policy" \
		--recording-failure-message "recording failed: session terminated"
	"$AGENTD" shell -- sh -c 'echo first; sleep 0.3; echo second; sleep 4; echo third' \
		</dev/null >"$WORK/o" 2>"$WORK/e" || rc=$?
	upload_end 1 >/dev/null
	last_failure | jq -e ".action == \"$action\" and .recorder == \"127.0.0.1:$port\" and
		(.attempts[-1].error | test(\"$want\"))" >/dev/null || fail "$name: $(last_failure)"
	is_prefix "$out/up-1.cast" "$rec/1.cast" || fail "$name: the received cast is not a prefix of the local file"
	if [ "$action" = terminated ]; then
		[ $rc -eq 129 ] || fail "$name: exit $rc, want 129 (SIGHUP)"
		grep -q "recording failed: session terminated" "$WORK/e" || fail "$name: no message: $(cat "$WORK/e")"
		grep -q "\"o\", \"third" "$rec/1.cast" && fail "$name: the shell was not hung up: rc $rc $(cat "$WORK/e") $(last_failure) $(cat "$rec/1.cast")"
	else
		[ $rc -eq 0 ] || fail "$name: exit $rc"
		grep -q "\"o\", \"third" "$rec/1.cast" || fail "$name: the local cast stopped too"
	fi
	note "$name: $action ($(last_failure | jq -r '.attempts[-1].error')), received $(stat -c %s "$out/up-1.cast") of $(stat -c %s "$rec/1.cast") bytes, a prefix"
}
mid "V2 stalls acks" terminate terminated "no ack" --mode v2 --misbehave stall --after 1
mid "V2 error frame" continue continued "disk full" --mode v2 --misbehave error --after 1
mid "V2 drops the connection" terminate terminated "." --mode v2 --misbehave drop --after 1
mid "V1 drops the connection" continue continued "." --mode v1 --misbehave drop --after 1

# A recorder that stops reading: the 4 MiB buffer fills, the upload fails,
# the terminal never waits for it.
recorder --mode v2 --misbehave hang --after 1000000
daemon --recorder "127.0.0.1:$port"
yes 'The quick brown fox jumps over the lazy dog 0123456789.' | head -c 40000000 > "$WORK/big.txt"
"$AGENTD" shell -- sh -c "stty -opost; cat '$WORK/big.txt'" </dev/null >"$WORK/big.out" || fail "hang: shell failed"
cmp -s "$WORK/big.txt" "$WORK/big.out" || fail "hang: the client's output is incomplete"
last_failure | jq -e '.action == "continued" and (.attempts[-1].error | test("too slow"))' >/dev/null ||
	fail "hang: $(last_failure)"
upload_end 1 >/dev/null
is_prefix "$out/up-1.cast" "$rec/1.cast" || fail "hang: the received cast is not a prefix of the local file"
note "V2 stops reading: continued ($(last_failure | jq -r '.attempts[-1].error')), output complete, received a prefix"

# --- 20 concurrent shells, one recorder: every byte acknowledged -------------
recorder --mode v2
daemon --recorder "127.0.0.1:$port"
pids=
for i in $(seq 20); do
	"$AGENTD" shell -- sh -c "seq 1 40000 | sed 's/^/shell $i line /'" </dev/null >/dev/null &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "concurrent: a shell failed"; done
for k in $(seq 20); do
	upload_end "$k" | jq -e '.version == 2 and .end == "complete" and .acked == .bytes' >/dev/null ||
		fail "concurrent: upload $k: $(cat "$out/up-$k.json")"
done
(cd "$out" && sha256sum up-*.cast | awk '{ print $1 }' | sort) > "$WORK/got"
(cd "$rec" && sha256sum ./*.cast | awk '{ print $1 }' | sort) > "$WORK/want"
[ "$(wc -l < "$WORK/want")" -eq 20 ] || fail "concurrent: $(wc -l < "$WORK/want") local casts"
cmp -s "$WORK/got" "$WORK/want" || fail "concurrent: received casts differ from the local files"
total=$(cat "$out"/up-*.json | jq -s 'map(.acked) | add')
[ -z "$(last_failure)" ] || fail "concurrent: $(last_failure)"
note "20 concurrent shells: 20 uploads identical to the local casts, $total bytes, all acknowledged"

verify_chain >/dev/null
