# sd_notify for Type=notify units: `serve --foreground` sends READY=1 with
# MAINPID (its own pid: no fork) once the control socket listens, and
# STOPPING=1 when it begins to shut down. tests/helpers/dgram_sink.py stands
# in for systemd's NOTIFY_SOCKET (an AF_UNIX datagram socket at a path).
. "$(dirname "$0")/lib.sh"

NSOCK=$WORK/notify.sock
AGENTD_CONTROL=$AGENTD_DIR/run/control.sock \
	python3 "$TESTS/helpers/dgram_sink.py" notify "$NSOCK" "$WORK/notify.out" &
EXTRA_PIDS="$EXTRA_PIDS $!"
i=0; until [ -S "$NSOCK" ]; do
	i=$((i + 1)); [ $i -le 100 ] || fail "sink did not bind"; sleep 0.05
done
: > "$WORK/notify.out"
NOTIFY_SOCKET=$NSOCK "$AGENTD" serve --foreground --no-spare 2>>"$AGENTD_DIR/agentd.log" &
pid=$!
EXTRA_PIDS="$EXTRA_PIDS $pid"
i=0; until grep -q 'READY=1' "$WORK/notify.out"; do
	i=$((i + 1)); [ $i -le 200 ] || fail "no READY=1 within 10 s"; sleep 0.05
done
jq -e --arg pid "$pid" '.msg == "READY=1\nMAINPID=\($pid)"' "$WORK/notify.out" >/dev/null ||
	fail "READY message: $(cat "$WORK/notify.out") (pid $pid)"
jq -e '.control_listens == true' "$WORK/notify.out" >/dev/null ||
	fail "READY=1 came before the control socket listened"
[ "$(cat "$AGENTD_DIR/run/agentd.pid")" = "$pid" ] || fail "--foreground forked"
"$AGENTD" start --ttl 1m --json >/dev/null || fail "start under the notify daemon"
grep -q STOPPING "$WORK/notify.out" && fail "STOPPING=1 before shutdown"
kill -TERM "$pid"
wait "$pid" || fail "daemon exit status $?"
i=0; until grep -q 'STOPPING=1' "$WORK/notify.out"; do
	i=$((i + 1)); [ $i -le 100 ] || fail "no STOPPING=1: $(cat "$WORK/notify.out")"; sleep 0.05
done
[ "$(wc -l < "$WORK/notify.out")" -eq 2 ] || fail "messages: $(cat "$WORK/notify.out")"
note "READY=1 with MAINPID=$pid once listening, STOPPING=1 at SIGTERM"
