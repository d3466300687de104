# A daemon that drops the client, answers garbage or hangs (issue 11 §3, the
# client's half): every verb prints one line `agentd VERB: …` and exits 1,
# never 141 (SIGPIPE) with no message, and never waits for ever: replies and
# connects are bounded (AGENTD_CLIENT_TIMEOUT, 30 s by default; 2 s here).
. "$(dirname "$0")/lib.sh"

FAKE=$TESTS/helpers/fake-daemon.py
FAKE_PID=
export AGENTD_CLIENT_TIMEOUT=2
mkdir -m 700 "$AGENTD_DIR/run"
SOCK=$AGENTD_DIR/run/control.sock

stop_fake() {
	if [ -n "$FAKE_PID" ]; then
		kill -KILL "$FAKE_PID" 2>/dev/null || true
		{ wait "$FAKE_PID"; } 2>/dev/null || true
	fi
	FAKE_PID=
	rm -f "$SOCK" "$WORK/ready"
}

faults_cleanup() {
	local rc=$?
	stop_fake
	set +e	# keep going: cleanup reads rc from $?
	(exit $rc)
	cleanup
}
trap faults_cleanup EXIT

fake() {	# fake MODE: a daemon of our own uid in our own private R
	stop_fake
	python3 "$FAKE" --socket "$SOCK" --mode "$1" --record "$WORK/record" \
		--ready "$WORK/ready" &
	FAKE_PID=$!
	local i=0
	until [ -s "$WORK/ready" ]; do
		i=$((i + 1))
		[ $i -le 200 ] || fail "fake daemon ($1) did not come up"
		sleep 0.05
	done
}

# expect_one_line MODE VERB ARGS...: exit 1 within the bound, one line.
expect_one_line() {
	local mode=$1 verb=$2 rc=0 err
	shift 2
	# `timeout` only catches a client that would wait for ever.
	err=$(timeout 30 "$AGENTD" "$verb" "$@" 2>&1 >/dev/null) || rc=$?
	# stop's progress line after 1 s ("waiting for ...") is no failure.
	err=$(printf '%s\n' "$err" | grep -v '^agentd stop: waiting for ' || true)
	[ $rc -ne 124 ] || fail "$mode: agentd $verb still waits after 30 s"
	[ $rc -eq 1 ] || fail "$mode: agentd $verb: exit $rc, want 1: $err"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$mode: agentd $verb: not one line: $err"
	case $err in "agentd $verb: "?*) ;; *) fail "$mode: agentd $verb: unclear: $err" ;; esac
	note "$mode: $err"
}

newkey k
for mode in close garbage hugelen notjson short hang; do
	fake $mode
	expect_one_line $mode status
	expect_one_line $mode start
	expect_one_line $mode add --session s "$WORK/k"
done
# stop waits longer by design (sessions end within 2 x 5 s), still bounded.
fake hang
expect_one_line hang stop --all
# A daemon whose listen backlog is full (hung, or starved): connect(2) itself
# is bounded.
fake backlog
expect_one_line backlog status
expect_one_line backlog start
[ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "a daemon was autostarted past a live socket"

# The client ignores SIGPIPE while it talks to the daemon (the fake reads
# the peer's /proc/PID/status SigIgn mask), so a dropped connection is an
# EPIPE to report, not a silent death.
rm -f "$WORK/record"
fake sigpipe
"$AGENTD" status >/dev/null || fail "status against the sigpipe fake"
grep -qx "SigIgn-PIPE yes" "$WORK/record" || fail "the client does not ignore SIGPIPE: $(cat "$WORK/record")"
# And behaviourally: a daemon that drops every connection at once.
fake close
n141=0 other=0
for i in $(seq 1 40); do
	rc=0; "$AGENTD" status >/dev/null 2>&1 || rc=$?
	case $rc in 1) ;; 141) n141=$((n141 + 1)) ;; *) other=$((other + 1)) ;; esac
done
[ $n141 -eq 0 ] && [ $other -eq 0 ] || fail "40 dropped clients: $n141 died of SIGPIPE, $other other exits"
