# The SSH egress gate against a real sshd serving a bare git repository
# (DESIGN §10): `agentd shell --net gate -- git fetch` through the gate, and
# nothing else reachable from that shell; ssh -F "$AGENTD_SSH_CONFIG" with
# strict host key checking against a known_hosts naming only the real host.
. "$(dirname "$0")/lib.sh"
: "${AUDITCTL:?AUDITCTL must name the auditctl binary}"

command -v git >/dev/null || { note "no git: skipped"; exit 0; }
ssh-keygen -q -t ed25519 -N '' -f "$WORK/otherhost"
start_sshd sshd || { note "no sshd: skipped"; exit 0; }
newkey user ed25519
cp "$WORK/user.pub" "$S/authorized_keys"
# A test HTTP server, reachable from the host, not from the gate's namespace.
(cd "$WORK" && exec python3 -m http.server 0 --bind 127.0.0.1 >"$WORK/http.log" 2>&1) &
http=$!
EXTRA_PIDS="$EXTRA_PIDS $http"
for i in $(seq 100); do
	hport=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/http.log" | head -n 1)
	[ -n "$hport" ] && break
	sleep 0.05
done
[ -n "$hport" ] || fail "http server did not start"
curl -sf -o /dev/null "http://127.0.0.1:$hport/" || fail "http server not reachable from the host"

# The bare repository, two commits; a clone of it at the first one.
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
git init -q --bare "$WORK/repo.git"
git init -q "$WORK/src"
git -C "$WORK/src" commit -q --allow-empty -m one
git -C "$WORK/src" push -q "$WORK/repo.git" HEAD:refs/heads/main
git clone -q "$WORK/repo.git" "$WORK/clone" 2>/dev/null
git -C "$WORK/src" commit -q --allow-empty -m two
git -C "$WORK/src" push -q "$WORK/repo.git" HEAD:refs/heads/main
want=$(git -C "$WORK/src" rev-parse HEAD)
[ "$(git -C "$WORK/clone" rev-parse origin/main)" != "$want" ] || fail "clone already up to date"

# known_hosts names only the real host (the HostKeyAlias), never the gate.
echo "[localhost]:$port $(cat "$S/host.pub")" > "$WORK/known_hosts"
echo "[localhost]:$port $(cat "$WORK/otherhost.pub")" > "$WORK/known_hosts.wrong"

# --dry-run creates nothing, and says what a start would do.
"$AGENTD" start --dry-run --json --ssh-egress "git=localhost:$port" --ttl 5m > "$WORK/plan"
jq -e ".dry_run == true and .ttl_s == 300 and .egress[0].name == \"git\" and
    .egress[0].upstream == \"localhost:$port\" and
    .egress[0].host_key_alias == \"[localhost]:$port\"" "$WORK/plan" >/dev/null ||
	fail "dry-run plan: $(cat "$WORK/plan")"
"$AGENTD" start --dry-run --ssh-egress "git=localhost:$port" | grep -q "localhost:$port" ||
	fail "dry-run table lacks the upstream"
[ ! -e "$AGENTD_DIR/run" ] && [ ! -e "$LOG" ] || fail "dry-run created something: $(ls "$AGENTD_DIR")"
"$AGENTD" start --ssh-egress 'a b=host' >/dev/null 2>"$WORK/err" && fail "bad NAME accepted"
[ $? -eq 2 ] || true
grep -q "ssh-egress" "$WORK/err" || fail "no one-line reason: $(cat "$WORK/err")"

eval "$("$AGENTD" start --ttl 5m --ssh-egress "git=localhost:$port")" >/dev/null
ssh-add "$WORK/user" 2>/dev/null || fail "ssh-add"
cfg=$AGENTD_SSH_CONFIG
[ -f "$cfg" ] || fail "no ssh_config printed by start"
[ "$(stat -c %a "$cfg")" = 600 ] || fail "ssh_config mode $(stat -c %a "$cfg")"
grep -q "^Host git$" "$cfg" && grep -q "HostKeyAlias \[localhost\]:$port" "$cfg" &&
	grep -q "IdentityAgent \"$SSH_AUTH_SOCK\"" "$cfg" || fail "ssh_config: $(cat "$cfg")"
gport=$(awk '$1 == "Port" { print $2 }' "$cfg")

has_event ".event == \"created\" and .session == \"$AGENTD_SESSION\"" \
    ".egress == [{\"name\": \"git\", \"upstream\": \"localhost:$port\", \"listen\": \"127.0.0.1:$gport\"}] and .isolate_net == false" ||
	fail "created lacks the gate: $(jq -c 'select(.event == "created")' "$LOG")"

# Without --net gate: strict checking through the gate, against the real
# host's key only; a wrong key for that name is refused.
unset SSH_AUTH_SOCK
ssh -F "$cfg" -o UserKnownHostsFile="$WORK/known_hosts" -o BatchMode=yes \
	-o StrictHostKeyChecking=yes git true 2>"$WORK/ssh.err" ||
	fail "ssh through the gate: $(cat "$WORK/ssh.err")"
ssh -F "$cfg" -o UserKnownHostsFile="$WORK/known_hosts.wrong" -o BatchMode=yes \
	-o StrictHostKeyChecking=yes git true 2>"$WORK/ssh.err" &&
	fail "a wrong host key was accepted through the gate"
grep -q "IDENTIFICATION HAS CHANGED" "$WORK/ssh.err" || fail "unexpected: $(cat "$WORK/ssh.err")"

# --net gate: git fetch works through the gate; nothing else is reachable.
rc=0
"$AGENTD" shell -T --net gate -- bash -c '
	GIT_SSH_COMMAND="$GIT_SSH_COMMAND -o UserKnownHostsFile='"$WORK"'/known_hosts -o BatchMode=yes" \
		git -C '"$WORK"'/clone fetch -q "git:'"$WORK"'/repo.git" main:refs/remotes/origin/main || exit 10
	curl -s -m 5 -o /dev/null "http://127.0.0.1:'"$hport"'/" && exit 11
	(exec 3<>/dev/tcp/127.0.0.1/'"$port"') 2>/dev/null && exit 12
	(exec 3<>/dev/tcp/127.0.0.1/'"$gport"') 2>/dev/null || exit 13
	exit 0' >"$WORK/shell.out" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "--net gate shell: exit $rc (10 fetch, 11 http reachable, 12 sshd reachable, 13 gate unreachable): $(cat "$WORK/shell.out")"
[ "$(git -C "$WORK/clone" rev-parse origin/main)" = "$want" ] || fail "fetch did not bring the commits"
has_event '.event == "shell_started"' '.net == "gate" or .net == null' || fail "shell_started net"
[ "$(count_events '.event == "shell_started" and .net == "gate"')" -eq 1 ] || fail "no shell_started with net gate"

# Without --net gate, the host is reachable as before (the test can fail).
"$AGENTD" shell -T -- sh -c "curl -s -m 5 -o /dev/null http://127.0.0.1:$hport/" ||
	fail "a plain shell cannot reach the http server"

# Events: one closed per opened, all clean, upstream and address named.
opened=$(count_events '.event == "egress_opened"')
[ "$opened" -ge 3 ] || fail "only $opened egress_opened"
[ "$(count_events '.event == "egress_closed"')" -eq "$opened" ] || fail "opened/closed mismatch"
has_event '.event == "egress_opened"' ".name == \"git\" and .upstream == \"localhost:$port\" and (.address | test(\":$port\$\"))" ||
	fail "egress_opened fields: $(jq -c 'select(.event == "egress_opened")' "$LOG")"
[ "$(count_events '.event == "egress_closed" and .error == null')" -ge 3 ] || fail "clean egress_closed missing"
has_event '.event == "egress_closed" and .conn <= 3' '.error == null and .bytes_up > 0 and .bytes_down > 0 and .duration_s >= 0' ||
	fail "egress_closed fields: $(jq -c 'select(.event == "egress_closed")' "$LOG")"

# auditctl show lists the gate's connections of the session.
"$AUDITCTL" --log "$LOG" show "$AGENTD_SESSION" > "$WORK/show"
grep -q "egress_opened.*name=git" "$WORK/show" && grep -q "egress_closed.*bytes_up=" "$WORK/show" ||
	fail "auditctl show: $(cat "$WORK/show")"

# --isolate-net: shells of that session get the namespace by default.
eval "$("$AGENTD" start --ttl 5m --isolate-net --ssh-egress "git=localhost:$port")" >/dev/null
"$AGENTD" status --json | jq -e ".[] | select(.session == \"$AGENTD_SESSION\") | .isolate_net == true and .egress[0].name == \"git\"" >/dev/null ||
	fail "status lacks the gate: $("$AGENTD" status --json)"
"$AGENTD" shell -T -- sh -c "curl -s -m 5 -o /dev/null http://127.0.0.1:$hport/" &&
	fail "an --isolate-net session's shell reached the http server"
verify_chain >/dev/null
python3 "$TESTS/helpers/events-doc.py" "$TESTS/.." "$LOG" || fail "events not documented"
