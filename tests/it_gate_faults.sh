# The SSH egress gate's faults (DESIGN §10): byte counts equal what crossed,
# upstream down, upstream reset mid-transfer, 50 parallel connections, a
# client that stops reading (the daemon's memory stays bounded), session
# expiry mid-transfer, daemon SIGKILL mid-transfer (no listener or namespace
# left; the restart closes the books with supervisor_lost).
. "$(dirname "$0")/lib.sh"

peer() { python3 "$TESTS/helpers/tcp-peer.py" "$@"; }
start_peer() {	# start_peer MODE PORTFILE ARGS...: killed at the end, by pid
	python3 "$TESTS/helpers/tcp-peer.py" "$@" &
	EXTRA_PIDS="$EXTRA_PIDS $!"
	for i in $(seq 100); do [ -s "$2" ] && return 0; sleep 0.05; done
	fail "peer $1 did not start"
}
gate_port() {	# gate_port NAME: the gate's port for NAME in $AGENTD_SSH_CONFIG
	awk -v n="$1" '$1 == "Host" { h = $2 } $1 == "Port" && h == n { print $2 }' "$AGENTD_SSH_CONFIG"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

head -c 1000003 /dev/urandom > "$WORK/up"
head -c 3000017 /dev/urandom > "$WORK/down"
: > "$WORK/uplog"
start_peer serve "$WORK/p.serve" "$WORK/down" "$WORK/uplog"
start_peer reset "$WORK/p.reset"
start_peer flood "$WORK/p.flood"
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

eval "$("$AGENTD" start --ttl 5m --ssh-egress "file=localhost:$(cat "$WORK/p.serve")" \
	--ssh-egress "dead=127.0.0.1:$dead" --ssh-egress "reset=127.0.0.1:$(cat "$WORK/p.reset")" \
	--ssh-egress "flood=127.0.0.1:$(cat "$WORK/p.flood")")" >/dev/null
S1=$AGENTD_SESSION
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")

# A known file each way: the counts are exactly what crossed.
peer client "$(gate_port file)" "$WORK/up" "$WORK/got" || fail "client through the gate"
cmp -s "$WORK/got" "$WORK/down" || fail "bytes changed on the way down"
[ "$(cat "$WORK/uplog")" = 1000003 ] || fail "upstream got $(cat "$WORK/uplog") bytes"
wait_event '.event == "egress_closed" and .name == "file"' 10
has_event '.event == "egress_closed" and .name == "file"' '.bytes_up == 1000003 and .bytes_down == 3000017 and .error == null' ||
	fail "counts: $(jq -c 'select(.event == "egress_closed")' "$LOG")"

# Upstream down: the client is closed at once, and the log says why.
python3 - "$(gate_port dead)" <<'PY' || fail "upstream down: client not closed at once"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
c.settimeout(5)
assert c.recv(10) == b""
PY
wait_event '.event == "egress_closed" and .name == "dead"' 5
has_event '.event == "egress_closed" and .name == "dead"' '(.error | test("^upstream: Connection refused")) and .bytes_up == 0' ||
	fail "down: $(jq -c 'select(.name == "dead")' "$LOG")"

# Upstream that never answers the connect: closed after the gate's connect
# timeout (10 s) with the error.
start_peer blackhole "$WORK/p.hole"
eval "$("$AGENTD" start --ttl 5m --ssh-egress "hole=127.0.0.1:$(cat "$WORK/p.hole")")" >/dev/null
python3 - "$(gate_port hole)" <<'PY' || fail "blackhole: client not closed within 30 s"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
c.settimeout(30)
assert c.recv(10) == b""
PY
has_event '.event == "egress_closed" and .name == "hole"' '.error == "upstream: Connection timed out"' ||
	fail "blackhole: $(jq -c 'select(.name == "hole")' "$LOG")"
eval "$("$AGENTD" start --ttl 5m --ssh-egress "file=localhost:$(cat "$WORK/p.serve")" \
	--ssh-egress "dead=127.0.0.1:$dead" --ssh-egress "reset=127.0.0.1:$(cat "$WORK/p.reset")" \
	--ssh-egress "flood=127.0.0.1:$(cat "$WORK/p.flood")")" >/dev/null
daemon=$(cat "$AGENTD_DIR/run/agentd.pid")

# Upstream reset mid-transfer.
python3 - "$(gate_port reset)" <<'PY' || true
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
c.settimeout(10)
try:
    while c.recv(65536):
        pass
except OSError:
    pass
PY
wait_event '.event == "egress_closed" and .name == "reset"' 10
has_event '.event == "egress_closed" and .name == "reset"' '(.error | test("^upstream: Connection reset")) and .bytes_down <= 1048576' ||
	fail "reset: $(jq -c 'select(.name == "reset")' "$LOG")"

# 50 parallel connections, each with the right bytes.
: > "$WORK/uplog"
head -c 10007 /dev/urandom > "$WORK/up"
peer many "$(gate_port file)" 50 "$WORK/up" "$WORK/down" || fail "parallel clients"
[ "$(grep -c '^10007$' "$WORK/uplog")" -eq 50 ] || fail "upstream counts: $(sort "$WORK/uplog" | uniq -c)"
for i in $(seq 100); do
	[ "$(count_events '.event == "egress_closed" and .name == "file"')" -eq 51 ] && break
	sleep 0.1
done
[ "$(count_events '.event == "egress_closed" and .name == "file" and .bytes_up == 10007 and .bytes_down == 3000017 and .error == null')" -eq 50 ] ||
	fail "parallel: not 50 clean closes"

# A client that stops reading: the upstream floods, the daemon's memory
# stays bounded (one buffer per direction; the kernel's socket buffers hold
# the rest and the flood stalls).
before=$(rss_kb "$daemon")
exec 7<>"/dev/tcp/127.0.0.1/$(gate_port flood)"
sleep 2
mid=$(rss_kb "$daemon")
sleep 1
after=$(rss_kb "$daemon")
[ $((after - before)) -lt 16384 ] || fail "daemon grew from ${before} to ${after} kB with a stalled client"
[ $((after - mid)) -lt 2048 ] || fail "daemon still growing: ${mid} -> ${after} kB"
"$AGENTD" status --json | jq -e '.[] | .egress[]? | select(.name == "flood") | .connections | length == 1' >/dev/null ||
	fail "status does not list the open connection: $("$AGENTD" status --json)"
exec 7>&-
wait_event '.event == "egress_closed" and .name == "flood"' 10

# Session expiry mid-transfer: the connection ends with session_end.
start_peer slow "$WORK/p.slow"
eval "$("$AGENTD" start --ttl 3s --ssh-egress "slow=127.0.0.1:$(cat "$WORK/p.slow")")" >/dev/null
S2=$AGENTD_SESSION
python3 - "$(gate_port slow)" <<'PY' || fail "expiry: the client was not closed"
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
c.settimeout(20)
while c.recv(100):
    pass
PY
wait_event ".event == \"stopped\" and .session == \"$S2\"" 20
has_event ".event == \"egress_closed\" and .session == \"$S2\"" '.error == "session_end" and .bytes_down >= 1' ||
	fail "expiry: $(jq -c "select(.session == \"$S2\")" "$LOG")"
seq_closed=$(jq -r "select(.event == \"egress_closed\" and .session == \"$S2\") | .seq" "$LOG")
seq_stop=$(jq -r "select(.event == \"stopped\" and .session == \"$S2\") | .seq" "$LOG")
[ "$seq_closed" -lt "$seq_stop" ] || fail "egress_closed after stopped"

# Daemon SIGKILL mid-transfer, with a --net gate shell open.
eval "$("$AGENTD" start --ttl 5m --ssh-egress "slow=127.0.0.1:$(cat "$WORK/p.slow")")" >/dev/null
S3=$AGENTD_SESSION
sport=$(gate_port slow)
exec 8<>"/dev/tcp/127.0.0.1/$sport"
"$AGENTD" shell -T --net gate -- sleep 300 >/dev/null 2>&1 &
shellc=$!
EXTRA_PIDS="$EXTRA_PIDS $shellc"
wait_event ".event == \"shell_started\" and .session == \"$S3\"" 10
spid=$(jq -r "select(.event == \"shell_started\" and .session == \"$S3\") | .pid" "$LOG")
wait_event ".event == \"egress_opened\" and .session == \"$S3\"" 10
netns=$(readlink "/proc/$spid/ns/net")
[ "$netns" != "$(readlink /proc/self/ns/net)" ] || fail "--net gate shell in the host's namespace"
kill -KILL "$daemon"
flock -w 20 "$AGENTD_DIR/run/agentd.pid" true
(exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && fail "the gate still listens after SIGKILL"
wait_gone "$spid" 20 || fail "the --net gate shell (and its namespace) outlived the daemon"
exec 8>&-
"$AGENTD" start --ttl 1m >"$WORK/restart" 2>&1 || fail "restart: $(cat "$WORK/restart")"
wait_event ".event == \"crashed\" and .session == \"$S3\"" 20
has_event ".event == \"egress_closed\" and .session == \"$S3\"" '.error == "supervisor_lost" and .bytes_up == null' ||
	fail "restart did not close the books: $(jq -c "select(.session == \"$S3\")" "$LOG")"

# Every opened has exactly one closed.
jq -s '[.[] | select(.event == "egress_opened") | "\(.session)/\(.conn)"] | sort' "$LOG" > "$WORK/o"
jq -s '[.[] | select(.event == "egress_closed") | "\(.session)/\(.conn)"] | sort' "$LOG" > "$WORK/c"
cmp -s "$WORK/o" "$WORK/c" || fail "opened and closed differ: $(diff "$WORK/o" "$WORK/c")"
verify_chain >/dev/null
python3 "$TESTS/helpers/events-doc.py" "$TESTS/.." "$LOG" || fail "events not documented"
