#!/usr/bin/env python3
"""Approval latency helper for bench/approval-latency.sh.

Speaks the agent protocol itself (one connection per sample, like ssh) so
that process start-up does not drown the difference. Three sockets of three
sessions, each holding the same ed25519 key:
  plain   - no approval: SIGN -> response
  held    - --approve sign; the bench decides: SIGN, then `approvals --wait`
            over the control socket gives the id, then `decide approve`;
            "after decision" is from sending the decide to the signature
  remem   - --approve sign, one `approve --for` done first: every later
            signature is decided "remembered" inside the daemon
Alternating, N samples each; prints medians/p90 and the differences to plain.
Target (issue 12): an approved signature costs the decision + <= 1 ms."""
import argparse, json, os, socket, statistics, struct, time

def frame(b):
    return struct.pack(">I", len(b)) + b

def sstr(b):
    return struct.pack(">I", len(b)) + b

def recv_frame(s):
    h = b""
    while len(h) < 4:
        c = s.recv(4 - len(h))
        if not c: raise SystemExit("agent closed")
        h += c
    n = struct.unpack(">I", h)[0]
    d = b""
    while len(d) < n:
        c = s.recv(n - len(d))
        if not c: raise SystemExit("agent closed")
        d += c
    return d

def key_blob(sock):
    s = socket.socket(socket.AF_UNIX); s.connect(sock)
    s.sendall(frame(b"\x0b"))
    d = recv_frame(s); s.close()
    assert d[0] == 12, d[0]
    n = struct.unpack(">I", d[5:9])[0]
    return d[9:9 + n]

def ctl(path, req):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    b = json.dumps(req).encode(); s.sendall(frame(b))
    r = recv_frame(s); s.close()
    return json.loads(r)

ap = argparse.ArgumentParser()
ap.add_argument("--plain", required=True)
ap.add_argument("--held", required=True)
ap.add_argument("--remem", required=True)
ap.add_argument("--control", required=True)
ap.add_argument("-n", type=int, default=300)
a = ap.parse_args()

blob = key_blob(a.plain)
sign = frame(b"\x0d" + sstr(blob) + sstr(b"bench payload") + struct.pack(">I", 0))

def sign_on(path, decide=False):
    s = socket.socket(socket.AF_UNIX); s.connect(path)
    t0 = time.perf_counter_ns()
    s.sendall(sign)
    td = None
    if decide:
        lst = ctl(a.control, {"cmd": "approvals", "wait": True})
        rid = lst["approvals"][0]["id"]
        td = time.perf_counter_ns()
        r = ctl(a.control, {"cmd": "decide", "id": rid, "decision": "approve"})
        assert r.get("ok"), r
    d = recv_frame(s)
    t1 = time.perf_counter_ns()
    s.close()
    assert d[0] == 14, f"no signature: type {d[0]}"
    return (t1 - t0) / 1e6, (t1 - td) / 1e6 if td else None

# Remember once for the remem session (caller exe: this python).
s = socket.socket(socket.AF_UNIX); s.connect(a.remem); s.sendall(sign)
rid = ctl(a.control, {"cmd": "approvals", "wait": True})["approvals"][0]["id"]
ctl(a.control, {"cmd": "decide", "id": rid, "decision": "approve", "for_s": 7200})
assert recv_frame(s)[0] == 14; s.close()

plain, remem, held_total, held_after = [], [], [], []
for i in range(a.n):
    plain.append(sign_on(a.plain)[0])
    remem.append(sign_on(a.remem)[0])
    t, after = sign_on(a.held, decide=True)
    held_total.append(t); held_after.append(after)

def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

mp = statistics.median(plain)
print(f"{'case':<34} {'median':>9} {'p90':>9} {'- plain':>9}")
for name, v in (("plain signature", plain),
                ("remembered (decided in-daemon)", remem),
                ("held: decide sent -> signature", held_after),
                ("held: whole (incl. list + decide)", held_total)):
    print(f"{name:<34} {statistics.median(v):>6.3f} ms {pct(v, 90):>6.3f} ms "
          f"{statistics.median(v) - mp:>+6.3f} ms")
