# make install PREFIX DESTDIR puts agentd, auditctl, the static tether (in
# libexec, where agentd looks), both man pages, the bash completions and the
# logrotate snippet in place with explicit modes, and the installed agentd
# runs a session with the installed tether; make uninstall with the same
# PREFIX DESTDIR removes exactly that and leaves anything else alone.
. "$(dirname "$0")/lib.sh"

build=$(dirname "$(dirname "$AGENTD")")
root=$(cd "$TESTS/.." && pwd)
make -s -C "$root" BUILD="$build" install PREFIX=/usr DESTDIR="$WORK/inst" >/dev/null ||
	fail "make install failed"
installed="usr/bin/agentd usr/bin/auditctl usr/libexec/agentd/agentd-tether
usr/share/man/man1/agentd.1 usr/share/man/man1/auditctl.1
usr/share/bash-completion/completions/agentd usr/share/bash-completion/completions/auditctl
usr/share/agentd/logrotate/agentd"
for f in $installed; do
	[ -f "$WORK/inst/$f" ] || fail "make install did not install $f"
done
for f in usr/share/bash-completion/completions/agentd usr/share/bash-completion/completions/auditctl \
	usr/share/agentd/logrotate/agentd usr/share/man/man1/auditctl.1; do
	[ "$(stat -c %a "$WORK/inst/$f")" = 644 ] || fail "$f not 0644"
done
for f in usr/bin/auditctl usr/libexec/agentd/agentd-tether; do
	[ "$(stat -c %a "$WORK/inst/$f")" = 755 ] || fail "$f not 0755"
done
# The installed completion for auditctl finds agentd's next to it.
bash --norc -c ". '$WORK/inst/usr/share/bash-completion/completions/auditctl' && complete -p auditctl" |
	grep -q -- '-F _agentd' || fail "the installed auditctl completion does not load"
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
"$AGENTD" stop --all >/dev/null

# Uninstall: exactly what install put. Files of others in the same shared
# directories stay.
echo other > "$WORK/inst/usr/bin/other"
echo other > "$WORK/inst/usr/share/man/man1/other.1"
make -s -C "$root" BUILD="$build" uninstall PREFIX=/usr DESTDIR="$WORK/inst" >/dev/null ||
	fail "make uninstall failed"
left=$(cd "$WORK/inst" && find . -type f | sort | tr '\n' ' ')
[ "$left" = "./usr/bin/other ./usr/share/man/man1/other.1 " ] || fail "after uninstall: $left"
for d in usr/libexec/agentd usr/share/agentd; do
	[ ! -e "$WORK/inst/$d" ] || fail "uninstall left agentd's own directory $d"
done
[ -d "$WORK/inst/usr/bin" ] || fail "uninstall removed the shared usr/bin"
make -s -C "$root" BUILD="$build" uninstall PREFIX=/usr DESTDIR="$WORK/inst" >/dev/null ||
	fail "a second make uninstall failed"
