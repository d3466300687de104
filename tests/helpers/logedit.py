#!/usr/bin/env python3
"""Edits a generated audit log (DESIGN §4) keeping its hash chain valid, as
the daemon or a forger with write access would.

  logedit.py rotate IN K OLD NEW   OLD: lines 1..K; NEW: a log_rotated line
                                   (seq K+1, prev = hash of line K), then the
                                   rest with seq + 1 and prev recomputed
  logedit.py fork IN N OUT         line N's label changed, every prev after it
                                   recomputed (an internally valid fork)
  logedit.py nohost IN OUT         the host field dropped from every line,
                                   chain recomputed
"""
import hashlib
import json
import sys


def h(line):
    return hashlib.blake2b(line, digest_size=32).hexdigest()


def dump(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def rechain(objs, prev):
    out = []
    for o in objs:
        o.pop("prev", None)
        o["prev"] = prev  # last, as the writer puts it
        line = dump(o)
        out.append(line)
        prev = h(line)
    return out


def main():
    op = sys.argv[1]
    lines = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
    if op == "rotate":
        k = int(sys.argv[3])
        old, rest = lines[:k], lines[k:]
        open(sys.argv[4], "wb").write(b"\n".join(old) + b"\n")
        last = json.loads(old[-1])
        rot = {"v": 1, "seq": last["seq"] + 1, "ts": last["ts"], "event": "log_rotated",
               "session": None, "open_sessions": []}
        objs = [rot]
        for l in rest:
            o = json.loads(l)
            o["seq"] += 1
            objs.append(o)
        out = rechain(objs, h(old[-1]))
        open(sys.argv[5], "wb").write(b"\n".join(out) + b"\n")
    elif op == "fork":
        n = int(sys.argv[3])
        objs = [json.loads(l) for l in lines]
        o = objs[n - 1]
        o["label"] = str(o.get("label")) + "-forged"
        prev = json.loads(lines[n - 1])["prev"]
        out = lines[:n - 1] + rechain(objs[n - 1:], prev)
        open(sys.argv[4], "wb").write(b"\n".join(out) + b"\n")
    elif op == "nohost":
        objs = [json.loads(l) for l in lines]
        for o in objs:
            o.pop("host", None)
        out = rechain(objs, "0" * 64)
        open(sys.argv[3], "wb").write(b"\n".join(out) + b"\n")
    else:
        sys.exit("usage: logedit.py rotate|fork|nohost ...")


if __name__ == "__main__":
    main()
