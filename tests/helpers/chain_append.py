#!/usr/bin/env python3
"""Appends lines from bench/genlog.py to an audit.jsonl, continuing its chain.

chain_append.py LOG GENLOG [--batch N] [--pause S] [--pad-line K:BYTES]

Each GENLOG line gets the next seq after LOG's last line and prev = BLAKE2b-256
of the line before it, with its bytes otherwise unchanged (the daemon's
format: v, seq, ts, event, session, fields, prev). Lines go out in batches of
N whole lines (one write each), S seconds apart, so a tailer sees a growing
file. --pad-line K:BYTES makes the K-th appended line longer by a "pad" field
of BYTES bytes (a line far above rsyslog's default 8k message size)."""
import argparse
import hashlib
import json
import os
import re
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("log")
ap.add_argument("genlog")
ap.add_argument("--batch", type=int, default=500)
ap.add_argument("--pause", type=float, default=0.05)
ap.add_argument("--pad-line")
a = ap.parse_args()

with open(a.log, "rb") as f:
    data = f.read()
last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
seq = json.loads(last)["seq"]
prev = hashlib.blake2b(last, digest_size=32).hexdigest()
pad_at, pad_len = (int(x) for x in a.pad_line.split(":")) if a.pad_line else (0, 0)

head = re.compile(rb'^\{"v":1,"seq":\d+,')
tail = re.compile(rb',"prev":"[0-9a-f]{64}"\}$')
fd = os.open(a.log, os.O_WRONLY | os.O_APPEND)
out = []
n = 0
with open(a.genlog, "rb") as g:
    for line in g:
        line = line.rstrip(b"\n")
        n += 1
        seq += 1
        line = head.sub(b'{"v":1,"seq":%d,' % seq, line, count=1)
        if n == pad_at:
            line = tail.sub(b',"pad":"' + b"x" * pad_len + b'"\\g<0>', line, count=1)
        line = tail.sub(b',"prev":"' + prev.encode() + b'"}', line, count=1)
        prev = hashlib.blake2b(line, digest_size=32).hexdigest()
        out.append(line + b"\n")
        if len(out) == a.batch:
            os.write(fd, b"".join(out))
            out = []
            time.sleep(a.pause)
if out:
    os.write(fd, b"".join(out))
os.close(fd)
print(seq)
