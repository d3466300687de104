#!/usr/bin/env bash
# Many sessions under one daemon: memory and stop-all time.
#
#   bench/many-sessions.sh                    # 500 sessions, 8 starts at a time
#   SESSIONS=1000 PARALLEL=16 bench/many-sessions.sh
#   AGENTD=/path/to/agentd bench/many-sessions.sh
#
# Starts SESSIONS sessions (`agentd start --ttl 10m --json`) under one daemon,
# the first alone (it autostarts the daemon), the rest with xargs -P PARALLEL.
# Then reports the daemon's VmRSS/VmHWM (target <= 16 MiB), times
# `agentd stop --all` (target <= 2 s), and checks that the audit log has
# SESSIONS `created` and SESSIONS `stopped` events with exit_reason requested
# and that no agent or tether is left. No timed assertions: it always reports.
# Each session is a real ssh-agent plus a tether process, so this needs about
# 2*SESSIONS processes (ulimit -u) and a few descriptors per session in the
# daemon (it raises its own soft RLIMIT_NOFILE to the hard limit).
. "$(dirname "$0")/common.sh"

SESSIONS=${SESSIONS:-500}
PARALLEL=${PARALLEL:-8}

now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }
kib() { awk -v k="$1" '/^'"$2"':/ { print $2 }' "/proc/$3/status"; }

machine
echo "agentd: $AGENTD_ORIG (run as a copy); AGENTD_DIR=$AGENTD_DIR"
echo "limits: ulimit -n $(ulimit -n) (hard $(ulimit -Hn)), ulimit -u $(ulimit -u)"
need=$((2 * SESSIONS + 64))
if [ "$(ulimit -u)" != unlimited ] && [ "$(ulimit -u)" -lt "$need" ]; then
	echo "warning: ulimit -u $(ulimit -u) < ~$need processes this needs" >&2
fi

# Session 1 autostarts the daemon.
"$AGENTD" start --ttl 10m --json > "$WORK/start-1.json"
PID=$(daemon_pid)
echo "daemon pid $PID: after 1 session VmRSS $(kib x VmRSS "$PID") kB, VmHWM $(kib x VmHWM "$PID") kB, fds $(ls "/proc/$PID/fd" | wc -l)"

# Sessions 2..N, PARALLEL at a time; each writes its JSON or error to WORK.
t0=$(now_ns)
seq 2 "$SESSIONS" | xargs -P "$PARALLEL" -I{} sh -c \
	'"$AGENTD" start --ttl 10m --json > "$1/start-$2.json" 2> "$1/start-$2.err" || echo "$2" >> "$1/failed"' \
	sh "$WORK" {}
start_ms=$(ms_since "$t0")
failed=$(cat "$WORK/failed" 2>/dev/null | wc -l)
active=$("$AGENTD" status --json | jq length)
started=$((SESSIONS - failed))
[ "$active" -eq "$started" ] || active="$active (!= $started started: see docs/PERFORMANCE.md, status reply limit)"
echo "started $((SESSIONS - 1)) more sessions (-P $PARALLEL) in $start_ms ms" \
	"($(( (SESSIONS - 1) * 1000 / (start_ms > 0 ? start_ms : 1) )) starts/s); failed: $failed; active per status: $active"
if [ "$failed" -gt 0 ]; then
	echo "first errors:"; cat "$WORK"/start-*.err | sort | uniq -c | sort -rn | head -5
fi

# Every session answers? (ssh-add -l must return 0 or 1, not 2)
noanswer=0
for f in "$WORK"/start-*.json; do
	[ -s "$f" ] || continue
	echo "$(jq -r .socket "$f")"
done | xargs -P "$PARALLEL" -I{} sh -c 'SSH_AUTH_SOCK="$1" ssh-add -l >/dev/null 2>&1; [ $? -ne 2 ] || echo x' sh {} > "$WORK/noanswer"
noanswer=$(wc -l < "$WORK/noanswer")

t0=$(now_ns); "$AGENTD" status --json > /dev/null; status_ms=$(ms_since "$t0")

rss=$(kib x VmRSS "$PID"); hwm=$(kib x VmHWM "$PID"); fds=$(ls "/proc/$PID/fd" | wc -l)
# RSS of the agents and tethers themselves (for scale; not the target).
kids_rss=0; kids=0
for p in $(jq -r 'select(.event == "created") | .agent_pid, .tether_pid' "$LOG"); do
	r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || continue
	[ -n "$r" ] || continue
	kids_rss=$((kids_rss + r)); kids=$((kids + 1))
done

PIDS=$(jq -r 'select(.event == "created") | .agent_pid, .tether_pid' "$LOG")
t0=$(now_ns)
"$AGENTD" stop --all > "$WORK/stop.out" 2> "$WORK/stop.err" && stop_rc=0 || stop_rc=$?
stop_ms=$(ms_since "$t0")
stopped_at_reply=$(jq -c 'select(.event == "stopped")' "$LOG" | wc -l)

# Stopped events and process exits may trail the reply: wait up to 15 s.
t1=$(now_ns); left=-1; stopped=0
for _ in $(seq 300); do
	stopped=$(jq -c 'select(.event == "stopped" and .exit_reason == "requested")' "$LOG" | wc -l)
	left=0
	for p in $PIDS; do
		# comm is "ssh-agent" or "agentd": no spaces, so field 3 is the state.
		{ read -r _ _ st _ < "/proc/$p/stat"; } 2>/dev/null || continue
		[ "$st" = Z ] || left=$((left + 1))
	done
	[ "$stopped" -lt "$started" ] || [ "$left" -gt 0 ] || break
	sleep 0.05
done
settle_ms=$(ms_since "$t1")
created=$(jq -c 'select(.event == "created")' "$LOG" | wc -l)
other_end=$(jq -c 'select((.event == "stopped" and .exit_reason != "requested") or .event == "crashed")' "$LOG" | wc -l)
after_rss=$(kib x VmRSS "$PID"); after_fds=$(ls "/proc/$PID/fd" | wc -l)

verdict() { if [ "$1" -le "$2" ]; then echo met; else echo MISSED; fi; }
echo
echo "many sessions: $SESSIONS under one daemon"
printf '  %-36s %s\n' \
	"daemon VmRSS" "$rss kB ($(awk -v k="$rss" 'BEGIN { printf "%.2f", k / 1024 }') MiB)" \
	"daemon VmHWM" "$hwm kB ($(awk -v k="$hwm" 'BEGIN { printf "%.2f", k / 1024 }') MiB; target <= 16 MiB: $(verdict "$hwm" 16384); ratio $(awk -v k="$hwm" 'BEGIN { printf "%.2f", k / 16384 }'))" \
	"daemon open fds" "$fds" \
	"agents+tethers" "$kids processes, VmRSS sum $((kids_rss / 1024)) MiB" \
	"agentd status --json" "$status_ms ms" \
	"sessions not answering ssh-add -l" "$noanswer" \
	"agentd stop --all" "$stop_ms ms, rc $stop_rc (target <= 2000 ms: $(verdict "$stop_ms" 2000); ratio $(awk -v m="$stop_ms" 'BEGIN { printf "%.2f", m / 2000 }'))" \
	"stopped events at stop's reply" "$stopped_at_reply" \
	"then all ended + logged within" "$settle_ms ms after the reply (processes left: $left; 50 ms polls)" \
	"audit created" "$created (want $SESSIONS)" \
	"audit stopped, exit_reason requested" "$stopped (want $SESSIONS)" \
	"audit other ends (crashed/other)" "$other_end" \
	"daemon after stop: VmRSS, fds" "$after_rss kB, $after_fds"
[ ! -s "$WORK/stop.err" ] || { echo "stop --all stderr:"; head -5 "$WORK/stop.err"; }
