# Bad input: a clear one-line error, a documented exit code (2 usage, 1
# failure), and nothing lost: the log stays valid, no half-made session.
. "$(dirname "$0")/lib.sh"

expect() {	# expect CODE PATTERN CMD...
	local code=$1 pat=$2 rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ $rc -eq "$code" ] || fail "$*: exit $rc, expected $code ($err)"
	echo "$err" | grep -q -- "$pat" || fail "$*: message lacks '$pat': $err"
}

expect 2 "unknown verb" "$AGENTD" frobnicate
expect 2 "usage" "$AGENTD"
expect 2 "invalid duration" "$AGENTD" start --ttl 5x
expect 2 "invalid duration" "$AGENTD" start --ttl 1m1x
expect 2 "positive" "$AGENTD" start --ttl 0
expect 2 "invalid duration" "$AGENTD" start --ttl 99999999999
expect 2 "unexpected argument" "$AGENTD" start extra
expect 2 "no session" "$AGENTD" stop
expect 2 "no key file" "$AGENTD" add --session x
expect 2 "exclude" "$AGENTD" stop --all --session x
[ ! -e "$AGENTD_DIR/run/agentd.pid" ] || fail "a usage error started the daemon"

eval "$("$AGENTD" start --ttl 10m)" >/dev/null
expect 1 "no active session" "$AGENTD" stop --session doesnotexist
expect 1 "ssh-add failed" "$AGENTD" add "$WORK/missing-key"

# The daemon caps TTLs at --max-ttl (12 h by default) and key TTLs at the TTL.
"$AGENTD" start --ttl 30d --key-ttl 40d --json > "$WORK/capped"
jq -e '.ttl_s == 43200 and .key_ttl_s == 43200' "$WORK/capped" >/dev/null || fail "TTL not capped: $(cat "$WORK/capped")"

# Hostile control messages: the daemon answers with an error and lives on.
sock=$AGENTD_DIR/run/control.sock
python3 - "$sock" <<'PY'
import json, socket, struct, sys
def call(payload, raw=False):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(payload if raw else struct.pack(">I", len(payload)) + payload)
    hdr = s.recv(4)
    if len(hdr) < 4:
        return None
    n = struct.unpack(">I", hdr)[0]
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return json.loads(body)
for bad in [b"not json", b"[1,2]", b'{"cmd":5}', b'{"cmd":"nope"}',
            b'{"cmd":"start","ttl_s":"1h"}', b'{"cmd":"start","ttl_s":-1}',
            b'{"cmd":"start","ttl_s":1.5}', b'{"cmd":"start","label":7}',
            b'{"cmd":"stop"}', b'{"cmd":"add_done","session":"x"}']:
    r = call(bad)
    assert r is not None and r["ok"] is False and r["error"], (bad, r)
r = call(struct.pack(">I", 10 * 1024 * 1024) + b"x", raw=True)
assert r is not None and r["ok"] is False and "too large" in r["error"], r
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\x00\x00"); s.close()
PY
[ "$("$AGENTD" status --json | jq length)" -eq 2 ] || fail "daemon lost sessions after hostile messages"
[ "$(count_events '.event == "created"')" -eq 2 ] || fail "hostile messages created sessions"
verify_chain >/dev/null
