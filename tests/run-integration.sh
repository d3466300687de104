#!/bin/sh
# Runs every tests/it_*.sh (or those named) against $AGENTD; prints each
# result and a closing "N passed, N failed" line. Output of a failing test is
# shown; passing tests stay quiet.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${AGENTD:?set AGENTD to the agentd binary}"
export AGENTD
pass=0 failed=0 failures=
tests=${*:-$(ls "$here"/it_*.sh)}
for t in $tests; do
	name=$(basename "$t" .sh)
	out=$(mktemp)
	start=$(date +%s)
	if bash "$t" >"$out" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	else
		failed=$((failed + 1))
		failures="$failures $name"
		echo "FAIL $name"
		sed 's/^/     | /' "$out"
	fi
	rm -f "$out"
done
echo "integration: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
