#!/usr/bin/env python3
"""Generates a realistic agentd audit log (DESIGN §4) with a valid hash chain,
from a fixed seed, and optionally the answers ttl-evidence must give on it.

    bench/genlog.py [--lines N] [--seed S] [--start EPOCH] [--host NAME]
                    [--answers FILE] OUT

About 4 events per session (created, 1-2 key_loaded, 0-4 key_used, one end),
so 1,000,000 lines hold ~250,000 sessions. Sessions overlap (a Poisson stream
of starts, durations up to their TTL); the ones still open when N lines are
written stay open (orphaned: no daemon holds the file's lock). Times are kept
as integer microseconds, so the answers are exact."""
import argparse
import hashlib
import heapq
import json
import random

TTLS = [(900, 10), (1800, 15), (3600, 40), (7200, 15), (14400, 10), (28800, 6), (43200, 4)]
REASONS = [("requested", 70), ("ttl_expired", 18), ("supervisor_shutdown", 5),
           ("agent_exited", 3), ("agent_killed", 2), ("supervisor_lost", 2)]
LABELS = ["codex-openclaw", "claude-deploy", "ci-release", "alice", "bob",
          "ops-oncall", "backup-rotate", "agent-%d", "review-bot", "dependabot"]
KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"]
ZERO = "0" * 64


def ts(us):
    import datetime
    d = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000)


def pick(rng, table):
    total = sum(w for _, w in table)
    x = rng.uniform(0, total)
    for v, w in table:
        x -= w
        if x <= 0:
            return v
    return table[-1][0]


def nearest_rank(values, permille):
    if not values:
        return None
    values = sorted(values)
    rank = max(1, -(-len(values) * permille // 1000))
    return values[rank - 1]


def pcts(values):
    return {"sessions": len(values), "p50": nearest_rank(values, 500),
            "p90": nearest_rank(values, 900), "p99": nearest_rank(values, 990),
            "max": nearest_rank(values, 1000)}


def ceil_s(us):
    return max(0, -(-us // 1000000))


def session_events(rng, n, start, host=None):
    """The events of session n as (time_us, order, kind, fields) tuples."""
    sid = "%026x" % rng.getrandbits(104)
    sid = sid[:26]
    ttl = pick(rng, TTLS)
    reason = pick(rng, REASONS)
    label = rng.choice(LABELS)
    if "%d" in label:
        label = label % rng.randrange(40)
    if reason == "ttl_expired":
        end = start + ttl * 1000000 + rng.randrange(1000, 20000)
    else:
        end = start + rng.randrange(200000, ttl * 1000000)
    ev = []
    # The same draw with or without --host: a named host changes no other value.
    rhost = "build-%d" % rng.randrange(8)
    ev.append((start, 0, "created", {
        "label": label, "uid": 1000, "user": "dev", "host": host or rhost,
        "agent_pid": 10000 + n % 50000, "ttl_s": ttl, "key_ttl_s": ttl,
        "expires_at": ts(start + ttl * 1000000)[:19] + "Z",
        "socket": "/run/user/1000/agentd/sessions/%s/agent.sock" % sid,
        "agent_start": 123456 + n, "tether_pid": 9999 + n % 50000,
        "tether_start": 123456 + n, "boot_id": "32a901fd-521a-4f2f-9776-428eb7f59d3a"}))
    span = end - start
    nkeys = 1 if rng.random() < 0.7 else 2
    if rng.random() < 0.1:
        nkeys = 0
    t = start
    for k in range(nkeys):
        t = t + rng.randrange(100000, max(100001, span // 8))
        if t >= end:
            break
        fp = "SHA256:" + "%043x" % rng.getrandbits(172)
        ev.append((t, 1, "key_loaded", {
            "fingerprint": fp[:50], "key_type": rng.choice(KEY_TYPES),
            "lifetime_s": ttl, "confirm": False}))
        for u in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            t = t + rng.randrange(50000, max(50001, span // 6))
            if t >= end:
                break
            ev.append((t, 2, "key_used", {
                "fingerprint": fp[:50], "ok": rng.random() < 0.97,
                "dest_hostkey": "SHA256:" + "%043x" % rng.getrandbits(172),
                "forwarded": False, "client_pid": 20000 + rng.randrange(30000)}))
    endf = {"exit_reason": reason,
            "duration_s": (end - start + 500000) // 1000000}
    kind = "stopped"
    if reason == "agent_exited":
        kind = "crashed"
        endf.update({"exit_code": 2, "signal": None, "core_dumped": False})
    elif reason == "agent_killed":
        kind = "crashed"
        endf.update({"exit_code": None, "signal": 9, "core_dumped": False})
    elif reason == "supervisor_lost":
        kind = "crashed"
    ev.append((end, 3, kind, endf))
    return sid, ev


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--answers")
    ap.add_argument("--host", help="the host of every session (one machine's "
                    "log); default: build-0..build-7 at random")
    ap.add_argument("--start", type=int, default=1577836800,
                    help="first event, seconds since the epoch (2020-01-01)")
    ap.add_argument("out")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    heap = []
    nxt = a.start * 1000000
    n = 0
    seq = 0
    prev = ZERO
    sessions = {}
    ended = []
    first = last = None
    out = open(a.out, "wb", buffering=1 << 20)
    # Mean gap between starts: ~2 minutes, so a few dozen sessions overlap.
    while seq < a.lines:
        if not heap or nxt <= heap[0][0]:
            sid, evs = session_events(rng, n, nxt, a.host)
            n += 1
            sessions[sid] = {"created": nxt, "ttl": evs[0][3]["ttl_s"], "first_key": None,
                             "last_use": None}
            for t, o, kind, f in evs:
                heapq.heappush(heap, (t, n, o, sid, kind, f))
            nxt += int(rng.expovariate(1 / 120e6)) + 1
            continue
        t, _, _, sid, kind, f = heapq.heappop(heap)
        seq += 1
        obj = {"v": 1, "seq": seq, "ts": ts(t), "event": kind, "session": sid}
        obj.update(f)
        obj["prev"] = prev
        line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
        out.write(line + b"\n")
        prev = hashlib.blake2b(line, digest_size=32).hexdigest()
        first = t if first is None else first
        last = t
        s = sessions[sid]
        if kind == "key_loaded" and s["first_key"] is None:
            s["first_key"] = t
        elif kind == "key_used":
            s["last_use"] = t
        elif kind in ("stopped", "crashed"):
            s.update(reason=f["exit_reason"], duration=f["duration_s"])
            ended.append(sessions.pop(sid))
    out.close()
    if not a.answers:
        return
    reasons = {}
    for s in ended:
        reasons[s["reason"]] = reasons.get(s["reason"], 0) + 1
    window = (last - first) // 1000000
    ans = {
        "window": {"first_event_at": ts(first), "last_event_at": ts(last), "seconds": window},
        "sessions": {"ended": len(ended), "open": len(sessions)},
        "exit_reasons": reasons,
        "duration_s": pcts([s["duration"] for s in ended]),
        "ttl_s": pcts([s["ttl"] for s in ended]),
        "ran_into_ttl": {"sessions": reasons.get("ttl_expired", 0)},
        "created_to_first_key_s": pcts([ceil_s(s["first_key"] - s["created"])
                                        for s in ended if s["first_key"] is not None]),
        "created_to_last_key_use_s": pcts([ceil_s(s["last_use"] - s["created"])
                                           for s in ended if s["last_use"] is not None]),
    }
    uses = [ceil_s(s["last_use"] - s["created"]) for s in ended if s["last_use"] is not None]
    ans["ttl_covering_key_use_s"] = {"p95": nearest_rank(uses, 950), "p99": nearest_rank(uses, 990)}
    ans["evidence"] = {"sufficient": window >= 7 * 86400 and len(ended) >= 30}
    with open(a.answers, "w") as f:
        json.dump(ans, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
