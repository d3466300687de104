# An unsafe state root is refused *untouched*: `agentd start` must not create
# the runtime root or agentd.log inside it before the daemon refuses it, and a
# state root that is a symlink must never get a file in its target.
. "$(dirname "$0")/lib.sh"

for mode in 755 711 770 707; do
	chmod "$mode" "$AGENTD_DIR"
	before=$(ls -A "$AGENTD_DIR")
	rc=0; err=$("$AGENTD" start 2>&1 >/dev/null) || rc=$?
	[ $rc -eq 1 ] && echo "$err" | grep -q "$AGENTD_DIR" || fail "mode $mode accepted: $err"
	[ "$(ls -A "$AGENTD_DIR")" = "$before" ] || fail "mode $mode: state root changed: $(ls -A "$AGENTD_DIR")"
	chmod 700 "$AGENTD_DIR"
done
# The state root a symlink to a good-looking directory (its parent is good).
mkdir -m 700 "$WORK/target" "$WORK/parent"
ln -s "$WORK/target" "$WORK/parent/state"
rc=0; err=$(AGENTD_DIR="$WORK/parent/state" "$AGENTD" start 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] || fail "symlinked state root accepted"
[ -z "$(ls -A "$WORK/target")" ] || fail "wrote into the symlink's target: $(ls -A "$WORK/target")"
# agentd serve alone, the same.
chmod 755 "$AGENTD_DIR"
rc=0; "$AGENTD" serve 2>/dev/null || rc=$?
[ $rc -eq 1 ] || fail "serve accepted a 0755 state root"
[ -z "$(ls -A "$AGENTD_DIR")" ] || fail "serve wrote into a 0755 state root: $(ls -A "$AGENTD_DIR")"
chmod 700 "$AGENTD_DIR"
"$AGENTD" start >/dev/null || fail "good state root refused"
