# Hostile frames on the public agent socket end that client's request only:
# a malformed lock/unlock (which makes OpenSSH 9.2's agent exit with fatal())
# is answered FAILURE by the relay and never forwarded; an oversized frame
# drops that client; the session, its agent and the daemon live on.
. "$(dirname "$0")/lib.sh"

eval "$("$AGENTD" start --ttl 10m)" >/dev/null
newkey k
ssh-add "$WORK/k" >/dev/null 2>&1 || fail "ssh-add"
python3 - "$SSH_AUTH_SOCK" <<'PY' || fail "hostile frames: $(tail -n 3 "$AGENTD_DIR/agentd.log")"
import socket, struct, sys
path = sys.argv[1]
def send(frame, want_reply=True):
    s = socket.socket(socket.AF_UNIX); s.settimeout(3); s.connect(path)
    s.sendall(frame)
    try:
        d = s.recv(100)
    except OSError:
        d = b""
    s.close()
    return d
FAILURE = b"\x00\x00\x00\x01\x05"
for t in (22, 23):
    for body in (b"", b"\x00", b"\xff\xff\xff\xff", b"\x00\x00\x00\x05ab", b"\x00\x00\x00\x02a\x00"):
        r = send(struct.pack(">IB", len(body) + 1, t) + body)
        if r != FAILURE:
            sys.exit(f"type {t} body {body!r}: got {r!r}, want FAILURE")
# Over the 256 KiB cap: that client is dropped.
send(struct.pack(">I", 256 * 1024 + 1) + b"\x11" * 64)
PY
ssh-add -l | grep -q ED25519 || fail "the session lost its agent or key"
[ "$(count_events '.event == "crashed"')" -eq 0 ] || fail "a hostile frame crashed the session: $(jq -c 'select(.event == "crashed")' "$LOG")"
# A well-formed lock and unlock still pass through.
printf '#!/bin/sh\necho lockpw\n' > "$WORK/askpass"; chmod 700 "$WORK/askpass"
SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force ssh-add -x >/dev/null 2>&1 || fail "lock"
ssh-add -l 2>&1 | grep -q ED25519 && fail "locked agent lists keys"
SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force ssh-add -X >/dev/null 2>&1 || fail "unlock"
ssh-add -l | grep -q ED25519 || fail "unlocked agent lost its key"
grep -q "lockpw" "$LOG" "$AGENTD_DIR/agentd.log" && fail "lock password in a file"
verify_chain >/dev/null
