# Unsafe places are refused with a clear message naming the path and left
# untouched: the runtime root as a symlink, owned by another uid, mode 0755 or
# 0711 (and others), a file in its place; a parent writable by others.
. "$(dirname "$0")/lib.sh"

R=$AGENTD_DIR/run
snapshot() { stat -c '%F %a %u %N' "$R"; }

expect_refused() {	# expect_refused WHAT PATTERN
	local before after rc=0 err
	before=$(snapshot)
	err=$("$AGENTD" start --ttl 1m 2>&1 >/dev/null) || rc=$?
	[ $rc -eq 1 ] || fail "$1: exit $rc, expected 1 (stderr: $err)"
	echo "$err" | grep -q "$R" || fail "$1: message does not name $R: $err"
	echo "$err" | grep -qi "$2" || fail "$1: message does not say '$2': $err"
	[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "$1: message is not one line: $err"
	after=$(snapshot)
	[ "$before" = "$after" ] || fail "$1: changed: '$before' -> '$after'"
	[ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "$1: a daemon started anyway"
	note "$1: $err"
}

mkdir -m 700 "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$R"
expect_refused "symlink" "symbolic link"
[ -z "$(ls -A "$WORK/elsewhere")" ] || fail "symlink target was written to"
rm "$R"

for mode in 755 711 770 707 750 500; do
	mkdir "$R" && chmod "$mode" "$R"
	expect_refused "mode $mode" "mode"
	rmdir "$R"
done

if [ "$(id -u)" -eq 0 ]; then
	mkdir -m 700 "$R" && chown 65534:65534 "$R"
	expect_refused "owned by uid 65534" "owned by"
	rmdir "$R"
else
	note "not root: skipping the wrong-owner case"
fi

: > "$R"
expect_refused "regular file" "not a directory"
rm "$R"

python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$R"
expect_refused "socket" "not a directory"
rm "$R"

# The state root itself (AGENTD_DIR) at 0755: refused, not chmod'ed.
chmod 755 "$AGENTD_DIR"
rc=0; err=$("$AGENTD" start 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "mode" || fail "0755 state root accepted: $err"
[ "$(stat -c %a "$AGENTD_DIR")" = 755 ] || fail "state root mode changed"
chmod 700 "$AGENTD_DIR"

# A parent writable by others without the sticky bit.
mkdir -m 777 "$WORK/open"
chmod 777 "$WORK/open"
rc=0; err=$(AGENTD_DIR="$WORK/open/d" "$AGENTD" start 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "$WORK/open" || fail "world-writable parent accepted: $err"
[ ! -e "$WORK/open/d" ] || fail "created a directory under a world-writable parent"
note "open parent: $err"

# After all that, a good start still works and the log is clean.
eval "$("$AGENTD" start --ttl 1m)" >/dev/null
[ "$(count_events '.event == "created"')" -eq 1 ] || fail "expected exactly one created"
