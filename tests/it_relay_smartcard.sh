# Smartcard keys (ssh-add -s/-e, PKCS#11) through the relay, with a SoftHSM
# token: one key_loaded per identity the card brought in, with its provider
# and a lifetime capped to the session; key_removed on -e and at session end;
# the PIN appears nowhere.
. "$(dirname "$0")/lib.sh"

MODULE=/usr/lib/softhsm/libsofthsm2.so
for t in softhsm2-util pkcs11-tool; do
	command -v $t >/dev/null || { note "no $t (apt-get install softhsm2 opensc): skipped"; exit 0; }
done
[ -e "$MODULE" ] || { note "no $MODULE: skipped"; exit 0; }

# A private token store: SoftHSM reads $HOME/.config/softhsm2/softhsm2.conf,
# and the daemon hands HOME on to ssh-agent and its PKCS#11 helper.
HOME=$WORK/home
export HOME
mkdir -p "$HOME/.config/softhsm2" "$WORK/tokens"
cat > "$HOME/.config/softhsm2/softhsm2.conf" <<CONF
directories.tokendir = $WORK/tokens/
objectstore.backend = file
log.level = ERROR
CONF
PIN="pin-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
softhsm2-util --init-token --free --label t --pin "$PIN" --so-pin 5678abcd >/dev/null ||
	fail "softhsm2-util --init-token"
pkcs11-tool --module "$MODULE" --login --pin "$PIN" --keypairgen --key-type EC:prime256v1 \
	--id 01 --label ec >/dev/null 2>&1 || fail "pkcs11-tool --keypairgen EC"
pkcs11-tool --module "$MODULE" --login --pin "$PIN" --keypairgen --key-type rsa:2048 \
	--id 02 --label rsa >/dev/null 2>&1 || fail "pkcs11-tool --keypairgen RSA"
ssh-keygen -D "$MODULE" > "$WORK/card.pub" 2>/dev/null || fail "ssh-keygen -D"
[ "$(wc -l < "$WORK/card.pub")" -eq 2 ] || fail "token does not hold 2 keys: $(cat "$WORK/card.pub")"
fps=$(ssh-keygen -lf "$WORK/card.pub" | awk '{ print $2 }' | sort)

printf '#!/bin/sh\necho %s\n' "$PIN" > "$WORK/askpass"
chmod 700 "$WORK/askpass"
card() { SSH_ASKPASS=$WORK/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 setsid -w ssh-add "$@" </dev/null; }

eval "$("$AGENTD" start --ttl 10m --label card)" >/dev/null
UP=$AGENTD_DIR/run/sessions/$AGENTD_SESSION/upstream/agent.sock
card -t 99999 -s "$MODULE" >"$WORK/add.out" 2>&1 || fail "ssh-add -s: $(cat "$WORK/add.out")"
logged=$(jq -r 'select(.event == "key_loaded") | .fingerprint' "$LOG" | sort)
[ "$logged" = "$fps" ] || fail "key_loaded for $(echo $logged), want the card's $(echo $fps)"
has_event '.event == "key_loaded"' ".provider == \"$MODULE\" and .lifetime_s > 590 and .lifetime_s <= 600" ||
	fail "card key_loaded lacks provider or a capped lifetime: $(jq -c 'select(.event == "key_loaded")' "$LOG")"
[ "$("$AGENTD" status --json | jq '.[0].keys_held // .[0].keys_loaded')" = 2 ] || fail "status does not count the 2 card keys"
[ "$(ssh-add -l | wc -l)" -eq 2 ] || fail "ssh-add -l: $(ssh-add -l)"

# A signature with a card key is a key_used like any other.
head -n 1 "$WORK/card.pub" > "$WORK/one.pub"
echo data > "$WORK/msg"
ssh-keygen -Y sign -f "$WORK/one.pub" -n file "$WORK/msg" >/dev/null 2>&1 || fail "sign with a card key"
fp1=$(ssh-keygen -lf "$WORK/one.pub" | awk '{ print $2 }')
has_event ".event == \"key_used\" and .fingerprint == \"$fp1\"" '.ok == true' || fail "no key_used for the card key"

# A file key beside the card: -e removes only the card's keys.
newkey f ed25519
ssh-add "$WORK/f" 2>/dev/null || fail "ssh-add f"
card -e "$MODULE" >/dev/null 2>&1 || fail "ssh-add -e"
removed=$(jq -r 'select(.event == "key_removed" and .reason == "requested") | .fingerprint' "$LOG" | sort)
[ "$removed" = "$fps" ] || fail "key_removed after -e: $(echo $removed), want $(echo $fps)"
[ "$(SSH_AUTH_SOCK=$UP ssh-add -l | wc -l)" -eq 1 ] || fail "the agent should hold only f after -e"

# Added again without -t (a plain 20), pipelined with a list on one
# connection: the list's answer waits until the card's keys are logged and
# comes after SUCCESS; a bogus provider's FAILURE lets the next one through.
PIN=$PIN python3 - "$SSH_AUTH_SOCK" "$MODULE" <<'PY' || fail "pipelined smartcard requests"
import os, socket, struct, sys
def s(b): return struct.pack(">I", len(b)) + b
def f(b): return struct.pack(">I", len(b)) + b
c = socket.socket(socket.AF_UNIX); c.settimeout(20); c.connect(sys.argv[1])
def reply():
    h = b""
    while len(h) < 4: h += c.recv(4 - len(h))
    n = struct.unpack(">I", h)[0]; d = b""
    while len(d) < n: d += c.recv(n - len(d))
    return d
c.sendall(f(b"\x14" + s(b"/nonexistent/p11.so") + s(b"0000")) + f(b"\x0b") +
          f(b"\x14" + s(sys.argv[2].encode()) + s(os.environ["PIN"].encode())) + f(b"\x0b"))
r = [reply() for _ in range(4)]
assert r[0] == b"\x05", "bogus provider: %r" % r[0][:1]
assert r[1][0] == 12 and struct.unpack(">I", r[1][1:5])[0] == 1, "list before the add: %r" % r[1][:5]
assert r[2] == b"\x06", "card add: %r" % r[2][:1]
assert r[3][0] == 12 and struct.unpack(">I", r[3][1:5])[0] == 3, "list after the add: %r" % r[3][:5]
PY
[ "$(count_events '.event == "key_loaded" and .provider != null')" -eq 4 ] || fail "second -s not logged"
has_event '.event == "key_loaded" and .provider != null' '.lifetime_s <= 600' || fail "uncapped card lifetime"
"$AGENTD" stop >/dev/null
[ "$(count_events '.event == "key_removed" and .reason == "session_end"')" -eq 3 ] ||
	fail "want key_removed/session_end for 2 card keys and f"
! grep -rqF -- "$PIN" "$AGENTD_DIR" || fail "the PIN reached AGENTD_DIR"
verify_chain >/dev/null
