# The relay names a key only by its canonical blob (DESIGN §5, issue 11 §1):
# OpenSSH 9.2's agent reads key blobs loosely (short type names in any case,
# signature names as key types, mpints with extra leading zeros), so a loose
# blob would get a real signature or remove a real key while the log names a
# phantom fingerprint. Each loose form below is first shown to work on the
# bare agent, then refused by the relay with nothing forwarded, logged or
# lost. Real clients (ssh-add of every key type
# ssh-keygen makes here, certificates, signing, removal) still work and log
# the fingerprints ssh-keygen -l prints.
. "$(dirname "$0")/lib.sh"

eval "$("$AGENTD" start --ttl 10m --label canon)" >/dev/null
UP=$AGENTD_DIR/run/sessions/$AGENTD_SESSION/upstream/agent.sock
[ -S "$UP" ] || fail "no upstream socket at $UP"
newkey k ed25519
newkey rk rsa
newkey ek ecdsa
ssh-add "$WORK/k" "$WORK/rk" "$WORK/ek" 2>/dev/null || fail "ssh-add k rk ek"
before=$(wc -l < "$LOG")

# The reviewer's reproduction: right answer 5 5 5.
out=$(python3 - "$SSH_AUTH_SOCK" "$WORK/k.pub" "$WORK/rk.pub" <<'PY'
import sys,socket,struct,base64
s=lambda x:struct.pack('>I',len(x))+x
def ask(b):
    c=socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(s(b)); return c.recv(5)[4]
kb=base64.b64decode(open(sys.argv[2]).read().split()[1]); rb=base64.b64decode(open(sys.argv[3]).read().split()[1])
el=struct.unpack('>I',rb[11:15])[0]; e=rb[15:15+el]; n=rb[15+el:]
print(ask(b'\x0d'+s(s(b'ED25519')+s(kb[-32:]))+s(b'data')+b'\0'*4))   # sign, alias type name
print(ask(b'\x0d'+s(s(b'ssh-rsa')+s(b'\0'+e)+n)+s(b'data')+b'\0'*4))   # sign, e padded with a zero
print(ask(b'\x12'+s(s(b'ed25519')+s(kb[-32:]))))                         # remove, alias type name
PY
)
[ "$(echo $out)" = "5 5 5" ] || fail "loose key blobs were not refused: replies $(echo $out) (want 5 5 5)"
[ "$(wc -l < "$LOG")" -eq "$before" ] || fail "a refused request was logged: $(tail -n +$((before + 1)) "$LOG")"
SSH_AUTH_SOCK=$UP ssh-add -l | grep -qF "$(ssh-keygen -lf "$WORK/k.pub" | awk '{ print $2 }')" ||
	fail "the agent lost k: the alias remove was forwarded"
n=$("$AGENTD" status --json | jq '.[0].keys_held // .[0].keys_loaded')
[ "$n" = 3 ] || fail "status counts $n keys, want 3"

# Every loose form, for sign, remove and the session-bind host key. A bare
# ssh-agent holding the same keys shows that OpenSSH accepts each sign form
# (so each case could fail); the relay must refuse all of them.
ssh-agent -D -a "$WORK/bare.sock" >/dev/null 2>&1 &
bare=$!
EXTRA_PIDS="$EXTRA_PIDS $bare"
for i in $(seq 200); do [ -S "$WORK/bare.sock" ] && break; sleep 0.05; done
SSH_AUTH_SOCK=$WORK/bare.sock ssh-add "$WORK/k" "$WORK/rk" "$WORK/ek" 2>/dev/null ||
	fail "bare ssh-agent did not start"
python3 - "$SSH_AUTH_SOCK" "$UP" "$WORK/bare.sock" "$WORK/k.pub" "$WORK/rk.pub" "$WORK/ek.pub" <<'PY' || fail "a loose key blob was not refused"
import base64, socket, struct, sys
relay, up, bare = sys.argv[1:4]
kb, rb, eb = (base64.b64decode(open(p).read().split()[1]) for p in sys.argv[4:7])
def s(b): return struct.pack(">I", len(b)) + b
def fields(blob):
    out, pos = [], 0
    while pos < len(blob):
        n = struct.unpack(">I", blob[pos:pos + 4])[0]
        out.append(blob[pos + 4:pos + 4 + n]); pos += 4 + n
    return out
def ask(path, body):
    c = socket.socket(socket.AF_UNIX); c.settimeout(5); c.connect(path)
    c.sendall(s(body))
    h = c.recv(4); n = struct.unpack(">I", h)[0]; d = b""
    while len(d) < n: d += c.recv(n - len(d))
    c.close(); return d
_, kpk = fields(kb)
_, e, n = fields(rb)
_, curve, q = fields(eb)
comp = bytes([2 + (q[-1] & 1)]) + q[1:1 + (len(q) - 1) // 2]
loose = {
    "ED25519": s(b"ED25519") + s(kpk),
    "ed25519": s(b"ed25519") + s(kpk),
    "Ssh-ed25519": s(b"Ssh-ed25519") + s(kpk),
    "RSA": s(b"RSA") + s(e) + s(n),
    "rsa": s(b"rsa") + s(e) + s(n),
    "rsa-sha2-256 as key type": s(b"rsa-sha2-256") + s(e) + s(n),
    "rsa-sha2-512 as key type": s(b"rsa-sha2-512") + s(e) + s(n),
    "rsa e padded": s(b"ssh-rsa") + s(b"\0" + e) + s(n),
    "rsa n padded twice": s(b"ssh-rsa") + s(e) + s(b"\0\0" + n),
    "ECDSA": s(b"ECDSA") + s(curve) + s(q),
    "ecdsa": s(b"ecdsa") + s(curve) + s(q),
    "ecdsa compressed point": s(b"ecdsa-sha2-nistp256") + s(curve) + s(comp),
}
# OpenSSH 9.2 takes these as the loaded key (a live test, not a straw man).
accepted = ("ED25519", "ed25519", "RSA", "rsa", "rsa-sha2-512 as key type",
            "rsa e padded", "rsa n padded twice")
for name in accepted:
    r = ask(bare, b"\x0d" + s(loose[name]) + s(b"data") + b"\0\0\0\0")
    assert r[0] == 14, "the bare agent refused %s (%d): the case tests nothing" % (name, r[0])
idents = ask(up, b"\x0b")
for name, blob in loose.items():
    for what, body in (("sign", b"\x0d" + s(blob) + s(b"data") + b"\0\0\0\0"),
                       ("remove", b"\x12" + s(blob))):
        r = ask(relay, body)
        assert r == b"\x05", "%s with %s: reply %d, want FAILURE" % (what, name, r[0])
        assert ask(up, b"\x0b") == idents, "%s with %s changed the agent" % (what, name)
# The session-bind host key: the bare agent signs a session id with k, the
# bind names k by an alias.
sid = bytes(range(32))
sig = ask(bare, b"\x0d" + s(kb) + s(sid) + b"\0\0\0\0")
assert sig[0] == 14
for name in ("ED25519", "ed25519"):
    bind = b"\x1b" + s(b"session-bind@openssh.com") + s(loose[name]) + s(sid) + sig[1:] + b"\x00"
    r = ask(relay, bind)
    assert r == b"\x05", "session-bind with host key %s: reply %d" % (name, r[0])
    # The same connection may still bind with the canonical key.
bind = b"\x1b" + s(b"session-bind@openssh.com") + s(kb) + s(sid) + sig[1:] + b"\x00"
assert ask(relay, bind)[0] == 6, "a canonical session-bind was refused"
PY
[ "$(wc -l < "$LOG")" -eq "$before" ] || fail "a refused request was logged: $(tail -n +$((before + 1)) "$LOG")"
SSH_AUTH_SOCK=$UP ssh-add -l | wc -l | grep -qx 3 || fail "the agent lost a key"
ssh-add -D >/dev/null 2>&1 || fail "ssh-add -D"

# Real clients: every key type ssh-keygen makes here, and certificates.
newkey ca ed25519
newkey ca2 ecdsa
for spec in e1:ed25519 e2:ecdsa:256 e3:ecdsa:384 e4:ecdsa:521 r1:rsa:3072 r2:rsa:1024; do
	name=${spec%%:*}; rest=${spec#*:}; t=${rest%%:*}; bits=
	[ "$rest" != "$t" ] && bits="-b ${rest#*:}"
	# shellcheck disable=SC2086
	ssh-keygen -q -t "$t" $bits -N '' -C "it-$name" -f "$WORK/$name"
done
ssh-keygen -q -s "$WORK/ca" -I user-e1 -n alice "$WORK/e1.pub"
ssh-keygen -q -s "$WORK/ca2" -I host-r1 -h -n host.example -V +1h "$WORK/r1.pub"
ssh-keygen -q -s "$WORK/ca" -I user-e3 -n alice,bob -O no-pty -O force-command=true \
	-O source-address=127.0.0.1 "$WORK/e3.pub"
for name in e1 e2 e3 e4 r1 r2; do
	SSH_AUTH_SOCK=$SSH_AUTH_SOCK ssh-add "$WORK/$name" 2>/dev/null || fail "ssh-add $name"
	fp=$(ssh-keygen -lf "$WORK/$name.pub" | awk '{ print $2 }')
	wait_event ".event == \"key_loaded\" and .fingerprint == \"$fp\"" 5
	# A signature through the relay (ssh-keygen -Y sign asks the agent).
	echo data > "$WORK/msg"
	pub=$WORK/$name.pub
	[ -f "$WORK/$name-cert.pub" ] && pub=$WORK/$name-cert.pub
	ssh-keygen -Y sign -n file -f "$pub" "$WORK/msg" >/dev/null 2>&1 || fail "ssh-keygen -Y sign with $name"
	rm -f "$WORK/msg.sig"
	wait_event ".event == \"key_used\" and .fingerprint == \"$fp\" and .ok == true" 5
done
# ssh-add loads each certificate next to its key: 6 keys, 3 certificates.
n=$("$AGENTD" status --json | jq '.[0].keys_held // .[0].keys_loaded')
[ "$n" = 9 ] || fail "status counts $n keys after loading 6 keys and 3 certificates, want 9"
for name in e1 e2 e3 e4 r1 r2; do
	ssh-add -d "$WORK/$name" 2>/dev/null || fail "ssh-add -d $name"
	fp=$(ssh-keygen -lf "$WORK/$name.pub" | awk '{ print $2 }')
	wait_event ".event == \"key_removed\" and .fingerprint == \"$fp\"" 5
done
[ "$(SSH_AUTH_SOCK=$UP ssh-add -l 2>/dev/null | grep -c SHA256)" = 0 ] || fail "keys left in the agent"
n=$("$AGENTD" status --json | jq '.[0].keys_held // .[0].keys_loaded')
[ "$n" = 0 ] || fail "status counts $n keys after removing all, want 0"
[ "$(count_events '.event == "key_used" and .ok == false')" = 0 ] || fail "a real signature failed"
verify_chain
