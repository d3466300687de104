#!/bin/sh
# Seeds the agent-protocol fuzzer with real traffic: throw-away keys of every
# type ssh-keygen makes here are added, listed, used for a signature and
# removed through a recording proxy in front of a bare ssh-agent. Each frame
# (both directions, without its length) becomes one corpus file in $1.
set -eu
out=$1
mkdir -p "$out"
tmp=$(mktemp -d /tmp/agent-corpus.XXXXXX)
trap 'kill $agent $proxy 2>/dev/null || true; rm -rf "$tmp"' EXIT
ssh-agent -D -a "$tmp/agent.sock" >/dev/null 2>&1 &
agent=$!
python3 - "$tmp/agent.sock" "$tmp/proxy.sock" "$out" <<'PY' &
import os, socket, struct, sys, threading
up, path, out = sys.argv[1:]
n = [0]
def save(frame):
    n[0] += 1
    with open(os.path.join(out, "frame-%03d" % n[0]), "wb") as f:
        f.write(frame)
def pump(src, dst):
    buf = b""
    while True:
        try:
            d = src.recv(65536)
        except OSError:
            break
        if not d:
            break
        dst.sendall(d)
        buf += d
        while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
            k = struct.unpack(">I", buf[:4])[0]
            save(buf[4:4 + k]); buf = buf[4 + k:]
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(8)
while True:
    c, _ = srv.accept()
    u = socket.socket(socket.AF_UNIX); u.connect(up)
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
proxy=$!
for i in $(seq 100); do [ -S "$tmp/proxy.sock" ] && [ -S "$tmp/agent.sock" ] && break; sleep 0.05; done
export SSH_AUTH_SOCK="$tmp/proxy.sock"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/ca"
for spec in "ed25519 256" "ecdsa 256" "ecdsa 384" "ecdsa 521" "rsa 2048"; do
	set -- $spec
	k="$tmp/$1-$2"
	ssh-keygen -q -t "$1" -b "$2" -N '' -f "$k"
	ssh-add "$k" 2>/dev/null
	echo x > "$tmp/m"
	ssh-keygen -Y sign -f "$k.pub" -n file "$tmp/m" >/dev/null 2>&1 || true
	rm -f "$tmp/m.sig"
	ssh-add -c -t 60 "$k" 2>/dev/null || true
done
ssh-keygen -q -s "$tmp/ca" -I corpus "$tmp/ed25519-256.pub"
ssh-add "$tmp/ed25519-256" 2>/dev/null
ssh-add -l >/dev/null; ssh-add -d "$tmp/rsa-2048" 2>/dev/null; ssh-add -D 2>/dev/null
# A session-bind as ssh sends it (host key, session id, signature, flag).
python3 - "$tmp/ca.pub" "$out/frame-bind" <<'PY'
import base64, struct, sys
def s(b): return struct.pack(">I", len(b)) + b
blob = base64.b64decode(open(sys.argv[1]).read().split()[1])
sig = s(b"ssh-ed25519") + s(b"\x01" * 64)
open(sys.argv[2], "wb").write(bytes([27]) + s(b"session-bind@openssh.com") +
    s(blob) + s(b"\x02" * 32) + s(sig) + b"\x00")
PY
echo "corpus: $(ls "$out" | wc -l) frames in $out"
