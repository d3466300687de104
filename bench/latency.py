#!/usr/bin/env python3
"""Start-latency helper for bench/start-latency.sh.

Spawns every process itself and measures with time.perf_counter_ns
(CLOCK_MONOTONIC on Linux).  One sample is "from just before the start
command is spawned until ssh-add -l on the new socket answers" (exit 0 or 1;
exit 2 means it could not reach an agent, so it is tried again at once).

  (a) agentd: `agentd start --ttl 10m --json` (daemon already running), then
      ssh-add -l on the printed socket; the session is stopped afterwards,
      outside the timed region.
  (b) bare:   `ssh-agent -D -a SOCK` in the background, then ssh-add -l on
      SOCK until it answers; the agent is then killed by pid and reaped,
      outside the timed region.

The first agentd start (which autostarts the daemon) is the cold start and is
reported on its own.  (a) and (b) alternate, so drift hits both alike.
Needs AGENTD_DIR in the environment; prints a summary and, with --json FILE,
writes the raw samples.
"""
import argparse, json, os, signal, statistics, subprocess, sys, time

def ns():
    return time.perf_counter_ns()

def ssh_add_until_answer(sock, deadline_s=10.0):
    """Runs ssh-add -l against sock until it returns 0 or 1. Returns the tries."""
    env = dict(os.environ, SSH_AUTH_SOCK=sock)
    tries = 0
    end = ns() + int(deadline_s * 1e9)
    while True:
        tries += 1
        rc = subprocess.run(["ssh-add", "-l"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        if rc in (0, 1):
            return tries
        if ns() > end:
            raise RuntimeError(f"ssh-add -l on {sock} still returns {rc} after {deadline_s}s")

def agentd_once(agentd):
    t0 = ns()
    p = subprocess.run([agentd, "start", "--ttl", "10m", "--json"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"agentd start failed ({p.returncode}): {p.stderr.strip()}")
    info = json.loads(p.stdout)
    tries = ssh_add_until_answer(info["socket"])
    t1 = ns()
    return t1 - t0, t1 - t0, tries, info["session"]

def agentd_stop(agentd, session):
    p = subprocess.run([agentd, "stop", "--session", session], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"agentd stop --session {session} failed: {p.stderr.strip()}")

BARE = []   # bare agents still running, killed on any exit

def bare_once(workdir, i):
    sock = os.path.join(workdir, f"bare-{i}.sock")
    t0 = ns()
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", sock], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    BARE.append(proc)
    tries = ssh_add_until_answer(sock)
    t1 = ns()
    proc.send_signal(signal.SIGTERM)
    proc.wait()
    BARE.remove(proc)
    try:
        os.unlink(sock)
    except FileNotFoundError:
        pass
    return t1 - t0, tries

def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    k = max(1, -(-len(s) * p // 100))
    return s[int(k) - 1]

def ms(v):
    return v / 1e6

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agentd", required=True)
    ap.add_argument("-n", type=int, default=50)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--json", dest="json_out")
    a = ap.parse_args()

    # Cold start: no daemon yet, this start autostarts it.
    pidfile = os.path.join(os.environ["AGENTD_DIR"], "run", "agentd.pid")
    if os.path.exists(pidfile) and os.path.getsize(pidfile) > 0:
        print("warning: a daemon pidfile already exists; cold start may not be cold", file=sys.stderr)
    cold, _, cold_tries, s = agentd_once(a.agentd)
    agentd_stop(a.agentd, s)

    ag, ag_tries, bare, bare_tries = [], [], [], []
    for i in range(a.n):
        d, _, t, s = agentd_once(a.agentd)
        agentd_stop(a.agentd, s)
        ag.append(d); ag_tries.append(t)
        d, t = bare_once(a.workdir, i)
        bare.append(d); bare_tries.append(t)

    med_a, med_b = statistics.median(ag), statistics.median(bare)
    rows = [("agentd start (warm)", ag, ag_tries), ("bare ssh-agent -D -a", bare, bare_tries)]
    print(f"start latency, N={a.n} each, ms (start spawned -> ssh-add -l answers)")
    print(f"  {'':22} {'median':>8} {'p90':>8} {'min':>8} {'max':>8} {'ssh-add tries (max)':>20}")
    for name, xs, tr in rows:
        print(f"  {name:22} {ms(statistics.median(xs)):8.2f} {ms(pct(xs, 90)):8.2f} "
              f"{ms(min(xs)):8.2f} {ms(max(xs)):8.2f} {max(tr):>20}")
    print(f"  cold start (autostarts the daemon): {ms(cold):.2f} ms (ssh-add tries: {cold_tries})")
    ratio = med_a / med_b
    print(f"  median ratio agentd/bare: {ratio:.2f} (target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'})")
    print(f"  cold/bare median: {cold / med_b:.2f}")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"n": a.n, "cold_ns": cold, "agentd_ns": ag, "bare_ns": bare,
                       "agentd_tries": ag_tries, "bare_tries": bare_tries,
                       "median_ratio": ratio}, f)

if __name__ == "__main__":
    try:
        main()
    finally:
        for p in BARE:
            p.kill()
            p.wait()
