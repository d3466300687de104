#!/usr/bin/env python3
"""Relay latency helper for bench/relay-latency.sh.

One session, one ed25519 key. N times each, alternating so drift hits both
alike: `ssh-add -l` and `ssh-keygen -Y sign` (the agent signs) against the
session's public socket (agentd's auditing relay, which also fsyncs a
key_used event per signature) and against the upstream ssh-agent socket
directly. Times with perf_counter_ns from spawn to exit; prints medians, p90
and the relay/direct median ratios (target: <= 1.10)."""
import argparse, os, statistics, subprocess, sys, time

def run(argv, sock):
    env = dict(os.environ, SSH_AUTH_SOCK=sock)
    t0 = time.perf_counter_ns()
    rc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    dt = time.perf_counter_ns() - t0
    if rc != 0:
        sys.exit(f"{' '.join(argv)} on {sock} failed with {rc}")
    return dt / 1e6

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]

ap = argparse.ArgumentParser()
ap.add_argument("--relay", required=True)
ap.add_argument("--upstream", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--msg", required=True)
ap.add_argument("-n", type=int, default=2000)
a = ap.parse_args()

cases = {
    "ssh-add -l": ["ssh-add", "-l"],
    "sign": ["ssh-keygen", "-Y", "sign", "-f", a.key + ".pub", "-n", "file", a.msg],
}
res = {}
for name, argv in cases.items():
    r, d = [], []
    for i in range(a.n):
        if name == "sign":
            for p in (a.msg + ".sig",):
                if os.path.exists(p):
                    os.unlink(p)
        if i % 2 == 0:
            r.append(run(argv, a.relay))
            if name == "sign": os.unlink(a.msg + ".sig")
            d.append(run(argv, a.upstream))
        else:
            d.append(run(argv, a.upstream))
            if name == "sign": os.unlink(a.msg + ".sig")
            r.append(run(argv, a.relay))
    res[name] = (r, d)

print(f"{'operation':<12} {'relay median':>13} {'p90':>8} {'direct median':>14} {'p90':>8} {'ratio':>6}")
for name, (r, d) in res.items():
    mr, md = statistics.median(r), statistics.median(d)
    print(f"{name:<12} {mr:>10.2f} ms {pct(r, 90):>5.2f} ms {md:>11.2f} ms "
          f"{pct(d, 90):>5.2f} ms {mr / md:>6.3f}")
