# A linked shell's client that sends resize frames without pause does not
# starve the daemon: `agentd status` answers within 1 s all along, the cast
# keeps at most ~10 "r" lines a second, and the last size asked for is the
# one the command sees and the last one recorded.
. "$(dirname "$0")/lib.sh"

eval "$("$AGENTD" start --ttl 10m --label it-resize)" >/dev/null
rec=$AGENTD_DIR/recordings/$AGENTD_SESSION
secs=4

python3 "$TESTS/helpers/resize-flood.py" "$AGENTD_DIR/run/control.sock" \
	"$AGENTD_SESSION" "$secs" 123 45 >"$WORK/flood.out" 2>"$WORK/flood.err" &
flood=$!
EXTRA_PIDS="$EXTRA_PIDS $flood"
sleep 0.5	# the flood is on
slowest=0
for i in $(seq 6); do
	t0=$(date +%s%N)
	timeout 1 "$AGENTD" status >/dev/null ||
		fail "agentd status gave no answer within 1 s during a resize flood"
	t=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $t -le $slowest ] || slowest=$t
	sleep 0.3
done
note "status during the flood: slowest answer ${slowest} ms"
wait $flood || fail "flood client: $(cat "$WORK/flood.err" "$WORK/flood.out")"
note "$(cat "$WORK/flood.err")"
grep -q '^45 123$' "$WORK/flood.out" || fail "the command does not see the last size 123x45: $(cat "$WORK/flood.out")"
r=$(tail -n +2 "$rec/1.cast" | jq -c 'select(.[1] == "r")' | wc -l)
last=$(tail -n +2 "$rec/1.cast" | jq -r 'select(.[1] == "r") | .[2]' | tail -n 1)
size=$(stat -c %s "$rec/1.cast")
note "cast: $r resize lines, $size bytes"
[ "$last" = 123x45 ] || fail "last resize recorded is $last, want 123x45"
[ "$r" -le $(( (secs + 2) * 10 + 5 )) ] || fail "$r resize lines in the cast for ${secs} s"
[ "$size" -le 65536 ] || fail "cast of $size bytes after a resize flood"
has_event '.event == "shell_ended" and .shell == 1' '.exit_status == 0' || fail "shell_ended"
verify_chain >/dev/null
