# The auditing relay: every add, removal and signature through the public
# socket is in the log; fingerprints equal ssh-keygen -lf for every key type
# ssh-keygen makes here; lifetimes are capped to the session; ssh-add -D/-d/
# -x/-X behave as against a bare agent; hostile frames change nothing.
. "$(dirname "$0")/lib.sh"

eval "$("$AGENTD" start --ttl 10m --label relay)" >/dev/null
newkey ed ed25519
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$WORK/p256"
ssh-keygen -q -t ecdsa -b 384 -N '' -f "$WORK/p384"
ssh-keygen -q -t ecdsa -b 521 -N '' -f "$WORK/p521"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$WORK/rsa2048"
ssh-keygen -q -t rsa -b 4096 -N '' -f "$WORK/rsa4096"
newkey ca ed25519
newkey certkey ed25519
ssh-keygen -q -s "$WORK/ca" -I it-cert -n "$(id -un)" "$WORK/certkey.pub"

# Plain ssh-add against the relay: each key (and the certificate) logged.
for k in ed p256 p384 p521 rsa2048 rsa4096 certkey; do
	ssh-add "$WORK/$k" 2>/dev/null || fail "ssh-add $k through the relay"
done
for k in ed p256 p384 p521 rsa2048 rsa4096 certkey; do
	fp=$(ssh-keygen -lf "$WORK/$k" | awk '{ print $2 }')
	has_event ".event == \"key_loaded\" and .fingerprint == \"$fp\"" '.lifetime_s > 590 and .lifetime_s <= 600 and .confirm == false' ||
		fail "key_loaded for $k ($fp)"
done
cfp=$(ssh-keygen -lf "$WORK/certkey-cert.pub" | awk '{ print $2 }')
has_event '.event == "key_loaded" and .key_type == "ssh-ed25519-cert-v01@openssh.com"' ".fingerprint == \"$cfp\"" ||
	fail "certificate's key_loaded does not carry the fingerprint ssh-keygen -lf prints"
[ "$(ssh-add -l | wc -l)" -eq 8 ] || fail "agent does not hold 8 identities: $(ssh-add -l)"

# ssh-add -t 99999 and -c: the lifetime is capped, confirm is recorded.
ssh-add -t 99999 "$WORK/ed" 2>/dev/null || fail "ssh-add -t 99999"
has_event '.event == "key_loaded" and .key_type == "ssh-ed25519"' '.lifetime_s <= 600' ||
	fail "ssh-add -t 99999 was not capped"

# Signatures: ssh-keygen -Y sign gives key_used ok:true with the client pid.
echo data > "$WORK/msg"
ssh-keygen -Y sign -f "$WORK/p256.pub" -n file "$WORK/msg" 2>/dev/null || fail "sign through the relay"
fp=$(ssh-keygen -lf "$WORK/p256" | awk '{ print $2 }')
has_event ".event == \"key_used\" and .fingerprint == \"$fp\"" '.ok == true and .dest_hostkey == null and .client_pid > 1' ||
	fail "key_used for the signature"

# -d removes one, -D all: key_removed/requested for each identity.
ssh-add -d "$WORK/p384" 2>/dev/null || fail "ssh-add -d"
fp=$(ssh-keygen -lf "$WORK/p384" | awk '{ print $2 }')
has_event ".event == \"key_removed\" and .fingerprint == \"$fp\"" '.reason == "requested"' || fail "key_removed for -d"

# Lock and unlock with a password given through SSH_ASKPASS: same answers as
# a bare agent, and the password appears nowhere.
PASS="lock-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
printf '#!/bin/sh\necho %s\n' "$PASS" > "$WORK/askpass"
chmod 700 "$WORK/askpass"
lockseq() {	# lockseq SOCK -> the outputs and exit codes of a lock/unlock cycle
	local sock=$1
	for cmd in "-x" "-l" "-X" "-l"; do
		SSH_AUTH_SOCK=$sock SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force \
			DISPLAY=:0 setsid -w ssh-add $cmd </dev/null 2>&1 | sed 's/SHA256:[^ ]*//; s/ .*(/ (/'
		echo "exit ${PIPESTATUS[0]}"
	done
}
ssh-agent -D -a "$WORK/bare.sock" >/dev/null 2>&1 &
bare=$!
EXTRA_PIDS="$EXTRA_PIDS $bare"
for i in $(seq 200); do [ -S "$WORK/bare.sock" ] && break; sleep 0.05; done
SSH_AUTH_SOCK=$WORK/bare.sock ssh-add "$WORK/rsa2048" 2>/dev/null || fail "bare ssh-agent did not start"
ours=$(lockseq "$SSH_AUTH_SOCK" | grep -v -e RSA -e ED25519 -e ECDSA)
theirs=$(lockseq "$WORK/bare.sock" | grep -v -e RSA -e ED25519 -e ECDSA)
note "lock cycle: $(echo $ours)"
[ "$ours" = "$theirs" ] || fail "lock/unlock differs from a bare agent: ours '$ours' theirs '$theirs'"
kill "$bare"; wait "$bare" 2>/dev/null || true

before=$(count_events '.event == "key_removed"')
ssh-add -D 2>/dev/null || fail "ssh-add -D"
ssh-add -l >/dev/null 2>&1 && fail "agent still holds keys after -D"
[ "$(count_events '.event == "key_removed" and .reason == "requested"')" -ge $((before + 6)) ] ||
	fail "ssh-add -D did not log each identity"

# Hostile frames: garbage, truncated, an unknown key type, an oversized
# length. The daemon answers or drops that client; others are unaffected and
# nothing is logged as loaded.
loaded=$(count_events '.event == "key_loaded"')
python3 - "$SSH_AUTH_SOCK" <<'PY'
import socket, struct, sys
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5); return s
def frame(b): return struct.pack(">I", len(b)) + b
def reply(s):
    h = s.recv(4)
    if len(h) < 4: return None
    n = struct.unpack(">I", h)[0]; d = b""
    while len(d) < n: d += s.recv(n - len(d))
    return d
def sstr(b): return struct.pack(">I", len(b)) + b
s = conn()
s.sendall(frame(bytes([200]) + b"garbage")); assert reply(s) == b"\x05"
s.sendall(frame(bytes([17]) + sstr(b"ssh-ed25519") + b"\x00\x00")); assert reply(s) == b"\x05"
s.sendall(frame(bytes([25]) + sstr(b"ssh-unknown@example.org") + sstr(b"x") * 3)); assert reply(s) == b"\x05"
s.sendall(frame(bytes([25]) + sstr(b"ssh-ed25519") + sstr(b"A" * 32) + sstr(b"B" * 64) + sstr(b"c") + b"\xff" + sstr(b"evil@example.org"))); assert reply(s) == b"\x05"
s.sendall(frame(bytes([13]) + b"\x00\x00\x00\x09abc")); assert reply(s) == b"\x05"
s.sendall(frame(bytes([11]))); assert reply(s)[0] == 12
s.close()
s = conn()
s.sendall(struct.pack(">I", 256 * 1024 + 1) + b"\x11" * 100)
assert reply(s) is None, "an oversized frame must drop the connection"
s.close()
s = conn(); s.sendall(b"\x00\x00"); s.close()
PY
[ "$(count_events '.event == "key_loaded"')" -eq "$loaded" ] || fail "a hostile frame was logged as loaded"
ssh-add "$WORK/ed" 2>/dev/null || fail "a normal client after the hostile ones"
ssh-add -l >/dev/null || fail "agent unusable after hostile frames"

# Another uid cannot use the socket (the 0700 directory stops it first).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	rc=0
	SSH_AUTH_SOCK=$SSH_AUTH_SOCK setpriv --reuid=65534 --regid=65534 --clear-groups \
		ssh-add -l >/dev/null 2>&1 || rc=$?
	[ $rc -eq 2 ] || fail "uid 65534 reached the agent (ssh-add exit $rc)"
fi

# The secret scan: private keys and the lock password appear nowhere.
for k in ed p256 rsa4096 certkey; do
	sed '1d;$d' "$WORK/$k" | while read -r line; do
		[ ${#line} -ge 16 ] || continue
		! grep -rqF -- "$line" "$AGENTD_DIR" || fail "private key material of $k under AGENTD_DIR"
	done
done
! grep -rqF -- "$PASS" "$AGENTD_DIR" || fail "the lock password reached AGENTD_DIR"
"$AGENTD" stop >/dev/null
has_event '.event == "key_removed" and .reason == "session_end"' 'true' || fail "no key_removed/session_end"
verify_chain >/dev/null
