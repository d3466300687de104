#!/usr/bin/env python3
"""Tools for tests/it_checkpoint*.sh, written independently of the C code.

  chain_tamper.py rewrite LOG OUT --line N [--fix-heads] [--drop-checkpoints]
        [--resign SEEDFILE]
      Changes line N's label (or, without one, its ts) and recomputes every
      prev after it with BLAKE2b-256, as an attacker who can write the file
      would (issue 15). --fix-heads also sets each checkpoint's head to its
      new prev; --drop-checkpoints removes them (renumbering seq);
      --resign signs them again with the agentd secret key file SEEDFILE.
  chain_tamper.py sigs PUBFILE LOG...
      Checks every checkpoint's signature on its own: the message is
      "agentd-checkpoint-v1" || u16 len(host) || host || u64 seq || head,
      key_id = blake2b(pk, 32)[:8]; prints the number checked.
  chain_tamper.py signs SOCKET N
      N sign requests for the first identity of the agent at SOCKET, on one
      connection (each one a key_used line).
"""
import base64
import hashlib
import json
import socket
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)


def h(b):
    return hashlib.blake2b(b, digest_size=32).hexdigest()


def message(host, seq, head_hex):
    hb = host.encode()
    return (b"agentd-checkpoint-v1" + struct.pack(">H", len(hb)) + hb +
            struct.pack(">Q", seq) + bytes.fromhex(head_hex))


def dump(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def rewrite(args):
    log, out = args[0], args[1]
    n = int(args[args.index("--line") + 1])
    fix = "--fix-heads" in args
    drop = "--drop-checkpoints" in args
    key = None
    if "--resign" in args:
        with open(args[args.index("--resign") + 1]) as f:
            typ, b64 = f.read().split()
        assert typ == "agentd-ed25519-secret"
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(b64))
        fix = True
    with open(log, "rb") as f:
        lines = f.read().split(b"\n")[:-1]
    objs = [(json.loads(l), l) for l in lines]
    o = objs[n - 1][0]
    if "label" in o:
        o["label"] = o["label"] + "-forged"
    else:
        o["ts"] = o["ts"][:-2] + ("1Z" if o["ts"][-2] != "1" else "2Z")
    objs[n - 1] = (o, None)
    if drop:
        objs = [(o, None) for o, raw in objs if o["event"] != "checkpoint"]
    prev = objs[0][0]["prev"]
    seq = objs[0][0]["seq"]
    res = []
    for o, raw in objs:
        if raw is not None and o["seq"] == seq and o["prev"] == prev:
            res.append(raw)	# untouched so far: its very bytes
            prev = h(raw)
            seq += 1
            continue
        o["seq"] = seq
        seq += 1
        o["prev"] = prev
        if o["event"] == "checkpoint" and fix:
            o["head"] = prev
            if key is not None:
                pk = key.public_key().public_bytes_raw()
                o["key_id"] = h(pk)[:16]
                o["sig"] = base64.b64encode(
                    key.sign(message(o["host"], o["seq"], prev))).decode()
        b = dump(o)
        res.append(b)
        prev = h(b)
    with open(out, "wb") as f:
        f.write(b"".join(x + b"\n" for x in res))


def sigs(args):
    with open(args[0]) as f:
        typ, b64, kid = f.read().split()
    assert typ == "agentd-ed25519"
    pk = base64.b64decode(b64)
    assert h(pk)[:16] == kid, "key id"
    pub = Ed25519PublicKey.from_public_bytes(pk)
    n = 0
    for log in args[1:]:
        with open(log, "rb") as f:
            for line in f.read().split(b"\n")[:-1]:
                o = json.loads(line)
                if o["event"] != "checkpoint":
                    continue
                assert o["head"] == o["prev"], "head != prev"
                assert o["key_id"] == kid, "key_id"
                pub.verify(base64.b64decode(o["sig"]),
                           message(o["host"], o["seq"], o["head"]))
                n += 1
    print(n)


def frame(t, body=b""):
    return struct.pack(">IB", len(body) + 1, t) + body


def recv_frame(s):
    d = b""
    while len(d) < 4:
        c = s.recv(4 - len(d))
        if not c:
            raise EOFError
        d += c
    n = struct.unpack(">I", d)[0]
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def signs(args):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(args[0])
    s.sendall(frame(11))
    r = recv_frame(s)
    assert r[0] == 12 and struct.unpack(">I", r[1:5])[0] >= 1, "no identity"
    bl = struct.unpack(">I", r[5:9])[0]
    blob = r[9:9 + bl]
    req = frame(13, struct.pack(">I", len(blob)) + blob +
                struct.pack(">I", 4) + b"data" + struct.pack(">I", 0))
    for _ in range(int(args[1])):
        s.sendall(req)
        assert recv_frame(s)[0] == 14, "sign failed"
    s.close()


if __name__ == "__main__":
    {"rewrite": rewrite, "sigs": sigs, "signs": signs}[sys.argv[1]](sys.argv[2:])
