# The autostart fails closed (issue 11 §4): S/agentd.log that is a FIFO (it
# used to hang `agentd start` for ever), a directory, a symlink, someone
# else's file or a group-writable one is refused with one line naming it,
# like audit.jsonl, and no daemon is left behind. A daemon that never gets
# ready is stopped after the client's bound and its reason printed.
. "$(dirname "$0")/lib.sh"

export AGENTD_CLIENT_TIMEOUT=3
L=$AGENTD_DIR/agentd.log
PIDF=$AGENTD_DIR/run/agentd.pid

# lib.sh's cleanup reads agentd.log: never let it open a FIFO.
autostart_cleanup() {
	local rc=$?
	[ ! -p "$L" ] || rm -f "$L"
	set +e	# keep going: cleanup reads rc from $?
	(exit $rc)
	cleanup
}
trap autostart_cleanup EXIT

# No daemon runs: nothing holds the pidfile lock, nothing listens.
no_daemon() {
	if [ -e "$PIDF" ]; then
		flock -n "$PIDF" true || fail "$1: a daemon is left behind (pid $(cat "$PIDF"))"
	fi
	[ ! -S "$AGENTD_DIR/run/control.sock" ] || fail "$1: control.sock is left"
}

# refused WHAT PATTERN: start exits 1 in time with one line naming agentd.log.
refused() {
	local what=$1 want=$2 rc=0 err i
	err=$(timeout 30 "$AGENTD" start 2>&1 >/dev/null) || rc=$?
	if [ $rc -eq 124 ]; then
		# The old client hangs on a FIFO: unblock the daemon so that
		# cleanup can stop it by its pidfile.
		exec 3<>"$L"	# a reader (and writer): its open(2) returns
		i=0
		until [ -S "$AGENTD_DIR/run/control.sock" ] || [ $i -ge 100 ]; do
			i=$((i + 1))
			sleep 0.1
		done
		fail "$what: agentd start still hangs after 30 s"
	fi
	[ $rc -eq 1 ] || fail "$what: exit $rc, want 1: $err"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$what: not one line: $err"
	case $err in
	"agentd start: $L: $want"*) ;;
	*) fail "$what: want 'agentd start: $L: $want…', got: $err" ;;
	esac
	note "$what: $err"
	no_daemon "$what"
}

mkfifo -m 600 "$L"
refused fifo "is a fifo, not a regular file"
rm "$L"
mkdir -m 700 "$L"
refused directory "is a directory, not a regular file"
rmdir "$L"
ln -s "$WORK/elsewhere" "$L"
refused symlink "is a symbolic link"
[ ! -e "$WORK/elsewhere" ] || fail "symlink: its target was created"
rm "$L"
touch "$L" && chmod 600 "$L" && chown 65534:65534 "$L"
refused "someone else's" "owned by uid 65534"
rm "$L"
touch "$L" && chmod 620 "$L"
refused group-writable "mode 0620, writable by group or others"
# Our own regular file is used as before.
chmod 600 "$L"
eval "$("$AGENTD" start --ttl 5m)" >/dev/null || fail "a good agentd.log is refused"
"$AGENTD" status >/dev/null || fail "status after the good start"
stop_daemon

# A daemon that never gets ready (its listen(2) stalls, by an LD_PRELOAD
# shim): serve gives up after AGENTD_CLIENT_TIMEOUT, kills it, and the client
# says so in one line.
command -v cc >/dev/null || { note "no cc: readiness timeout not tested"; exit 0; }
printf '%s\n' '#include <unistd.h>' \
	'int listen(int fd, int backlog) { (void)fd; (void)backlog; for (;;) pause(); }' >"$WORK/stall.c"
cc -shared -fPIC -o "$WORK/stall.so" "$WORK/stall.c"
rm -f "$PIDF"
rc=0
err=$(LD_PRELOAD=$WORK/stall.so ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	timeout 30 "$AGENTD" start 2>&1 >/dev/null) || rc=$?
if [ $rc -eq 124 ]; then
	# The stalled daemon blocks SIGTERM (signalfd): kill it by its pidfile.
	kill -KILL "$(cat "$PIDF")" 2>/dev/null || true
	fail "stalled daemon: agentd start still waits after 30 s"
fi
[ $rc -eq 1 ] || fail "stalled daemon: exit $rc: $err"
case $err in
"agentd start: the daemon did not become ready within 3 s"*) ;;
*) fail "stalled daemon: unclear: $err" ;;
esac
note "stalled: $err"
# The killed daemon let go of its pidfile lock (it held it while stalled).
flock -w 10 "$PIDF" true || fail "the stalled daemon is left behind (pid $(cat "$PIDF"))"
# And the next start works.
eval "$("$AGENTD" start --ttl 5m)" >/dev/null || fail "start after a stalled daemon"

# A runtime directory too long for a session's sockets: the daemon refuses to
# start at all, rather than run on and refuse every start (reviewer, issue 11).
LONG=$WORK/$(printf 'd%.0s' $(seq 1 $((100 - ${#WORK}))))
mkdir -m 0700 "$LONG"
rc=0
err=$(AGENTD_DIR=$LONG timeout 30 "$AGENTD" start 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] || fail "long runtime path: exit $rc: $err"
case $err in
"agentd start: $LONG/run: runtime directory path too long for a unix socket"*) ;;
*) fail "long runtime path: unclear: $err" ;;
esac
if [ -e "$LONG/run/agentd.pid" ]; then
	flock -n "$LONG/run/agentd.pid" true ||
		{ kill -TERM "$(cat "$LONG/run/agentd.pid")"; fail "long runtime path: a daemon is left behind"; }
fi
note "long path: $err"
