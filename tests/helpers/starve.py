#!/usr/bin/env python3
"""Clients that try to starve agentd (DESIGN §5: no client can starve the
daemon), and the probes that show it still serves everyone else.

Used by tests/it_starve_*.sh (one attack each) and by the `starve` scenario
of tests/torture/torture.py (all at once). As a program:

    starve.py ctl|relay|fdlimit|owed|ctlgrace      (env: AGENTD, AGENTD_DIR; see below)

runs one attack end to end, asserts, and prints its figures as one JSON
line on stdout. Exit 0 when every check held, 1 with a message otherwise.
"""
import json
import os
import resource
import select
import socket
import struct
import subprocess
import sys
import time

AGENTD = os.environ.get("AGENTD", "agentd")

# What the daemon promises (docs/PROTOCOL.md, "Timeouts").
REQUEST_TIMEOUT_S = 10	# a complete request, or the reply read, within this
MAX_CTLCONNS = 1024
MAX_RELAYS = 256
ANSWER_WITHIN_S = 1.0	# status and ssh-add -l under attack


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def raise_nofile(want):
    """Our own descriptor limit up to want (the hard limit allows 20000)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))


def connect_retry(s, path, limit=5.0):
    """connect, waiting while the listener's backlog is full (a unix connect
    fails with EAGAIN then instead of blocking on a socket with a timeout)."""
    end = time.monotonic() + limit
    while True:
        try:
            s.connect(path)
            return
        except BlockingIOError:
            if time.monotonic() > end:
                raise
            time.sleep(0.002)


class Flood:
    """Many connections to one unix socket that never finish a request.

    kinds: "idle" sends nothing, "half" sends half of a frame (the length
    says more is coming), "byte" sends 2 of the 4 length bytes. Each socket
    remembers when it was opened and when the daemon closed it."""

    def __init__(self, path, n, kinds=("idle",), payload=None, probe=0):
        """probe=K (agent sockets): after every K connections, one request
        on the last of them, so that ssh-agent has accepted all of them
        before more come (its listen backlog is 128: a larger burst would
        see the relay's upstream connect fail and the client refused)."""
        self.path = path
        self.socks = []
        self.opened = {}
        self.closed = {}	# fd -> seconds after it was opened
        self.refused = 0
        for i in range(n):
            kind = kinds[i % len(kinds)]
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            try:
                connect_retry(s, path)
                if kind == "half":
                    body = payload or b'{"cmd":"status"}'
                    s.sendall(struct.pack(">I", len(body)) + body[:len(body) // 2])
                elif kind == "byte":
                    s.sendall(b"\x00\x00")
            except OSError:
                # Connected and then dropped (cap) or refused: counted.
                self.refused += 1
                s.close()
                continue
            if probe and (i + 1) % probe == 0:
                try:
                    ask_identities(s)
                except OSError:
                    pass
            s.setblocking(False)
            self.socks.append(s)
            self.opened[s.fileno()] = time.monotonic()

    def poll_closed(self, timeout=0.0):
        """Notes every socket the daemon has closed; returns how many are open."""
        p = select.poll()
        live = [s for s in self.socks if s.fileno() not in self.closed]
        for s in live:
            p.register(s.fileno(), select.POLLIN)
        ready = p.poll(timeout * 1000)
        now = time.monotonic()
        for fd, ev in ready:
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data == b"" or ev & (select.POLLHUP | select.POLLERR):
                self.closed[fd] = now - self.opened[fd]
        return len([s for s in self.socks if s.fileno() not in self.closed])

    def wait_closed(self, k, limit):
        """Until the daemon has closed at least k (it accepts the whole
        backlog before the probes, so they come after the attack)."""
        end = time.monotonic() + limit
        while len(self.closed) < k:
            self.poll_closed(0.05)
            if time.monotonic() > end:
                return False
        return True

    def wait_all_closed(self, limit):
        end = time.monotonic() + limit
        while self.poll_closed(0.2) > 0:
            if time.monotonic() > end:
                return False
        return True

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


def ctl_roundtrip(path, obj, timeout=5.0):
    """One control request: (reply object or None, seconds)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(path)
        b = json.dumps(obj).encode()
        s.sendall(struct.pack(">I", len(b)) + b)
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
    except OSError:
        return None, time.monotonic() - t0
    finally:
        s.close()
    if len(data) < 4:
        return None, time.monotonic() - t0
    return json.loads(data[4:]), time.monotonic() - t0


def timed_status(env, want_session, limit=ANSWER_WITHIN_S):
    """`agentd status --json` lists want_session within limit s; its time."""
    t0 = time.monotonic()
    try:
        p = subprocess.run([AGENTD, "status", "--json"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=max(limit * 5, 5))
    except subprocess.TimeoutExpired:
        raise Fail("agentd status: no answer within %.0f s" % max(limit * 5, 5))
    dt = time.monotonic() - t0
    check(p.returncode == 0, "agentd status: exit %d: %s" %
          (p.returncode, p.stderr.decode(errors="replace").strip()))
    try:
        rows = json.loads(p.stdout or b"[]")
    except ValueError:
        raise Fail("agentd status: not JSON: %r" % p.stdout[:200])
    check(any(r.get("session") == want_session for r in rows),
          "agentd status does not list session %s (no answer from the "
          "daemon?): %r %r" % (want_session, p.stdout[:200], p.stderr[:200]))
    check(dt < limit, "agentd status took %.2f s (limit %.1f s)" % (dt, limit))
    return dt


def timed_ssh_add(sock, want_fp, limit=ANSWER_WITHIN_S * 5):
    """`ssh-add -l` on sock lists want_fp; its time."""
    env = dict(os.environ, SSH_AUTH_SOCK=sock)
    t0 = time.monotonic()
    try:
        p = subprocess.run(["ssh-add", "-l"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=limit)
    except subprocess.TimeoutExpired:
        raise Fail("ssh-add -l: no answer within %.0f s" % limit)
    dt = time.monotonic() - t0
    check(p.returncode == 0 and want_fp.encode() in p.stdout,
          "ssh-add -l: exit %d: %s %s" % (p.returncode,
                                          p.stdout.decode(errors="replace").strip(),
                                          p.stderr.decode(errors="replace").strip()))
    return dt


def identities(sock, timeout=5.0):
    """A raw REQUEST_IDENTITIES on a fresh connection: the answer's type."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        return ask_identities(s)
    finally:
        s.close()


def ask_identities(s):
    s.sendall(struct.pack(">IB", 1, 11))
    hdr = b""
    while len(hdr) < 5:
        c = s.recv(5 - len(hdr))
        if not c:
            return None
        hdr += c
    return hdr[4]


def proc_cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])	# utime + stime


def cpu_share(pid, secs):
    """Share of one CPU pid used over secs (from /proc/PID/stat)."""
    hz = os.sysconf("SC_CLK_TCK")
    t0, c0 = time.monotonic(), proc_cpu_ticks(pid)
    time.sleep(secs)
    t1, c1 = time.monotonic(), proc_cpu_ticks(pid)
    return (c1 - c0) / hz / (t1 - t0)


def fingerprint(pubfile):
    p = subprocess.run(["ssh-keygen", "-lf", pubfile], stdout=subprocess.PIPE,
                       check=True)
    return p.stdout.split()[1].decode()


def events(log):
    try:
        with open(log, "rb") as f:
            return [json.loads(l) for l in f.read().split(b"\n") if l]
    except FileNotFoundError:
        return []


def wait_for(cond, limit, what):
    """Until cond() is true: for things with no event to wait on (a log
    line, a directory), checked every 50 ms up to limit s."""
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            raise Fail(what)
        time.sleep(0.05)


class ResizeFlood:
    """A linked shell (`sleep`) whose client sends resize frames in a loop,
    as `agentd shell` does on every SIGWINCH, only without end. Speaks the
    control protocol itself: the shell request carries a PTY's slave as the
    client's terminal (stdin and stdout)."""

    def __init__(self, ctl_path, sid):
        import array
        import threading
        self.master, self.slave = os.openpty()
        self.sent = 0
        self.error = None
        self.stop = threading.Event()
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(ctl_path)
        req = json.dumps({"cmd": "shell", "session": sid,
                          "argv": ["sleep", "1000"], "cols": 80, "rows": 24,
                          "env": {"TERM": "xterm"}}).encode()
        self.s.sendmsg([struct.pack(">I", len(req))],
                       [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                         array.array("i", [self.slave, self.slave]))])
        self.s.sendall(req)
        reply = recv_frame(self.s)
        check(reply is not None and reply.get("ok"),
              f"shell for the resize flood refused: {reply!r}")
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        frames = [json.dumps({"cmd": "resize", "cols": c, "rows": 24}).encode()
                  for c in (81, 80)]
        batch = b"".join(struct.pack(">I", len(f)) + f for f in frames) * 32
        try:
            while not self.stop.is_set():
                self.s.sendall(batch)	# 81x24, 80x24, … (each a change)
                self.sent += 64
        except OSError as e:
            if not self.stop.is_set():
                self.error = e

    def end(self):
        """Stops the flood and hangs up: the daemon ends the shell."""
        self.stop.set()
        self.s.shutdown(socket.SHUT_RDWR)
        self.t.join(10)
        self.s.close()
        os.close(self.master)
        os.close(self.slave)


def recv_frame(s):
    data = b""
    while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
        c = s.recv(65536)
        if not c:
            return None
        data += c
    n = struct.unpack(">I", data[:4])[0]
    return json.loads(data[4:4 + n])


# --- the three attacks ------------------------------------------------------

class Env:
    def __init__(self):
        self.dir = os.environ["AGENTD_DIR"]
        self.run = os.path.join(self.dir, "run")
        self.log = os.path.join(self.dir, "audit.jsonl")
        self.env = dict(os.environ)
        self.ctl = os.path.join(self.run, "control.sock")

    def agentd(self, *args, check_rc=0):
        p = subprocess.run([AGENTD] + list(args), env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=60)
        check(check_rc is None or p.returncode == check_rc,
              "agentd %s: exit %d: %s" % (" ".join(args), p.returncode,
                                          p.stderr.decode(errors="replace").strip()))
        return p

    def start(self, ttl="10m", label="s"):
        p = self.agentd("start", "--json", "--ttl", ttl, "--label", label)
        return json.loads(p.stdout)["session"]

    def sock(self, sid):
        return os.path.join(self.run, "sessions", sid, "agent.sock")

    def daemon_pid(self):
        with open(os.path.join(self.run, "agentd.pid")) as f:
            return int(f.read().strip())


def attack_ctl(e, key):
    """1,100 control connections that send nothing, 2 bytes or half a frame."""
    raise_nofile(4096)
    sid = e.start(label="ctl")
    e.agentd("add", "--session", sid, key)
    fp = fingerprint(key + ".pub")
    n = MAX_CTLCONNS + 76
    fl = Flood(e.ctl, n, kinds=("idle", "half", "byte"))
    t_open = time.monotonic()
    fig = {"attack_conns": n, "refused_at_connect": fl.refused}
    fl.wait_closed(n - MAX_CTLCONNS - fl.refused, 5)
    fig["status_s"] = timed_status(e.env, sid)
    fig["ssh_add_s"] = timed_ssh_add(e.sock(sid), fp)
    r, dt = ctl_roundtrip(e.ctl, {"cmd": "status"})
    check(r is not None and r.get("ok"), "raw status got no answer")
    # 40 clients at once (the issue saw 6 of 40 die of SIGPIPE): all heard.
    ps = [subprocess.Popen([AGENTD, "status", "--json"], env=e.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL) for _ in range(40)]
    bad = []
    for p in ps:
        out, err = p.communicate(timeout=30)
        if p.returncode != 0 or sid.encode() not in out:
            bad.append((p.returncode, err.decode(errors="replace").strip()))
    check(not bad, f"{len(bad)} of 40 concurrent status clients failed: {bad[:3]}")
    check(time.monotonic() - t_open < REQUEST_TIMEOUT_S - 1,
          "the checks ran too late: the attack had timed out already")
    fig["raw_status_s"] = dt
    # Only what was evicted at the cap is gone before its timeout.
    fl.poll_closed()
    early = len(fl.closed)
    check(early <= n - MAX_CTLCONNS + 2 + 40 + 4,	# + our own clients
          f"{early} idle connections closed before their timeout")
    # The rest time out: not before REQUEST_TIMEOUT_S, all of them after.
    check(fl.wait_all_closed(REQUEST_TIMEOUT_S + 20),
          "%d of %d idle control connections still open %d s later" %
          (fl.poll_closed(), len(fl.socks), REQUEST_TIMEOUT_S + 20))
    late = sorted(v for v in fl.closed.values())
    fig["evicted_early"] = early
    fig["timed_out_after_s"] = [round(late[early], 1), round(late[-1], 1)]
    check(late[early] >= REQUEST_TIMEOUT_S - 0.5,
          "an idle control connection was closed after %.1f s" % late[early])
    fl.close()
    fig["status_after_s"] = timed_status(e.env, sid)
    return fig


def attack_relay(e, key):
    """256 idle connections (plus 8 half-sent) on a session's agent socket."""
    raise_nofile(4096)
    sid = e.start(label="relay")
    e.agentd("add", "--session", sid, key)
    fp = fingerprint(key + ".pub")
    sock = e.sock(sid)
    half = Flood(sock, 8, kinds=("half",), payload=b"\x0b" + b"\x00" * 40)
    idle = Flood(sock, MAX_RELAYS, kinds=("idle",), probe=64)
    t_open = time.monotonic()
    fig = {"attack_conns": len(half.socks) + len(idle.socks)}
    end = time.monotonic() + 5
    while len(half.closed) + len(idle.closed) < 8 and time.monotonic() < end:
        half.poll_closed(0.02)
        idle.poll_closed(0.02)
    fig["ssh_add_s"] = timed_ssh_add(sock, fp)
    fig["status_s"] = timed_status(e.env, sid)
    check(time.monotonic() - t_open < REQUEST_TIMEOUT_S - 1,
          "the checks ran too late: the half-sent connections timed out already")
    # The cap evicts half-sent connections first, then the oldest idle one.
    half.poll_closed()
    idle.poll_closed()
    fig["evicted_half"] = len(half.closed)
    fig["evicted_idle"] = len(idle.closed)
    check(len(half.closed) == len(half.socks),
          "the cap evicted %d of %d half-sent connections first (and "
          "idle ones %s)" % (len(half.closed), len(half.socks),
                             [i for i, x in enumerate(idle.socks)
                              if x.fileno() in idle.closed]))
    check(0 in [i for i, s in enumerate(idle.socks)
                if s.fileno() in idle.closed] or len(idle.closed) == 0,
          "the cap evicted an idle connection but not the oldest")
    # Half-sent ones time out; idle ones stay (an ssh session may keep its
    # agent connection for hours). Below the cap, four more half-sent ones
    # are left alone until their timeout.
    for x in idle.socks[-8:]:
        x.close()
    idle.socks = idle.socks[:-8]
    late = Flood(sock, 4, kinds=("half",), payload=b"\x0b" + b"\x00" * 40)
    check(late.wait_all_closed(REQUEST_TIMEOUT_S + 15),
          "half-sent agent connections still open after %d s" %
          (REQUEST_TIMEOUT_S + 15))
    fig["half_closed_after_s"] = [round(min(late.closed.values()), 1),
                                  round(max(late.closed.values()), 1)]
    check(min(late.closed.values()) >= REQUEST_TIMEOUT_S - 0.5,
          "a half-sent agent connection was closed after %.1f s" %
          min(late.closed.values()))
    idle.poll_closed()
    fig["idle_closed"] = len(idle.closed)
    check(len(idle.closed) <= 6,
          f"{len(idle.closed)} idle agent connections were closed")
    newest = idle.socks[-1]
    newest.setblocking(True)
    newest.settimeout(5)
    check(ask_identities(newest) == 12,
          "an idle agent connection no longer answers")
    half.close()
    late.close()
    idle.close()
    fig["ssh_add_after_s"] = timed_ssh_add(sock, fp)
    return fig


def attack_fdlimit(e, key):
    """The daemon at its descriptor limit (it runs under prlimit --nofile=100):
    120 idle relay clients, while a session's TTL runs out."""
    sid = e.start(label="fd")
    e.agentd("add", "--session", sid, key)
    fp = fingerprint(key + ".pub")
    short = e.start(ttl="6", label="expires")
    pid = e.daemon_pid()
    sock = e.sock(sid)
    fl = Flood(sock, 120, kinds=("idle",), probe=60)
    # A few control connections too: whatever descriptor is left, they take
    # it, so the daemon is at the limit exactly, not one short.
    ctl = Flood(e.ctl, 4, kinds=("idle",))
    t_open = time.monotonic()
    fig = {"attack_conns": 124, "refused_at_connect": fl.refused + ctl.refused}
    fig["status_s"] = timed_status(e.env, sid)
    fig["ssh_add_s"] = timed_ssh_add(sock, fp)
    fig["cpu"] = round(cpu_share(pid, 3.0), 3)
    check(fig["cpu"] < 0.5, "the daemon uses %.0f %% of a CPU at its "
          "descriptor limit" % (fig["cpu"] * 100))
    # The short session expires meanwhile: logged, and its directory gone.
    wait_for(lambda: any(x["event"] == "stopped" and x.get("session") == short
                         and x.get("exit_reason") == "ttl_expired"
                         for x in events(e.log)), 30,
             "the expiring session has no stopped/ttl_expired event")
    d = os.path.join(e.run, "sessions", short)
    wait_for(lambda: not os.path.exists(d), 10,
             f"the expired session's directory {d} is left behind")
    check(time.monotonic() - t_open < 60, "slow")
    fig["status_after_expiry_s"] = timed_status(e.env, sid)
    fig["ssh_add_after_expiry_s"] = timed_ssh_add(sock, fp)
    with open(os.path.join(e.dir, "agentd.log"), errors="replace") as f:
        warns = [l for l in f if "descriptor" in l]
    check(len(warns) == 1, "agentd.log has %d descriptor warnings, want 1: %r"
          % (len(warns), warns[:3]))
    fl.close()
    ctl.close()
    return fig


def big_comment_add(keyfile, comment_len):
    """An ADD_IDENTITY frame for the unencrypted ed25519 keyfile with a
    comment of comment_len bytes (too long for ssh-keygen -C): every
    REQUEST_IDENTITIES answer is then that big."""
    import base64
    lines = open(keyfile).read().strip().splitlines()
    raw = base64.b64decode("".join(lines[1:-1]))
    magic = b"openssh-key-v1\0"
    check(raw.startswith(magic), "not an openssh key")
    off = len(magic)

    def string(b, o):
        n = struct.unpack(">I", b[o:o + 4])[0]
        return b[o + 4:o + 4 + n], o + 4 + n
    cipher, off = string(raw, off)
    check(cipher == b"none", "the key is encrypted")
    _, off = string(raw, off)	# kdf
    _, off = string(raw, off)	# kdf options
    off += 4			# number of keys
    _, off = string(raw, off)	# public key
    priv, _ = string(raw, off)
    o = 8			# two check ints
    ktype, o = string(priv, o)
    pub, o = string(priv, o)
    sec, o = string(priv, o)

    def s(b):
        return struct.pack(">I", len(b)) + b
    body = b"\x11" + s(ktype) + s(pub) + s(sec) + s(b"c" * comment_len)
    return struct.pack(">I", len(body)) + body


def sign_request(pubfile):
    import base64
    blob = base64.b64decode(open(pubfile).read().split()[1])

    def s(b):
        return struct.pack(">I", len(b)) + b
    body = b"\x0d" + s(blob) + s(b"data") + struct.pack(">I", 0)
    return struct.pack(">I", len(body)) + body


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])
    return 0


def sanitized(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def attack_owed(e, key):
    """Clients that send requests ahead and never read the replies, with
    240 KB identity answers (the relay stops reading the agent for a client
    past OUT_HIGH): 3 rounds of 150 clients x 8 REQUEST_IDENTITIES, 5 s
    apart. They are stalled: dropped after the stall timeout or evicted at
    the cap, so ssh-add -l and status keep working, memory stays bounded,
    and a signature the agent gives after its client was dropped is still
    logged."""
    raise_nofile(4096)
    sid = e.start(label="owed")
    e.agentd("add", "--session", sid, key)
    fp = fingerprint(key + ".pub")
    sock = e.sock(sid)
    pid = e.daemon_pid()
    big = key + "_big"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", big],
                   check=True, stdin=subprocess.DEVNULL)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(big_comment_add(big, 240000))
    check(s.recv(5)[4:5] == b"\x06", "the big-comment key was not added")
    s.close()
    lists = struct.pack(">IB", 1, 11) * 8
    signer_pid = None
    socks = []
    fig = {"rounds": 3, "clients_per_round": 150}
    t0 = time.monotonic()
    for rnd in range(3):
        for i in range(150):
            c = socket.socket(socket.AF_UNIX)
            c.settimeout(5)
            try:
                connect_retry(c, sock)
                c.sendall(lists)
                if rnd == 0 and i == 0:
                    c.sendall(sign_request(key + ".pub"))
                    signer = c
            except OSError:
                c.close()
                continue
            c.setblocking(False)
            socks.append(c)
            if (i + 1) % 50 == 0:
                try:
                    identities(sock)	# ssh-agent has accepted them all
                except OSError:
                    pass
        if rnd < 2:
            time.sleep(max(0, t0 + 5 * (rnd + 1) - time.monotonic()))
    # The first round is past its stall timeout, the others are not.
    fig["status_s"] = timed_status(e.env, sid)
    fig["ssh_add_s"] = timed_ssh_add(sock, fp)
    fig["rss_kb"] = rss_kb(pid)
    fig["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    if not sanitized(pid):
        check(fig["rss_kb"] < 100 * 1024, "the daemon's RSS is %d MB with "
              "clients that do not read" % (fig["rss_kb"] // 1024))
    # The signer was dropped with a signature owed: still logged, with its
    # pid, while it is still connected (it never reads).
    me = os.getpid()
    wait_for(lambda: any(x["event"] == "key_used" and
                         x.get("client_pid") == me for x in events(e.log)),
             REQUEST_TIMEOUT_S + 30,
             "no key_used for the signature owed to a dropped client")
    # Every one of them is closed by the daemon, not only at the cap.
    end = time.monotonic() + REQUEST_TIMEOUT_S + 30
    p = select.poll()
    for c in socks:
        p.register(c.fileno(), select.POLLRDHUP if hasattr(select, "POLLRDHUP") else select.POLLHUP)
    hung = set()
    while len(hung) < len(socks) and time.monotonic() < end:
        for fd, ev in p.poll(200):
            if ev & (select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)):
                hung.add(fd)
                p.unregister(fd)
    check(len(hung) == len(socks), "%d of %d clients that do not read are "
          "still open %d s later" % (len(socks) - len(hung), len(socks),
                                      REQUEST_TIMEOUT_S + 30))
    fig["rss_after_kb"] = rss_kb(pid)
    wait_for(lambda: len(os.listdir(f"/proc/{pid}/fd")) < 60, 20,
             "the daemon still holds %d descriptors" %
             len(os.listdir(f"/proc/{pid}/fd")))
    fig["fds_after"] = len(os.listdir(f"/proc/{pid}/fd"))
    fig["ssh_add_after_s"] = timed_ssh_add(sock, fp)
    for c in socks:
        c.close()
    return fig


def attack_ctlgrace(e, key):
    """At the descriptor limit (prlimit --nofile=100) with 120 idle relay
    clients and nothing else on the control socket: every `agentd status`
    is answered (the control connection just accepted must not be the one
    closed to make room for a relay client)."""
    sid = e.start(label="A")
    e.agentd("add", "--session", sid, key)
    fp = fingerprint(key + ".pub")
    # The limit for the daemon only (its session's ssh-agent keeps its own).
    subprocess.run(["prlimit", "--pid", str(e.daemon_pid()),
                    "--nofile=100:100"], check=True)
    subprocess.run([AGENTD, "shell", "-T", "--session", sid, "--", "true"],
                   env=e.env, input=b"\n", stdout=subprocess.DEVNULL,
                   timeout=60, check=True)
    e.start(ttl="15s", label="short")
    sock = e.sock(sid)
    # All at once, no pause: the daemon is still accepting them (and
    # making room) when the status clients come.
    fl = Flood(sock, 120, kinds=("idle",))
    fig = {"attack_conns": 120, "refused_at_connect": fl.refused}
    bad = []
    for i in range(10):
        p = subprocess.run([AGENTD, "status", "--json"], env=e.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30)
        if p.returncode != 0 or sid.encode() not in p.stdout:
            bad.append((p.returncode, p.stderr.decode(errors="replace").strip()))
    check(not bad, f"{len(bad)} of 10 status at the descriptor limit "
          f"failed: {bad[:2]}")
    fig["status_s"] = timed_status(e.env, sid)
    fig["ssh_add_s"] = timed_ssh_add(sock, fp)
    fl.close()
    return fig


def main():
    what = sys.argv[1]
    key = sys.argv[2]
    e = Env()
    try:
        fig = {"ctl": attack_ctl, "relay": attack_relay,
               "fdlimit": attack_fdlimit, "owed": attack_owed,
               "ctlgrace": attack_ctlgrace}[what](e, key)
    except Fail as x:
        print("FAIL: " + str(x), file=sys.stderr)
        return 1
    print(json.dumps(fig))
    return 0


if __name__ == "__main__":
    sys.exit(main())
