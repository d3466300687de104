# make install PREFIX DESTDIR puts agentd, auditctl, the static tether (in
# libexec, where agentd looks) and both man pages in place, and the
# installed agentd runs a session with the installed tether.
. "$(dirname "$0")/lib.sh"

build=$(dirname "$(dirname "$AGENTD")")
root=$(cd "$TESTS/.." && pwd)
make -s -C "$root" BUILD="$build" install PREFIX=/usr DESTDIR="$WORK/inst" >/dev/null ||
	fail "make install failed"
for f in usr/bin/agentd usr/bin/auditctl usr/libexec/agentd/agentd-tether \
	usr/share/man/man1/agentd.1 usr/share/man/man1/auditctl.1; do
	[ -f "$WORK/inst/$f" ] || fail "make install did not install $f"
done
[ "$(stat -c %a "$WORK/inst/usr/bin/agentd")" = 755 ] || fail "agentd not 0755"
[ "$(stat -c %a "$WORK/inst/usr/share/man/man1/agentd.1")" = 644 ] || fail "man page not 0644"
AGENTD=$WORK/inst/usr/bin/agentd
"$AGENTD" start --ttl 1m --json > "$WORK/s" || fail "installed agentd cannot start a session"
tether=$(jq -r 'select(.event == "created") | .tether_pid' "$LOG")
tr '\0' ' ' < "/proc/$tether/cmdline" | grep -q "^$WORK/inst/usr/bin/../libexec/agentd/agentd-tether " ||
	fail "the installed daemon does not run the installed tether: $(tr '\0' ' ' < "/proc/$tether/cmdline")"
"$WORK/inst/usr/bin/auditctl" --log "$LOG" verify >/dev/null || fail "installed auditctl"

# The systemd user unit: installed 0644 with the installed agentd in
# ExecStart, Type=notify, --foreground (no fork: the main process notifies)
# and --journal; systemd-analyze accepts it.
unit=$WORK/inst/usr/lib/systemd/user/agentd.service
[ -f "$unit" ] || fail "make install did not install the systemd user unit"
[ "$(stat -c %a "$unit")" = 644 ] || fail "agentd.service not 0644"
grep -qx 'ExecStart=/usr/bin/agentd serve --foreground --journal' "$unit" ||
	fail "unit ExecStart: $(grep ExecStart= "$unit")"
grep -qx 'Type=notify' "$unit" || fail "unit is not Type=notify"
if command -v systemd-analyze >/dev/null; then
	sed "s|=/usr/bin/agentd|=$WORK/inst/usr/bin/agentd|" "$unit" > "$WORK/agentd.service"
	systemd-analyze verify --man=no "$WORK/agentd.service" ||
		fail "systemd-analyze verify rejects agentd.service"
fi
