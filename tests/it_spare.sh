# The spare agent started ahead: the next start with the same key TTL claims
# it (its agent answers at once); it writes no event until claimed; a start
# with another TTL replaces it; a dead spare costs nothing; --no-spare runs
# none; shutdown and a killed daemon leave nothing of it behind.
. "$(dirname "$0")/lib.sh"

spare_pid() {	# the spare's agent pid once it is ready
	local i
	for i in $(seq 100); do
		p=$(python3 - "$AGENTD_DIR/run/control.sock" <<'PY'
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
req = b'{"cmd":"status"}'; s.sendall(struct.pack(">I", len(req)) + req)
d = b""
while True:
    b = s.recv(65536)
    if not b: break
    d += b
sp = [x for x in json.loads(d[4:]).get("spares", []) if x["state"] == "spare"]
print(sp[0]["agent_pid"] if sp else "")
PY
)
		[ -n "$p" ] && { echo "$p"; return; }
		sleep 0.05
	done
}

"$AGENTD" start --ttl 10m --json > "$WORK/s1"
sp=$(spare_pid)
[ -n "$sp" ] || fail "no spare after the first start"
[ "$(count_events 'true')" -eq 1 ] || fail "the spare wrote an event"
"$AGENTD" start --ttl 10m --json > "$WORK/s2"
[ "$(jq -r .agent_pid "$WORK/s2")" = "$sp" ] || fail "the second start did not claim the spare ($sp)"
has_event ".event == \"created\" and .agent_pid == $sp" ".ttl_s == 600 and .key_ttl_s == 600" ||
	fail "the claimed spare's created event"
SSH_AUTH_SOCK=$(jq -r .socket "$WORK/s2") ssh-add -l >/dev/null 2>&1 || [ $? -eq 1 ] ||
	fail "the claimed spare does not answer on its public socket"

# Another key TTL: a fresh agent, and the spare follows the new TTL.
sp=$(spare_pid)
"$AGENTD" start --ttl 5m --json > "$WORK/s3"
[ "$(jq -r .agent_pid "$WORK/s3")" != "$sp" ] || fail "a 5m start took the 10m spare"
wait_gone "$sp" 10 || fail "the replaced spare's agent lives on"
sp=$(spare_pid)
has_event ".event == \"created\" and .agent_pid == $sp" 'true' && fail "the new spare is not fresh"

# A dead spare: no event, and the next start still works.
kill -KILL "$sp"
wait_gone "$sp" 5 || fail "spare not dead"
"$AGENTD" start --ttl 5m --json > "$WORK/s4" || fail "start after the spare died"
[ "$(count_events '.event == "crashed"')" -eq 0 ] || fail "a dead spare was logged as a crash"

# Shutdown: no spare directory or process left.
sp=$(spare_pid)
spid=$(spare_ids)
stop_daemon
wait_gone "$sp" 5 || fail "the spare outlived the daemon's shutdown"
[ ! -e "$AGENTD_DIR/run/sessions/$spid" ] || fail "the spare's directory outlived the shutdown"

# A killed daemon: its spare goes with it, the restart removes its directory.
"$AGENTD" start --ttl 5m >/dev/null
sp=$(spare_pid)
spid=$(spare_ids)
kill -KILL "$(cat "$AGENTD_DIR/run/agentd.pid")"
wait_gone "$sp" 15 || fail "the spare outlived the killed daemon by 15 s"
"$AGENTD" start --ttl 5m >/dev/null
[ ! -e "$AGENTD_DIR/run/sessions/$spid" ] || fail "the dead daemon's spare directory survived the restart"
has_event ".session == \"$spid\"" 'true' && fail "the dead spare was logged"
stop_daemon

# --no-spare: none.
"$AGENTD" serve --no-spare
"$AGENTD" start --ttl 5m >/dev/null
"$AGENTD" start --ttl 5m >/dev/null
[ -z "$(spare_ids)" ] || fail "--no-spare started a spare"
verify_chain >/dev/null
