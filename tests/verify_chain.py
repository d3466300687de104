#!/usr/bin/env python3
"""Checks an agentd audit log the slow, obvious way: every line is a JSON
object, seq runs 1..n without gaps, fields start v, seq, ts, event, session
and end with prev, and prev is BLAKE2b-256 of the previous line's bytes."""
import hashlib
import json
import sys

prev = "0" * 64
with open(sys.argv[1], "rb") as f:
    data = f.read()
if data and not data.endswith(b"\n"):
    sys.exit("last line is torn")
for n, line in enumerate(data.split(b"\n")[:-1], 1):
    obj = json.loads(line)
    keys = list(obj)
    if keys[:5] != ["v", "seq", "ts", "event", "session"] or keys[-1] != "prev":
        sys.exit(f"line {n}: field order {keys}")
    if obj["v"] != 1 or obj["seq"] != n:
        sys.exit(f"line {n}: v/seq {obj['v']}/{obj['seq']}")
    if obj["prev"] != prev:
        sys.exit(f"line {n}: prev mismatch")
    prev = hashlib.blake2b(line, digest_size=32).hexdigest()
print(f"chain ok: {n if data else 0} lines")
