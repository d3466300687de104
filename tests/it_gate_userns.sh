# `agentd shell --net gate` under an unprivileged daemon (DESIGN §10): the
# namespace comes through a user namespace, the command keeps its uid, the
# gate is reachable and nothing else. Runs the daemon as nobody (needs root
# to drop there, and a kernel that lets nobody make a user namespace).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { note "not root: cannot run a daemon as nobody: skipped"; exit 0; }
command -v setpriv >/dev/null || { note "no setpriv: skipped"; exit 0; }
setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Urn true 2>/dev/null ||
	{ note "this kernel refuses nobody a user namespace: skipped"; exit 0; }
U=$(mktemp -d /tmp/agentd-it-userns.XXXXXX)
cp "$AGENTD" "$U/agentd"
[ ! -x "$(dirname "$AGENTD")/agentd-tether" ] || cp "$(dirname "$AGENTD")/agentd-tether" "$U/"
chmod 755 "$U"
mkdir -m 700 "$U/d"
chown 65534:65534 "$U/d"
trap 'r=$?; set +e; setpriv --reuid=65534 --regid=65534 --clear-groups env AGENTD_DIR="$U/d" "$U/agentd" kill >/dev/null 2>&1 || true; rm -rf "$U"; (exit $r); cleanup' EXIT

(cd "$WORK" && exec python3 -m http.server 0 --bind 127.0.0.1 >"$WORK/http.log" 2>&1) &
EXTRA_PIDS="$EXTRA_PIDS $!"
for i in $(seq 100); do
	hport=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/http.log" | head -n 1)
	[ -n "$hport" ] && break
	sleep 0.05
done
[ -n "$hport" ] || fail "http server did not start"

rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME=/ \
    AGENTD_DIR="$U/d" A="$U/agentd" H="$hport" bash -c '
	set -e
	eval "$("$A" start --ttl 2m --ssh-egress "web=localhost:$H")" >/dev/null
	gp=$(awk "\$1 == \"Port\" { print \$2 }" "$AGENTD_SSH_CONFIG")
	"$A" shell -T --net gate -- bash -c "
		[ \"\$(id -u)\" = 65534 ] || exit 20
		curl -sf -m 5 -o /dev/null http://127.0.0.1:$gp/ || exit 21
		curl -s -m 5 -o /dev/null http://127.0.0.1:$H/ && exit 22
		[ \"\$(readlink /proc/self/ns/net)\" != \"$(readlink /proc/self/ns/net)\" ] || exit 23
		exit 0"' >"$WORK/out" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "unprivileged --net gate: exit $rc (20 uid, 21 gate, 22 host reachable, 23 same netns): $(cat "$WORK/out")"
jq -se '[.[] | select(.event == "egress_closed")] | length == 1 and all(.[]; .error == null and .bytes_down > 0)' "$U/d/audit.jsonl" >/dev/null ||
	fail "no clean egress_closed: $(cat "$U/d/audit.jsonl")"
