# serve --journal: every audit line also goes to the systemd journal, and a
# journal that is missing or stuck never blocks the daemon or a session.
#
# No journald runs here (nor in CI), and libsystemd 252 has no variable for
# its socket: sd_journal_sendv always sends to /run/systemd/journal/socket.
# So this test runs in a private mount namespace (unshare -m, as root) with
# a tmpfs over /run/systemd, where tests/helpers/dgram_sink.py binds that
# path and records what journald would have received (native protocol
# parsed). The mounts vanish with the namespace, i.e. with this test.
if [ -z "${IT_JOURNAL_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		echo "skip: needs root and unshare -m for a private /run/systemd"
		exit 0
	fi
	exec unshare -m --propagation private env IT_JOURNAL_NS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

mount -t tmpfs -o mode=0755 agentd-it-journal /run/systemd ||
	fail "cannot mount a private tmpfs over /run/systemd"
mkdir /run/systemd/journal
JSOCK=/run/systemd/journal/socket
sink() {	# sink MODE [OUT]: a journald stand-in at $JSOCK
	rm -f "$JSOCK"
	python3 "$TESTS/helpers/dgram_sink.py" "$1" "$JSOCK" ${2:+"$2"} &
	SINK=$!
	EXTRA_PIDS="$EXTRA_PIDS $SINK"
	i=0; until [ -S "$JSOCK" ]; do
		i=$((i + 1)); [ $i -le 100 ] || fail "sink did not bind"; sleep 0.05
	done
}
start_ok() {	# a session starts within 10 s (the daemon is not blocked)
	timeout 10 "$AGENTD" start --ttl 10m --json >"$WORK/s" ||
		fail "start did not answer while the journal is $1"
	jq -r .session "$WORK/s"
}

# 1. A listening journal gets every line, byte for byte, with its fields.
sink journal "$WORK/journal.out"
"$AGENTD" serve --journal --no-spare || fail "serve --journal"
id=$(start_ok listening)
"$AGENTD" stop --session "$id" >/dev/null || fail "stop"
"$AGENTD" start --ttl 10m --label 'tab	and "quote"' --json >/dev/null || fail "start"
stop_daemon
lines=$(wc -l < "$LOG")
[ "$lines" -ge 4 ] || fail "only $lines audit lines"
i=0; until [ "$(wc -l < "$WORK/journal.out")" -ge "$lines" ]; do
	i=$((i + 1)); [ $i -le 100 ] || fail "journal got $(wc -l < "$WORK/journal.out") of $lines lines"
	sleep 0.05
done
python3 - "$LOG" "$WORK/journal.out" <<'PY' || fail "journal entries differ from audit.jsonl"
import json, sys
lines = open(sys.argv[1], "rb").read().decode().splitlines()
entries = [json.loads(l) for l in open(sys.argv[2])]
assert len(entries) == len(lines), (len(entries), len(lines))
for line, e in zip(lines, entries):
    o = json.loads(line)
    assert e["MESSAGE"] == [line], (e["MESSAGE"], line)
    assert e["SYSLOG_IDENTIFIER"] == ["agentd"], e
    assert e["AGENTD_EVENT"] == [o["event"]], e
    assert e["AGENTD_SEQ"] == [str(o["seq"])], e
    if o["session"] is None:
        assert "AGENTD_SESSION" not in e, e
    else:
        assert e["AGENTD_SESSION"] == [o["session"]], e
    assert e["PRIORITY"] == ["6"], e
print("  %d lines, each a journal entry with its fields" % len(lines))
PY
verify_chain
kill -TERM "$SINK"

# 2. A journal that never reads (a hung journald): the datagram queue holds
# net.unix.max_dgram_qlen entries; a daemon sending itself would block on
# the next. Ours does not: 20 sessions start, status answers, stop is prompt.
mv "$LOG" "$WORK/audit-1.jsonl"
sink stuck
"$AGENTD" serve --journal --no-spare || fail "serve --journal (stuck journal)"
before=$(wc -l < "$LOG")
for n in $(seq 20); do start_ok stuck >/dev/null; done
timeout 10 "$AGENTD" status --json >/dev/null || fail "status blocked (stuck journal)"
after=$(wc -l < "$LOG")
[ $((after - before)) -ge 20 ] ||
	fail "audit.jsonl got $((after - before)) lines for 20 sessions"
note "stuck journal: $((after - before)) lines, qlen $(cat /proc/sys/net/unix/max_dgram_qlen); sessions started"
pid=$(cat "$AGENTD_DIR/run/agentd.pid")
"$AGENTD" stop --all >/dev/null || fail "stop --all (stuck journal)"
kill -TERM "$pid"
flock -w 20 "$AGENTD_DIR/run/agentd.pid" true || fail "daemon did not exit (stuck journal)"
grep -q "journal: the forwarder did not finish" "$AGENTD_DIR/agentd.log" ||
	fail "no warning about the stuck forwarder: $(cat "$AGENTD_DIR/agentd.log")"
pgrep -x agentd-journal -P "$pid" >/dev/null 2>&1 && fail "forwarder outlived the daemon"
verify_chain
kill -TERM "$SINK"

# 3. No journal at all (no socket): sd_journal_sendv returns 0 quietly;
# sessions start and nothing is warned about.
rm -f "$JSOCK" "$AGENTD_DIR/agentd.log"
mv "$LOG" "$WORK/audit-2.jsonl"
"$AGENTD" serve --journal --no-spare || fail "serve --journal (no journal)"
for n in 1 2 3; do start_ok absent >/dev/null; done
stop_daemon
[ "$(count_events '.event == "created"')" -eq 3 ] || fail "sessions missing without a journal"
! grep -q "journal" "$AGENTD_DIR/agentd.log" 2>/dev/null ||
	fail "warned without a journal: $(cat "$AGENTD_DIR/agentd.log")"
verify_chain
note "no journal socket: 3 sessions, no warning"

# 4. A journal that hangs for long, then recovers: once more than the
# forwarder's queue (SO_SNDBUF 1 MiB, doubled by the kernel) waits, lines
# are dropped for the journal and counted; when it reads again the count
# arrives as an entry with AGENTD_DROPPED ahead of the next line. Shells
# whose command lines are 50 kB make big audit lines quickly.
mv "$LOG" "$WORK/audit-3.jsonl"
: > "$WORK/journal4.out"
sink held "$WORK/journal4.out"
"$AGENTD" serve --journal --no-spare || fail "serve --journal (held journal)"
id=$(start_ok held)
big=$(head -c 50000 /dev/zero | tr '\0' x)
n=0
until grep -q "journal: not keeping up" "$AGENTD_DIR/agentd.log" 2>/dev/null; do
	n=$((n + 1)); [ $n -le 120 ] || fail "no line dropped after $n shells of 50 kB"
	timeout 10 "$AGENTD" shell --session "$id" -- true "$big" </dev/null ||
		fail "shell $n did not run while the journal hangs"
done
kill -USR1 "$SINK"
timeout 10 "$AGENTD" shell --session "$id" -- true </dev/null || fail "shell after recovery"
stop_daemon
total=$(wc -l < "$LOG")
i=0; until python3 - "$LOG" "$WORK/journal4.out" <<'PY'
import json, sys
lines = open(sys.argv[1], "rb").read().decode().splitlines()
entries = [json.loads(l) for l in open(sys.argv[2])]
got = [e["MESSAGE"][0] for e in entries if "AGENTD_DROPPED" not in e]
notes = [e for e in entries if "AGENTD_DROPPED" in e]
if len(notes) != 1 or int(notes[0]["AGENTD_DROPPED"][0]) + len(got) != len(lines):
    sys.exit(1)
# What arrived is in order; after the note, every line up to the last.
pos = [lines.index(m) for m in got]
assert pos == sorted(pos), "out of order"
k = entries.index(notes[0])
tail = [e["MESSAGE"][0] for e in entries[k + 1:]]
assert tail == lines[len(lines) - len(tail):], "lines after the note are not the log's tail"
assert notes[0]["PRIORITY"] == ["4"], notes[0]
print("  held journal: %d of %d lines reached it, %s dropped and reported" %
      (len(got), len(lines), notes[0]["AGENTD_DROPPED"][0]))
PY
do
	i=$((i + 1)); [ $i -le 100 ] || fail "journal entries do not add up: $(grep -c . "$WORK/journal4.out") entries for $total lines; $(grep AGENTD_DROPPED "$WORK/journal4.out" | head -c 300)"
	sleep 0.05
done
grep -q "audit lines were not sent to the journal" "$AGENTD_DIR/agentd.log" ||
	fail "no warning with the count"
verify_chain
