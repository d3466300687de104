# Clients check whom they talk to (DESIGN §7, issue 11 §2). With
# XDG_RUNTIME_DIR unset, another local user who made /tmp/agentd-<uid> (0755)
# with a fake control.sock must get nothing: no start request, no ADD frame
# (private key) from `agentd add`, no command run by `eval "$(agentd start)"`.
# A peer of another uid on a good-looking socket is refused too, and every
# value printed for eval is quoted for sh and csh.
. "$(dirname "$0")/lib.sh"

command -v useradd >/dev/null && command -v setpriv >/dev/null ||
	{ note "no useradd/setpriv: skipped"; exit 0; }
[ "$(id -u)" -eq 0 ] || { note "not root: skipped"; exit 0; }

FAKE=$TESTS/helpers/fake-daemon.py
ATK=agentd-it-a$$ VIC=agentd-it-v$$
USERS= FAKE_PIDS= VDIR= ATKDIR= VHOME= VUID=
MARK=/tmp/agentd-it-pwned.$$

# Fakes are our children (exec'ed, so $! is python itself): kill and reap,
# so that no process of a test user is left when userdel runs.
kill_fakes() {
	local p
	for p in $FAKE_PIDS; do
		kill -KILL "$p" 2>/dev/null || true
		{ wait "$p"; } 2>/dev/null || true
	done
	FAKE_PIDS=
}

trust_cleanup() {
	local rc=$? u vpid
	kill_fakes
	# A victim daemon (only if a check let one start): by its pidfile lock.
	if [ -n "$VDIR" ] && vpid=$(cat "$VDIR/agentd.pid" 2>/dev/null) && [ -n "$vpid" ]; then
		kill -TERM "$vpid" 2>/dev/null || true
		flock -w 20 "$VDIR/agentd.pid" true 2>/dev/null || true
	fi
	[ -z "$VHOME" ] || LOG=$VHOME/.local/state/agentd/audit.jsonl kill_our_agents
	for u in $USERS; do userdel -f "$u" 2>/dev/null || true; done
	rm -rf "$MARK" ${VDIR:+"$VDIR"} ${ATKDIR:+"$ATKDIR"} ${VHOME:+"$VHOME"}
	# lib.sh's cleanup: the root daemon, agents, AGENTD_DIR, WORK; exits rc.
	set +e	# keep going: cleanup reads rc from $?
	(exit $rc)
	cleanup
}
trap trust_cleanup EXIT

useradd -M -N -s /bin/sh -d /nonexistent "$ATK" && USERS="$ATK"
useradd -M -N -s /bin/sh -d /nonexistent "$VIC" && USERS="$USERS $VIC"
AUID=$(id -u "$ATK") AGID=$(id -g "$ATK")
VUID=$(id -u "$VIC") VGID=$(id -g "$VIC")
VDIR=/tmp/agentd-$VUID
[ ! -e "$VDIR" ] || fail "$VDIR exists before the test"
VHOME=$(mktemp -d /tmp/agentd-it-vhome.XXXXXX)
chown "$VUID:$VGID" "$VHOME"
ATKDIR=$(mktemp -d /tmp/agentd-it-atk.XXXXXX)
chown "$AUID:$AGID" "$ATKDIR"
chmod 755 "$ATKDIR"	# the victim must reach its fake agent socket

as() {	# as UID GID HOME CMD...: no XDG_RUNTIME_DIR, no AGENTD_DIR
	local uid=$1 gid=$2 home=$3
	shift 3
	setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" SHELL=/bin/sh \
		AGENTD="$AGENTD" "$@"
}
as_vic() { as "$VUID" "$VGID" "$VHOME" "$@"; }
# In the background, with $! the very process (kill_fakes kills by pid).
as_bg() { ( exec setpriv --reuid="$1" --regid="$2" --clear-groups \
	env -i PATH=/usr/local/bin:/usr/bin:/bin "${@:3}" ) & }

# Waits for a fake daemon's ready file (it writes it once it listens).
wait_ready() {
	local i=0
	until [ -s "$1" ]; do
		i=$((i + 1))
		[ $i -le 200 ] || fail "fake daemon did not come up"
		sleep 0.05
	done
}

# The values a malicious daemon answers `start` with.
cat >"$ATKDIR/values.json" <<EOF
{"start": {"socket": "/tmp/x'; touch $MARK; '",
           "session": "s; touch $MARK #\$(touch $MARK)\`touch $MARK\`",
           "expires_at": "now\"; touch $MARK; echo \""}}
EOF
chmod 644 "$ATKDIR/values.json"

# --- 1. the attacker's /tmp/agentd-<victim uid>, 0755, with a fake daemon --
as_bg "$AUID" "$AGID" python3 "$FAKE" --socket "$VDIR/control.sock" \
	--dir-mode 0755 --agent-socket "$ATKDIR/agent.sock" \
	--record "$ATKDIR/record" --values "$ATKDIR/values.json" \
	--ready "$ATKDIR/ready"
FAKE_PIDS="$FAKE_PIDS $!"
wait_ready "$ATKDIR/ready"
[ "$(stat -c '%u %a' "$VDIR")" = "$AUID 755" ] || fail "attacker's dir not set up: $(stat -c '%u %a' "$VDIR")"

as_vic ssh-keygen -q -t ed25519 -N '' -C victim -f "$VHOME/key"

err=$(as_vic sh -c 'eval "$("$AGENTD" start)"' 2>&1) || true
note "start: $err"
[ ! -e "$MARK" ] || fail "eval \"\$(agentd start)\" ran the attacker's command"
rc=0; err=$(as_vic "$AGENTD" start 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] || fail "start: exit $rc, want 1: $err"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "start: not one line: $err"
case $err in
"agentd start: "*"$VDIR: owned by uid $AUID, not $VUID"*) ;;
*) fail "start does not name $VDIR and its owner: $err" ;;
esac
rc=0; err=$(as_vic "$AGENTD" add --session s "$VHOME/key" 2>&1) || rc=$?
note "add: $err"
[ $rc -eq 1 ] || fail "add: exit $rc, want 1: $err"
case $err in "agentd add: "*"$VDIR"*) ;; *) fail "add: unclear error: $err" ;; esac
rc=0; err=$(as_vic "$AGENTD" status 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "status: exit $rc (an unsafe directory is not 'not running'): $err"
rc=0; as_vic "$AGENTD" stop --all 2>/dev/null || rc=$?
[ $rc -eq 1 ] || fail "stop: exit $rc"
[ ! -s "$ATKDIR/record" ] || fail "the fake daemon received: $(head -c 200 "$ATKDIR/record" | od -c | head -5)"
[ ! -e "$VDIR/agentd.pid" ] || fail "a victim daemon started in the attacker's directory"

kill_fakes
rm -rf "$VDIR"
# The victim's own directory, but 0755 (a mistake; the mode is named).
mkdir -m 755 "$VDIR" && chown "$VUID:$VGID" "$VDIR"
rc=0; err=$(as_vic "$AGENTD" start 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] || fail "start in a 0755 dir of ours: exit $rc: $err"
case $err in *"$VDIR: mode 0755, expected exactly 0700"*) ;; *) fail "unclear: $err" ;; esac
[ "$(ls -A "$VDIR")" = "" ] || fail "start wrote into the unsafe dir: $(ls -A "$VDIR")"
rmdir "$VDIR"

# Once the directory is the victim's own again, start works as before.
out=$(as_vic sh -c 'eval "$("$AGENTD" start --ttl 5m)" >/dev/null && "$AGENTD" status --json && "$AGENTD" stop --all') ||
	fail "the victim's own start failed: $out"
[ "$(stat -c '%u %a' "$VDIR")" = "$VUID 700" ] || fail "victim's run dir: $(stat -c '%u %a' "$VDIR")"
vpid=$(cat "$VDIR/agentd.pid")
kill -TERM "$vpid"
flock -w 20 "$VDIR/agentd.pid" true || fail "victim daemon did not exit"

# --- 2. a good directory, but the peer runs as another uid ----------------
# Root's own private AGENTD_DIR; the fake binds there as root, then drops to
# the attacker's uid before listen(2), so SO_PEERCRED says the attacker.
mkdir -m 700 "$AGENTD_DIR/run"
python3 "$FAKE" --socket "$AGENTD_DIR/run/control.sock" --drop "$AUID:$AGID" \
	--record "$ATKDIR/record2" --values "$ATKDIR/values.json" \
	--ready "$ATKDIR/ready2" &
FAKE_PIDS="$FAKE_PIDS $!"
wait_ready "$ATKDIR/ready2"
for verb in status start; do
	rc=0; err=$("$AGENTD" $verb 2>&1 >/dev/null) || rc=$?
	[ $rc -eq 1 ] || fail "$verb with a foreign peer: exit $rc: $err"
	case $err in
	"agentd $verb: $AGENTD_DIR/run/control.sock: the daemon runs as uid $AUID"*) ;;
	*) fail "$verb: unclear error: $err" ;;
	esac
done
note "peer: $err"
[ ! -s "$ATKDIR/record2" ] || fail "the foreign peer received a request"
[ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "a daemon was started past a foreign peer"
kill_fakes
rm -f "$AGENTD_DIR/run/control.sock"

# --- 3. values for eval are quoted (a trusted but lying daemon) -----------
# Every value a shell could take as code: quotes, $, backticks, ;, !, and
# for sh a newline.
python3 - "$WORK/values.json" "$MARK" <<'PY'
import json, sys
m = sys.argv[2]
json.dump({"start": {
    "socket": "/tmp/a'b\"c $(touch %s) `touch %s` ; touch %s !! \\ end" % (m, m, m),
    "session": "s'; touch %s; '\nline2 $HOME !$" % m,
    "expires_at": "t`touch %s`'\"'\"" % m}}, open(sys.argv[1], "w"))
PY
python3 "$FAKE" --socket "$AGENTD_DIR/run/control.sock" --values "$WORK/values.json" \
	--record "$WORK/record3" --ready "$WORK/ready3" &
FAKE_PIDS="$FAKE_PIDS $!"
wait_ready "$WORK/ready3"
want_sock=$(jq -r .start.socket "$WORK/values.json")
want_sess=$(jq -j .start.session "$WORK/values.json")
for sh in dash bash; do
	command -v $sh >/dev/null || continue
	got=$($sh -c 'eval "$("$AGENTD" start -s)" >/dev/null && printf "%s|%s" "$SSH_AUTH_SOCK" "$AGENTD_SESSION"') ||
		fail "$sh: eval failed"
	[ ! -e "$MARK" ] || fail "$sh: eval ran a command from the reply"
	[ "$got" = "$want_sock|$want_sess" ] || fail "$sh: values changed: $got"
	# The echo line too (its output is the values, never a command).
	$sh -c 'eval "$("$AGENTD" start -s)"' >/dev/null
	[ ! -e "$MARK" ] || fail "$sh: the echo line ran a command"
done
note "sh: values round-trip through eval unchanged"
# csh cannot carry a newline through eval `...`: refused, nothing printed.
if command -v csh >/dev/null || command -v tcsh >/dev/null; then
	rc=0; out=$("$AGENTD" start -c 2>"$WORK/err") || rc=$?
	[ $rc -eq 1 ] && [ -z "$out" ] || fail "csh: a value with a newline was printed: $out"
	# The session nobody can use is stopped again.
	grep -q '"cmd":"stop"' "$WORK/record3" || fail "csh: the unusable session was not stopped"
	note "csh newline: $(cat "$WORK/err")"
	kill_fakes
	rm -f "$AGENTD_DIR/run/control.sock"
	python3 - "$WORK/values.json" "$MARK" <<'PY'
import json, sys
m = sys.argv[2]
json.dump({"start": {
    "socket": "/tmp/a'b\"c $(touch %s) `touch %s` ; touch %s !! \\ end" % (m, m, m),
    "session": "s'; touch %s; ' !$ !-1 $HOME" % m,
    "expires_at": "t`touch %s`'\"'\"" % m}}, open(sys.argv[1], "w"))
PY
	rm -f "$WORK/ready3"
	python3 "$FAKE" --socket "$AGENTD_DIR/run/control.sock" --values "$WORK/values.json" \
		--record "$WORK/record3" --ready "$WORK/ready3" &
	FAKE_PIDS="$FAKE_PIDS $!"
	wait_ready "$WORK/ready3"
	want_sess=$(jq -j .start.session "$WORK/values.json")
	"$AGENTD" start -c >"$WORK/csh-out"
	for csh in tcsh csh; do
		command -v $csh >/dev/null || continue
		# Interactive (-i): history substitution (!) is on, as in a user's shell.
		printf '%s\n' 'eval "`cat $OUT`"' 'printf "%s|%s" "$SSH_AUTH_SOCK" "$AGENTD_SESSION" > $GOT' |
			OUT=$WORK/csh-out GOT=$WORK/csh-got $csh -f -i >/dev/null 2>"$WORK/csh-err" || true
		[ ! -e "$MARK" ] || fail "$csh: eval ran a command from the reply"
		[ "$(cat "$WORK/csh-got" 2>/dev/null)" = "$want_sock|$want_sess" ] ||
			fail "$csh: values changed: $(cat "$WORK/csh-got" 2>/dev/null) ($(cat "$WORK/csh-err"))"
		rm -f "$WORK/csh-got"
	done
	note "csh: values round-trip through eval unchanged"
else
	note "no csh/tcsh: csh quoting not exercised"
fi
