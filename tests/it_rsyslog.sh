# contrib/rsyslog: an agent host's rsyslogd tails audit.jsonl (imfile) and
# ships it over RELP to a collector's rsyslogd that writes one file per host.
# Both run here as separate instances (own config, pid file, work dir; a free
# port on 127.0.0.1; nothing touches /dev/log), with the shipped configs,
# their @PLACEHOLDERS@ filled in and the agent's hostname set. 20,000 lines:
# a real daemon's sessions first (labels with quotes, backslashes, UTF-8, a
# tab, control characters), then lines from bench/genlog.py continuing the
# same chain (one just under agentd's 1 MiB line cap), signed like the
# daemon does (a checkpoint per 1000 lines and at the end, with the
# daemon's key: tests/helpers/chain_append.py --sign), appended while
# rsyslog tails the file. The collector is SIGKILLed mid-stream and
# restarted; its copy must be byte-equal to the source and pass
# `auditctl verify --pubkey` with the daemon's public key, signed to its end.
. "$(dirname "$0")/lib.sh"

command -v rsyslogd >/dev/null || fail "rsyslogd missing (scripts/deps.sh installs rsyslog)"
[ -n "$(find /usr/lib -name imrelp.so -path '*rsyslog*' 2>/dev/null | head -n 1)" ] ||
	fail "imrelp missing (scripts/deps.sh installs rsyslog-relp)"
CONTRIB=$TESTS/../contrib/rsyslog
TOTAL=20000
# rsyslog's queue fsyncs every message (queue.syncQueueFiles): on tmpfs
# that costs nothing, so the run stays short; the semantics are the same.
R=$(mktemp -d /dev/shm/agentd-it-rsyslog.XXXXXX)
# cleanup() looks for leftover processes of every `created` line: only the
# daemon's own lines name processes of ours, not genlog's thousands.
rsyslog_cleanup() {
	local rc=$?
	set +e	# under -e, `(exit 1)` below would end the trap before cleanup
	[ -n "${KEEP_RSYSLOG:-}" ] || rm -rf "$R"
	[ -z "${real:-}" ] || { head -n "$real" "$LOG" > "$LOG.own"; mv "$LOG.own" "$LOG"; }
	(exit $rc)
	cleanup	# lib.sh: the daemon, agents, EXTRA_PIDS (both rsyslogd), dirs
}
trap rsyslog_cleanup EXIT
mkdir -p "$R/agent" "$R/collector" "$R/fleet"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The source: a real daemon's lines.
"$AGENTD" serve --no-spare || fail "serve"
for label in 'plain' 'quote " and \ backslash' 'utf-8 é ü 日本' 'tab	here' "$(printf 'ctl\001\033[31m')"; do
	"$AGENTD" start --ttl 10m --label "$label" --json >"$WORK/s" || fail "start $label"
	"$AGENTD" stop --session "$(jq -r .session "$WORK/s")" >/dev/null || fail "stop"
done
stop_daemon
real=$(wc -l < "$LOG")
"$AUDITCTL" pubkey > "$WORK/pub" || fail "auditctl pubkey"
python3 "$TESTS/../bench/genlog.py" --lines $((TOTAL - real)) --seed 15 \
	--start "$(($(date +%s) + 1))" "$WORK/gen.jsonl" >/dev/null || fail "genlog"

sed -e "s|@WORK_DIR@|$R/agent|; s|@AUDIT_LOG@|$LOG|; s|@COLLECTOR@|127.0.0.1|; s|@PORT@|$port|" \
	-e 's|^global(workDirectory=|global(localHostname="agent-it" workDirectory=|' \
	"$CONTRIB/agent.conf" > "$R/agent.conf"
sed -e "s|@WORK_DIR@|$R/collector|; s|@FLEET_DIR@|$R/fleet|; s|@ADDRESS@|127.0.0.1|; s|@PORT@|$port|" \
	"$CONTRIB/collector.conf" > "$R/collector.conf"
! grep -n '@[A-Z_]*@' "$R/agent.conf" "$R/collector.conf" || fail "placeholder left"
for c in agent collector; do
	rsyslogd -N1 -f "$R/$c.conf" >"$R/$c.check" 2>&1 ||
		fail "rsyslogd -N1 rejects $c.conf: $(cat "$R/$c.check")"
done

# rsyslogd NAME: runs an instance in the foreground (our child, by pid).
rsyslogd_start() {
	rsyslogd -n -f "$R/$1.conf" -i "$R/$1.pid" >>"$R/$1.out" 2>&1 &
	eval "${1}_pid=$!"
	EXTRA_PIDS="$EXTRA_PIDS $!"
}
listening() {
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null
}
wait_listening() {
	local i=0
	until listening; do
		i=$((i + 1)); [ $i -le 200 ] || fail "collector does not listen on $port: $(cat "$R/collector.out")"
		sleep 0.05
	done
}
COPY=$R/fleet/agent-it/audit.jsonl
# What the copy lacks or repeats, by seq (for failure messages).
diff_seqs() {
	python3 - "$LOG" "$COPY" <<'PY'
import collections, json, sys
def seqs(p):
    out = []
    for l in open(p, "rb"):
        try:
            out.append(json.loads(l)["seq"])
        except Exception:
            out.append("bad:%d" % len(l))
    return out
a, b = seqs(sys.argv[1]), seqs(sys.argv[2])
c = collections.Counter(b)
print("missing", [s for s in a if s not in c][:10], "repeated",
      [s for s, n in c.items() if n > 1][:10], "foreign", [s for s in c if s not in set(a)][:5])
PY
}
lines_in() { [ -f "$1" ] && wc -l < "$1" || echo 0; }

rsyslogd_start collector
wait_listening
rsyslogd_start agent

python3 "$TESTS/helpers/chain_append.py" "$LOG" "$WORK/gen.jsonl" \
	--batch 400 --pause 0.05 --pad-line 7000:1040000 \
	--sign "$AGENTD_DIR/signing/key" --lines "$TOTAL" >/dev/null &
feeder=$!
EXTRA_PIDS="$EXTRA_PIDS $feeder"

# Kill the collector once a quarter has arrived, while lines still flow.
i=0; until [ "$(lines_in "$COPY")" -ge $((TOTAL / 4)) ]; do
	i=$((i + 1)); [ $i -le 400 ] || fail "collector got $(lines_in "$COPY") lines in 20 s: $(cat "$R/agent.out" "$R/collector.out")"
	sleep 0.05
done
kill -KILL "$collector_pid"
wait "$collector_pid" 2>/dev/null || true
at_kill=$(lines_in "$COPY")
note "[${SECONDS}s] collector SIGKILLed with $at_kill lines in its copy (last seq $(tail -n 1 "$COPY" | jq .seq))"
sleep 1	# the agent notices, queues to disk
rsyslogd_start collector
wait_listening
note "[${SECONDS}s] restarted"; wait "$feeder" || fail "appending to audit.jsonl failed"
[ "$(wc -l < "$LOG")" -eq "$TOTAL" ] || fail "source has $(wc -l < "$LOG") lines, not $TOTAL"

# Lines arrive in order (duplicates only repeat earlier ones): the copy is
# complete once its last line is the source's last line.
last=$(tail -n 1 "$LOG")
i=0; until [ -f "$COPY" ] && [ "$(tail -n 1 "$COPY")" = "$last" ]; do
	i=$((i + 1)); [ $i -le 800 ] || fail "copy has $(lines_in "$COPY") of $TOTAL lines after 40 s: $(diff_seqs)"
	sleep 0.05
done
note "[${SECONDS}s] copy complete"; sleep 0.5	# anything after the last line would be a duplicate: let it come
kill -TERM "$agent_pid" "$collector_pid"
wait "$agent_pid" "$collector_pid" 2>/dev/null || true
note "[${SECONDS}s] stopped"; note "collector SIGKILLed at $at_kill of $TOTAL lines, restarted; copy has $(lines_in "$COPY")"

if cmp -s "$LOG" "$COPY"; then
	note "copy byte-equal to the source, no duplicate"
else
	# RELP may re-deliver unacknowledged lines after the kill. Such a copy
	# must fail verify (a repeated seq), and the dedup tool must restore
	# the source exactly; anything else is a defect.
	"$AUDITCTL" --log "$COPY" verify >/dev/null 2>&1 &&
		fail "a copy that differs from the source verifies"
	"$CONTRIB/agentd-relp-dedup" "$COPY" "$R/dedup.jsonl" 2>"$R/dedup.err" ||
		fail "agentd-relp-dedup failed"
	cmp "$LOG" "$R/dedup.jsonl" ||
		fail "copy differs from the source beyond duplicates ($(cat "$R/dedup.err"))"
	note "copy had RELP duplicates: $(cat "$R/dedup.err"); deduplicated copy byte-equal"
	COPY=$R/dedup.jsonl
fi
"$AUDITCTL" --log "$COPY" verify --pubkey "$WORK/pub" >"$R/verify.out" 2>"$R/verify.err" ||
	fail "verify --pubkey on the copy: $(cat "$R/verify.out" "$R/verify.err")"
grep -q '^no unsigned tail' "$R/verify.out" || fail "copy not signed to its end: $(cat "$R/verify.out")"
sed 's/^/  /' "$R/verify.out"
[ "$(stat -c %a "$R/fleet/agent-it")" = 750 ] || fail "host directory mode"
