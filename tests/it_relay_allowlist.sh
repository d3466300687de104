# The relay fails closed (DESIGN §5): only requests on agentproto's allowlist,
# each parsed exactly, reach ssh-agent; everything else is answered FAILURE by
# the relay. Real clients (ssh-add -t/-c/-l/-L/-d/-D/-x/-X) still work, and
# lock/unlock are audited without the password.
. "$(dirname "$0")/lib.sh"

eval "$("$AGENTD" start --ttl 10m --label allow)" >/dev/null
UP=$AGENTD_DIR/run/sessions/$AGENTD_SESSION/upstream/agent.sock
[ -S "$UP" ] || fail "no upstream socket at $UP"
newkey k ed25519
newkey k2 ecdsa
ssh-add "$WORK/k" 2>/dev/null || fail "ssh-add k"
fp=$(ssh-keygen -lf "$WORK/k.pub" | awk '{ print $2 }')

# The issue's reproduction: a sign request with 4 trailing bytes and a remove
# with 2. Both must get FAILURE (5) from the relay; the agent still holds k.
out=$(python3 - "$SSH_AUTH_SOCK" "$WORK/k.pub" <<'PY'
import sys,socket,struct,base64
b=base64.b64decode(open(sys.argv[2]).read().split()[1]); s=lambda x:struct.pack('>I',len(x))+x
for body in (b'\x0d'+s(b)+s(b'd')+struct.pack('>I',0)+b'JUNK', b'\x12'+s(b)+b'XX'):
    c=socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(struct.pack('>I',len(body))+body); print(c.recv(5)[4])
PY
)
[ "$(echo $out)" = "5 5" ] || fail "trailing bytes were not refused: replies $(echo $out) (want 5 5)"
[ "$(count_events '.event == "key_used"')" -eq 0 ] || fail "a refused sign was logged as key_used"
[ "$(count_events '.event == "key_removed"')" -eq 0 ] || fail "a refused remove was logged"
SSH_AUTH_SOCK=$UP ssh-add -l | grep -qF "$fp" || fail "the agent lost k: the remove was forwarded"
n=$("$AGENTD" status --json | jq '.[0].keys_held // .[0].keys_loaded')
[ "$n" = 1 ] || fail "status counts $n keys, want 1"

# A session-bind the agent accepts needs the host key's signature over the
# session id: a bare ssh-agent holding a throw-away host key makes it.
newkey host ed25519
ssh-agent -D -a "$WORK/bare.sock" >/dev/null 2>&1 &
bare=$!
EXTRA_PIDS="$EXTRA_PIDS $bare"
for i in $(seq 200); do [ -S "$WORK/bare.sock" ] && break; sleep 0.05; done
SSH_AUTH_SOCK=$WORK/bare.sock ssh-add "$WORK/host" 2>/dev/null || fail "bare ssh-agent did not start"
hostfp=$(ssh-keygen -lf "$WORK/host.pub" | awk '{ print $2 }')

# Frames the relay must refuse, each on a fresh connection, with what the
# agent itself holds compared before and after (the upstream socket).
python3 - "$SSH_AUTH_SOCK" "$UP" "$WORK/k.pub" "$WORK/bare.sock" "$WORK/host.pub" <<'PY' || fail "a non-allowlisted frame was not refused"
import base64, socket, struct, sys
relay, up, pub, bare, hostpub = sys.argv[1:]
blob = base64.b64decode(open(pub).read().split()[1])
hostblob = base64.b64decode(open(hostpub).read().split()[1])
def s(b): return struct.pack(">I", len(b)) + b
def ask(path, body):
    c = socket.socket(socket.AF_UNIX); c.settimeout(5); c.connect(path)
    c.sendall(struct.pack(">I", len(body)) + body)
    h = c.recv(4); n = struct.unpack(">I", h)[0]; d = b""
    while len(d) < n: d += c.recv(n - len(d))
    c.close(); return d
def idents(): return ask(up, b"\x0b")
sid = bytes(range(32))
hostsig = ask(bare, b"\x0d" + s(hostblob) + s(sid) + b"\x00\x00\x00\x00")
assert hostsig[0] == 14, "the bare agent did not sign the session id"
bind = b"\x1b" + s(b"session-bind@openssh.com") + s(hostblob) + s(sid) + hostsig[1:] + b"\x00"
bad = {
    "unknown type 200": b"\xc8",
    "unknown type 1 (ssh1)": b"\x01",
    "type 24 (ssh1 add)": b"\x18",
    "request_identities + 1 byte": b"\x0b\x00",
    "remove_all + 1 byte": b"\x13\x00",
    "remove_all_rsa + 1 byte": b"\x09X",
    "sign missing flags": b"\x0d" + s(blob) + s(b"d"),
    "sign with trailing": b"\x0d" + s(blob) + s(b"d") + b"\x00\x00\x00\x00J",
    "remove with trailing": b"\x12" + s(blob) + b"XX",
    "remove, length past end": b"\x12" + struct.pack(">I", 1000) + blob,
    "lock with trailing": b"\x16" + s(b"pw") + b"x",
    "lock with NUL": b"\x16" + s(b"p\x00w"),
    "unlock empty body": b"\x17",
    "unknown extension": b"\x1b" + s(b"evil@example.org"),
    "extension without name": b"\x1b",
    "query with trailing": b"\x1b" + s(b"query") + b"x",
    "session-bind + 1 byte": bind + b"\x00",
    "session-bind, flag 2": bind[:-1] + b"\x02",
    "session-bind missing flag": bind[:-1],
    "add_smartcard, provider with NUL": b"\x14" + s(b"/usr/lib/x\x00y") + s(b""),
    "remove_smartcard + 1 byte": b"\x15" + s(b"/usr/lib/x.so") + s(b"") + b"\x00",
    "add_smartcard, sk-provider ext": b"\x1a" + s(b"/usr/lib/x.so") + s(b"") + b"\xff" + s(b"sk-provider@openssh.com") + s(b"x"),
    "add ed25519, unknown constraint": b"\x19" + s(b"ssh-ed25519") + s(b"A" * 32) + s(b"B" * 64) + s(b"c") + b"\x07",
    "add ed25519, truncated lifetime": b"\x19" + s(b"ssh-ed25519") + s(b"A" * 32) + s(b"B" * 64) + s(b"c") + b"\x01\x00",
}
before = idents()
for name, body in bad.items():
    r = ask(relay, body)
    assert r == b"\x05", "%s: reply %r" % (name, r[:1])
    assert idents() == before, "%s: the agent's identities changed" % name
# A bind with one extra byte did not bind the connection: a later sign on it
# is a local use (forwarded null), not "bound to nothing".
c = socket.socket(socket.AF_UNIX); c.settimeout(5); c.connect(relay)
replies = []
for body in (bind + b"\x00", b"\x0d" + s(blob) + s(b"data") + b"\x00\x00\x00\x00"):
    c.sendall(struct.pack(">I", len(body)) + body)
    h = c.recv(4); n = struct.unpack(">I", h)[0]; d = b""
    while len(d) < n: d += c.recv(n - len(d))
    replies.append(d[0])
assert replies == [5, 14], "bind+1 byte then sign: replies %r, want [5, 14]" % replies
c.close()
# The same bind without the extra byte is forwarded and accepted: a hop.
c = socket.socket(socket.AF_UNIX); c.settimeout(5); c.connect(relay)
replies = []
for body in (bind, b"\x0d" + s(blob) + s(b"more") + b"\x00\x00\x00\x00"):
    c.sendall(struct.pack(">I", len(body)) + body)
    h = c.recv(4); n = struct.unpack(">I", h)[0]; d = b""
    while len(d) < n: d += c.recv(n - len(d))
    replies.append(d[0])
assert replies == [6, 14], "bind then sign: replies %r, want [6, 14]" % replies
PY
kill "$bare"; wait "$bare" 2>/dev/null || true
[ "$(count_events '.event == "key_used"')" -eq 2 ] || fail "want 2 key_used: $(jq -c 'select(.event == "key_used")' "$LOG")"
jq -se '[.[] | select(.event == "key_used")][0] | .dest_hostkey == null and .forwarded == null and .hops == [] and .ok == true' "$LOG" >/dev/null ||
	fail "a session-bind with an extra byte left a trace in key_used: $(jq -c 'select(.event == "key_used")' "$LOG")"
jq -se "[.[] | select(.event == \"key_used\")][1] | .dest_hostkey == \"$hostfp\" and .forwarded == false and .hops == [{\"hostkey\": \"$hostfp\", \"forwarding\": false}]" "$LOG" >/dev/null ||
	fail "a well-formed session-bind is not the key_used's hop: $(jq -c 'select(.event == "key_used")' "$LOG")"

# Everything real clients send still works: add (plain, -t, -c), -l, -L, -d,
# -D (19 then legacy 9), lock/unlock.
ssh-add -t 300 "$WORK/k2" 2>/dev/null || fail "ssh-add -t"
ssh-add -c "$WORK/k" 2>/dev/null || fail "ssh-add -c"
has_event '.event == "key_loaded" and .confirm == true' '.lifetime_s <= 600' || fail "ssh-add -c not logged"
newkey hk ed25519
echo "h1 $(cut -d' ' -f1,2 "$WORK/hk.pub")" > "$WORK/known_hosts"
ssh-add -H "$WORK/known_hosts" -h h1 "$WORK/k2" 2>/dev/null || fail "ssh-add -h (restrict-destination)"
[ "$(ssh-add -l | wc -l)" -eq 2 ] || fail "ssh-add -l: $(ssh-add -l)"
[ "$(ssh-add -L | wc -l)" -eq 2 ] || fail "ssh-add -L"
ssh-add -d "$WORK/k2" 2>/dev/null || fail "ssh-add -d"
PASS="lock-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
printf '#!/bin/sh\necho %s\n' "$PASS" > "$WORK/askpass"
chmod 700 "$WORK/askpass"
addpw() { SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w ssh-add "$@" </dev/null; }
addpw -x 2>/dev/null || fail "ssh-add -x"
ssh-add -l >/dev/null 2>&1 && fail "a locked agent listed keys"
printf '#!/bin/sh\necho wrong\n' > "$WORK/askpass.bad"
chmod 700 "$WORK/askpass.bad"
SSH_ASKPASS=$WORK/askpass.bad SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w ssh-add -X </dev/null 2>/dev/null &&
	fail "unlock with a wrong password succeeded"
addpw -X 2>/dev/null || fail "ssh-add -X"
ssh-add -l >/dev/null || fail "keys gone after unlock"
pid_re='.client_pid > 1'
has_event '.event == "agent_locked"' ".ok == true and $pid_re" || fail "no agent_locked ok:true"
has_event '.event == "agent_unlocked" and .ok == false' "$pid_re" || fail "no agent_unlocked ok:false for the wrong password"
has_event '.event == "agent_unlocked" and .ok == true' "$pid_re" || fail "no agent_unlocked ok:true"
[ "$(count_events '.event == "agent_unlocked"')" -eq 2 ] || fail "want 2 agent_unlocked events"
has_event '.event | startswith("agent_")' '(keys - ["v","seq","ts","event","session","ok","client_pid","prev"]) == []' ||
	fail "lock events carry more than ok and client_pid"
ssh-add -D 2>/dev/null || fail "ssh-add -D"
ssh-add -l >/dev/null 2>&1 && fail "keys left after -D"
SSH_AUTH_SOCK=$UP ssh-add -l >/dev/null 2>&1 && fail "the agent still holds keys after -D"
! grep -rqF -- "$PASS" "$AGENTD_DIR" || fail "the lock password reached AGENTD_DIR"
"$AGENTD" stop >/dev/null
verify_chain >/dev/null
