#!/usr/bin/env bash
# Start latency of an agentd session versus a bare ssh-agent.
#
#   bench/start-latency.sh            # N=50 iterations of each
#   N=200 bench/start-latency.sh      # more samples
#   AGENTD=/path/to/agentd bench/start-latency.sh
#
# Each sample runs from just before the start command is spawned until
# `ssh-add -l` on the new socket answers (exit 0/1, not 2):
#   agentd: `agentd start --ttl 10m --json` with the daemon already running;
#   bare:   `ssh-agent -D -a SOCK &`, polling ssh-add -l until SOCK answers.
# The first `agentd start` (which autostarts the daemon) is the cold start.
# Sessions are stopped and bare agents killed (by pid) between samples,
# outside the timed region. Prints median/p90 and the agentd/bare ratio
# (target: median ratio <= 1.5). No timed assertions: it always reports.
. "$(dirname "$0")/common.sh"

N=${N:-50}
machine
echo "agentd: $AGENTD_ORIG (run as a copy); AGENTD_DIR=$AGENTD_DIR"
python3 "$BENCH/latency.py" --agentd "$AGENTD" -n "$N" --workdir "$WORK" \
	${BENCH_JSON:+--json "$BENCH_JSON"}
created=$(jq -c 'select(.event == "created")' "$LOG" | wc -l)
stopped=$(jq -c 'select(.event == "stopped" and .exit_reason == "requested")' "$LOG" | wc -l)
echo "  audit: $created created, $stopped stopped (requested)"
echo "  daemon VmHWM after the run: $(awk '/^VmHWM/ { print $2, $3 }' "/proc/$(daemon_pid)/status")"
