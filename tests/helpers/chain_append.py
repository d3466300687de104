#!/usr/bin/env python3
"""Appends lines from bench/genlog.py to an audit.jsonl, continuing its chain.

chain_append.py LOG GENLOG [--batch N] [--pause S] [--pad-line K:BYTES]
                [--sign SECRETKEYFILE --lines N]

Each GENLOG line gets the next seq after LOG's last line and prev = BLAKE2b-256
of the line before it, with its bytes otherwise unchanged (the daemon's
format: v, seq, ts, event, session, fields, prev). Lines go out in batches of
N whole lines (one write each), S seconds apart, so a tailer sees a growing
file. --pad-line K:BYTES makes the K-th appended line longer by a "pad" field
of BYTES bytes (a line far above rsyslog's default 8k message size).

--sign signs the appended lines as the daemon would: a checkpoint line after
every 1000 unsigned lines and one at the end (host as in LOG's last
checkpoint, the key from agentd's secret key file, message bytes as in
docs/FLEET.md), appending until LOG has exactly N lines."""
import argparse
import base64
import hashlib
import json
import os
import re
import struct
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("log")
ap.add_argument("genlog")
ap.add_argument("--batch", type=int, default=500)
ap.add_argument("--pause", type=float, default=0.05)
ap.add_argument("--pad-line")
ap.add_argument("--sign")
ap.add_argument("--lines", type=int)
a = ap.parse_args()

with open(a.log, "rb") as f:
    data = f.read()
last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
seq = json.loads(last)["seq"]
prev = hashlib.blake2b(last, digest_size=32).hexdigest()
total = data.count(b"\n")
key = None
if a.sign:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    typ, b64 = open(a.sign).read().split()
    assert typ == "agentd-ed25519-secret"
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(b64))
    kid = hashlib.blake2b(key.public_key().public_bytes_raw(),
                          digest_size=32).hexdigest()[:16]
    host = [json.loads(l)["host"] for l in data.split(b"\n")
            if b'"event":"checkpoint"' in l][-1]


def checkpoint(seq, ts, prev):
    hb = host.encode()
    msg = (b"agentd-checkpoint-v1" + struct.pack(">H", len(hb)) + hb +
           struct.pack(">Q", seq) + bytes.fromhex(prev))
    sig = base64.b64encode(key.sign(msg)).decode()
    return json.dumps({"v": 1, "seq": seq, "ts": ts, "event": "checkpoint",
                       "session": None, "host": host, "head": prev,
                       "key_id": kid, "sig": sig, "prev": prev},
                      separators=(",", ":")).encode()
pad_at, pad_len = (int(x) for x in a.pad_line.split(":")) if a.pad_line else (0, 0)

head = re.compile(rb'^\{"v":1,"seq":\d+,')
tail = re.compile(rb',"prev":"[0-9a-f]{64}"\}$')
fd = os.open(a.log, os.O_WRONLY | os.O_APPEND)
out = []
n = 0
unsigned = 0
ts = None


def emit(line):
    global prev, total
    prev = hashlib.blake2b(line, digest_size=32).hexdigest()
    out.append(line + b"\n")
    total += 1
    if len(out) == a.batch:
        os.write(fd, b"".join(out))
        out.clear()
        time.sleep(a.pause)


with open(a.genlog, "rb") as g:
    for line in g:
        if a.lines is not None and total >= a.lines - (1 if key else 0):
            break
        line = line.rstrip(b"\n")
        n += 1
        seq += 1
        line = head.sub(b'{"v":1,"seq":%d,' % seq, line, count=1)
        if n == pad_at:
            line = tail.sub(b',"pad":"' + b"x" * pad_len + b'"\\g<0>', line, count=1)
        line = tail.sub(b',"prev":"' + prev.encode() + b'"}', line, count=1)
        ts = json.loads(line)["ts"]
        emit(line)
        unsigned += 1
        if key and unsigned == 1000 and total < a.lines - 1:
            seq += 1
            emit(checkpoint(seq, ts, prev))
            unsigned = 0
if key and total < a.lines:
    seq += 1
    emit(checkpoint(seq, ts, prev))
if out:
    os.write(fd, b"".join(out))
os.close(fd)
print(seq)
