#!/usr/bin/env python3
"""agentd torture: seeded, randomised faults, races and hostile input.

    torture.py [--seed N] [--quick] [--kills N] [--report FILE] [SCENARIO...]

Every scenario runs the real agentd/ssh-agent/ssh-add under its own private
AGENTD_DIR, checks the invariants of DESIGN §3/§4 after each fault, scans
every file under AGENTD_DIR and every byte the clients printed for secrets,
and ends every process it started, by pid. --quick is the bounded subset that
`make check` runs; the default is `make torture`'s long run, whose figures go
to --report (docs/RELIABILITY.md). Exit 0 when every scenario passed.
"""
import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

AGENTD = os.environ.get("AGENTD", "build/bin/agentd")
AUDITCTL = os.environ.get("AUDITCTL", "build/bin/auditctl")
HERE = os.path.dirname(os.path.abspath(__file__))

PASSPHRASE = "torture-passphrase-Zq81xW"
LOCKPASS = "torture-lockpass-Hj27vP"


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


# --- processes ------------------------------------------------------------

def proc_start(pid):
    """Start time (field 22) of a live, non-zombie pid, else None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[19])


def alive_as(pid, start):
    return pid and pid > 1 and proc_start(pid) is not None and \
        (start is None or proc_start(pid) == start)


def kill_if(pid, start, sig=signal.SIGKILL):
    if alive_as(pid, start):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def cmdline(pid, depth=1):
    """pid's command line, state and (for a diagnosis) its parent's."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            c = f.read().replace(bytes(1), b" ").decode(errors="replace").strip()
        with open(f"/proc/{pid}/stat") as f:
            st = f.read()
        rest = st[st.rindex(")") + 2:].split()
        c += f" [state {rest[0]}, ppid {rest[1]}]"
        if depth > 0:
            c += " <- " + cmdline(int(rest[1]), depth - 1)
        return c
    except (OSError, ValueError):
        return "?"


def procs_mentioning(text):
    """Pids whose cmdline or environment mentions text (not us)."""
    out = []
    me = os.getpid()
    needle = text.encode()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{d}/{part}", "rb") as f:
                    if needle in f.read():
                        if proc_start(int(d)) is not None:
                            out.append(int(d))
                        break
            except OSError:
                pass
    return out


def proc_mentions(pid, text):
    """Whether pid's cmdline or environment mentions text."""
    needle = text.encode()
    for part in ("cmdline", "environ"):
        try:
            with open(f"/proc/{pid}/{part}", "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            pass
    return False


def procs_holding_pipe(p):
    """Who else holds the pipes of Popen p (for a diagnosis)."""
    want = set()
    for f in (p.stdout, p.stderr):
        if f is not None:
            try:
                want.add(os.readlink(f"/proc/self/fd/{f.fileno()}"))
            except OSError:
                pass
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                if os.readlink(f"/proc/{d}/fd/{fd}") in want:
                    with open(f"/proc/{d}/cmdline", "rb") as c:
                        cmd = c.read().replace(bytes(1), b" ").decode()
                    out.append(f"{d} {cmd}")
                    break
        except OSError:
            pass
    return out


# --- one private AGENTD_DIR -----------------------------------------------

class Ctx:
    """A private AGENTD_DIR, the transcript of every client, cleanup by pid."""

    def __init__(self, name, secrets):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="agentd-tt.")
        self.work = tempfile.mkdtemp(prefix="agentd-ttw.")
        self.log = os.path.join(self.dir, "audit.jsonl")
        self.run_dir = os.path.join(self.dir, "run")
        self.env = dict(os.environ)
        for k in ("AGENTD_SESSION", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR",
                  "XDG_STATE_HOME", "DISPLAY"):
            self.env.pop(k, None)
        self.env["AGENTD_DIR"] = self.dir
        self.env["SSH_ASKPASS"] = os.path.join(self.work, "askpass")
        self.env["SSH_ASKPASS_REQUIRE"] = "force"
        with open(self.env["SSH_ASKPASS"], "w") as f:
            f.write("#!/bin/sh\ncase \"$1\" in *\"lock password\"*|Again*) "
                    f"echo {LOCKPASS};; *) echo {PASSPHRASE};; esac\n")
        os.chmod(self.env["SSH_ASKPASS"], 0o700)
        self.transcript = []	# (what, bytes) of every client output
        self.children = []	# Popen objects we started
        self.secrets = secrets
        self.keys = secrets.copy_keys(self.work)
        self.daemon_pids = []
        self.torn_warnings_seen = 0

    # clients
    def run(self, *args, timeout=30, env=None, input=None, check_rc=None):
        e = self.env if env is None else env
        p = subprocess.run(list(args), env=e, input=input, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=None if input is not None else subprocess.DEVNULL)
        self.transcript.append((" ".join(args), p.stdout + p.stderr))
        if check_rc is not None and p.returncode != check_rc:
            raise Fail(f"{' '.join(args)}: exit {p.returncode}, want {check_rc}: "
                       f"{p.stderr.decode(errors='replace').strip()}")
        return p

    def agentd(self, *args, **kw):
        return self.run(AGENTD, *args, **kw)

    def spawn(self, *args):
        p = subprocess.Popen(list(args), env=self.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.children.append(p)
        return p

    def reap(self, p, timeout=30):
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            try:
                out, err = p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                raise Fail(f"{' '.join(p.args)}: hangs; its output is held "
                           f"open by {procs_holding_pipe(p)}")
        self.transcript.append((" ".join(p.args), out + err))
        return p.returncode, out, err

    def start(self, ttl="1h", label="t"):
        p = self.agentd("start", "--json", "--ttl", ttl, "--label", label)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)["session"]

    def daemon_pid(self):
        try:
            with open(os.path.join(self.run_dir, "agentd.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def serve(self):
        self.agentd("serve", check_rc=0)
        self.daemon_pids.append(self.daemon_pid())

    def kill_daemon(self, sig=signal.SIGKILL):
        pid = self.daemon_pid()
        if pid and proc_start(pid) is not None:
            os.kill(pid, sig)
            self.wait_daemon_gone()
        return pid

    def wait_daemon_gone(self, secs=20):
        """Until the pidfile lock is free (never creating the file: its
        directory may be a symlink a test swapped in)."""
        import fcntl
        path = os.path.join(self.run_dir, "agentd.pid")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return
        try:
            end = time.monotonic() + secs
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > end:
                        return
                    time.sleep(0.01)
        finally:
            os.close(fd)

    def stop_daemon(self):
        self.kill_daemon(signal.SIGTERM)

    # the log
    def events(self):
        try:
            with open(self.log, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return [json.loads(l) for l in data.split(b"\n") if l]

    def spares(self):
        """Ids of the agents the daemon started ahead for the next start (not
        sessions: no events, but processes and a directory of ours)."""
        try:
            r = ctl_request(os.path.join(self.run_dir, "control.sock"),
                            ctl_msg({"cmd": "status"}), timeout=2.0)
        except OSError:
            return []
        if not isinstance(r, dict) or not r.get("ok"):
            return []
        return [x["session"] for x in r.get("spares", [])]

    def status(self):
        p = self.agentd("status", "--json")
        check(p.returncode == 0, f"status failed: {p.stderr!r}")
        return json.loads(p.stdout or b"[]")

    def verify(self, *files):
        args = [AUDITCTL, "verify"] + list(files) if files else \
            [AUDITCTL, "--log", self.log, "verify"]
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(p.returncode == 0, "auditctl verify: " +
              (p.stdout + p.stderr).decode(errors="replace").strip())
        with open(self.log, "rb") as f:
            data = f.read()
        check(data == b"" or data.endswith(b"\n"), "log ends in a torn line")

    def session_pids(self, evs=None):
        """(pid, start) of every agent, tether and shell the log names, by session."""
        out = {}
        for e in evs if evs is not None else self.events():
            sid = e.get("session")
            if e["event"] == "created":
                out.setdefault(sid, []).extend([
                    (e.get("agent_pid"), e.get("agent_start")),
                    (e.get("tether_pid"), e.get("tether_start"))])
            elif e["event"] == "shell_started" and e.get("pid"):
                out.setdefault(sid, []).append((e["pid"], None))
        return out

    def wait_dead(self, sids, since, limit=15.0, scan=True):
        """Every process of the sessions sids gone within limit s of since."""
        pids = self.session_pids()
        worst = 0.0
        for sid in sids:
            for pid, start in pids.get(sid, []):
                while alive_as(pid, start):
                    if time.monotonic() - since > limit:
                        raise Fail(f"pid {pid} ({cmdline(pid)}) of dead session "
                                   f"{sid} outlived the fault by {limit:.0f} s")
                    time.sleep(0.02)
        # Anything else still pointing into our directory (a shell whose
        # shell_started never made it to the log, say).
        while scan:
            spares = ["/sessions/%s/" % x for x in self.spares()]
            left = [p for p in procs_mentioning(self.dir)
                    if p not in self.daemon_pids and p != self.daemon_pid()
                    and not any(proc_mentions(p, x) for x in spares)]
            if not left:
                break
            if time.monotonic() - since > limit:
                raise Fail(f"processes {[(p, cmdline(p)) for p in left]} still use {self.dir} "
                           f"{limit:.0f} s after the fault")
            time.sleep(0.05)
        worst = max(worst, time.monotonic() - since)
        return worst

    def pairing(self, active=()):
        """Every created has one end (none while active); no end without created."""
        created, ends = {}, {}
        for e in self.events():
            if e["event"] == "created":
                created[e["session"]] = created.get(e["session"], 0) + 1
            elif e["event"] in ("stopped", "crashed"):
                ends[e["session"]] = ends.get(e["session"], 0) + 1
            elif e["event"] == "log_rotated":
                for o in e.get("open_sessions", []):
                    created.setdefault(o["session"], 1)
        for sid, n in created.items():
            check(n == 1, f"session {sid} has {n} created events")
            want = 0 if sid in active else 1
            check(ends.get(sid, 0) == want,
                  f"session {sid} has {ends.get(sid, 0)} end events, want {want}")
        for sid in ends:
            check(sid in created, f"end event for {sid} without created")
        return len(created)

    def dirs_left(self, active=()):
        d = os.path.join(self.run_dir, "sessions")
        spares = set(self.spares())
        left = [x for x in os.listdir(d) if x not in active and x not in spares] \
            if os.path.isdir(d) else []
        check(not left, f"directories of dead sessions left: {left}")

    def secret_scan(self):
        blobs = []
        for root, dirs, files in [w for d in (self.dir, getattr(self, "dir_state", None))
                                  if d for w in os.walk(d)]:
            for fn in files:
                p = os.path.join(root, fn)
                try:
                    if os.path.islink(p) or not os.path.isfile(p):
                        continue
                    with open(p, "rb") as f:
                        blobs.append((p, f.read()))
                except OSError:
                    pass
        blobs.extend(self.transcript)
        for where, data in blobs:
            for name, needle in self.secrets.needles:
                if needle in data:
                    raise Fail(f"secret {name} found in {where}")
        return len(blobs)

    def sanitizer_reports(self):
        p = os.path.join(self.dir, "agentd.log")
        try:
            with open(p, errors="replace") as f:
                text = f.read()
        except OSError:
            return
        check("Sanitizer" not in text and "runtime error:" not in text,
              "sanitizer report from the daemon:\n" + text[-3000:])

    def cleanup(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.stop_daemon()
        for pid in self.daemon_pids:
            pass	# ended through the pidfile lock above
        for sid, lst in self.session_pids().items():
            for pid, start in lst:
                kill_if(pid, start)
        for pid in procs_mentioning(self.dir):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)


# --- secrets --------------------------------------------------------------

def ed25519_seed(path):
    """The 32-byte private seed of an unencrypted OpenSSH ed25519 key."""
    with open(path) as f:
        body = "".join(l.strip() for l in f if "-----" not in l)
    b = base64.b64decode(body)
    off = len(b"openssh-key-v1\0")

    def string(o):
        n = struct.unpack(">I", b[o:o + 4])[0]
        return b[o + 4:o + 4 + n], o + 4 + n
    cipher, off = string(off)
    assert cipher == b"none"
    _, off = string(off)	# kdf
    _, off = string(off)	# kdf options
    off += 4			# nkeys
    _, off = string(off)	# public key
    priv, off = string(off)
    o = 8			# checkints
    _, o = string_at(priv, o)	# key type
    _, o = string_at(priv, o)	# public
    sk, o = string_at(priv, o)	# 64 bytes: seed || public
    return sk[:32]


def string_at(b, o):
    n = struct.unpack(">I", b[o:o + 4])[0]
    return b[o + 4:o + 4 + n], o + 4 + n


class Secrets:
    """Keys made once: a plain one and the same kind under a passphrase."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="agentd-ttk.")
        self.needles = [("passphrase", PASSPHRASE.encode()),
                        ("lock password", LOCKPASS.encode())]
        for name, pw in (("plain", ""), ("locked", PASSPHRASE)):
            p = os.path.join(self.dir, name)
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-C", "tt-" + name, "-f", p], check=True)
            seed = ed25519_seed(p)
            if pw:
                subprocess.run(["ssh-keygen", "-q", "-p", "-N", pw, "-f", p],
                               check=True, stdout=subprocess.DEVNULL)
            self.needles += [(name + " key seed", seed),
                             (name + " key seed (hex)", seed.hex().encode()),
                             (name + " key seed (base64)",
                              base64.b64encode(seed)[:40])]

    def copy_keys(self, work):
        out = {}
        for name in ("plain", "locked"):
            for suf in ("", ".pub"):
                shutil.copy(os.path.join(self.dir, name + suf),
                            os.path.join(work, name + suf))
            os.chmod(os.path.join(work, name), 0o600)
            out[name] = os.path.join(work, name)
        return out

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the agent protocol, for hostile frames --------------------------------

def frame(t, body=b""):
    return struct.pack(">IB", len(body) + 1, t) + body


def sshstr(b):
    return struct.pack(">I", len(b)) + b


def agent_roundtrip(path, data, timeout=3.0):
    """Sends data, returns what came back before the peer closed or timeout."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(data)
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                return out, "open"
            if not b:
                return out, "closed"
            out += b
            if len(out) >= 5 and len(out) >= 4 + struct.unpack(">I", out[:4])[0]:
                return out, "open"
    except (ConnectionResetError, BrokenPipeError):
        return b"", "reset"
    finally:
        s.close()


def ctl_request(path, raw, timeout=5.0, half_close=False):
    """Sends raw bytes to the control socket; the reply object, or a state."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(raw)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                if data:	# it closed with our excess unread: fine
                    break
                raise
            if not b:
                break
            data += b
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    finally:
        s.close()
    if len(data) < 4:
        return "closed"
    n = struct.unpack(">I", data[:4])[0]
    return json.loads(data[4:4 + n])


def ctl_msg(obj_or_bytes):
    b = obj_or_bytes if isinstance(obj_or_bytes, bytes) else \
        json.dumps(obj_or_bytes).encode()
    return struct.pack(">I", len(b)) + b


# --- scenarios --------------------------------------------------------------

class Result:
    def __init__(self, name, what):
        self.name, self.what = name, what
        self.iterations = 0
        self.ok = None
        self.detail = ""
        self.notes = []


def sc_kill_daemon(ctx, rng, n, res):
    """SIGKILL of agentd at random points of start, add, shell, stop, TTL."""
    phases = ["start", "add", "shell", "stop", "ttl"]
    counts = {p: 0 for p in phases}
    worst = 0.0
    torn_made = 0
    restarted = 0
    ctx.serve()
    for i in range(n):
        phase = phases[i % len(phases)] if i < len(phases) else rng.choice(phases)
        counts[phase] += 1
        told = []
        clients = []
        if phase == "start":
            for k in range(rng.randint(1, 4)):
                clients.append(("start", ctx.spawn(AGENTD, "start", "--json",
                                                   "--ttl", "1h", "--label", f"k{i}.{k}")))
            time.sleep(rng.uniform(0, 0.06))
        elif phase == "add":
            sid = ctx.start(label=f"add{i}")
            told.append(sid)
            key = ctx.keys[rng.choice(["plain", "locked"])]
            clients.append(("add", ctx.spawn(AGENTD, "add", "--session", sid, key)))
            time.sleep(rng.uniform(0, 0.08))
        elif phase == "shell":
            sid = ctx.start(label=f"sh{i}")
            told.append(sid)
            clients.append(("shell", ctx.spawn(AGENTD, "shell", "--session", sid,
                                               "--", "sleep", "1000")))
            time.sleep(rng.uniform(0, 0.15))
        elif phase == "stop":
            for k in range(rng.randint(1, 3)):
                told.append(ctx.start(label=f"st{i}.{k}"))
            clients.append(("stop", ctx.spawn(AGENTD, "stop", "--all")))
            time.sleep(rng.uniform(0, 0.05))
        elif phase == "ttl":
            told.append(ctx.start(ttl="1", label=f"ttl{i}"))
            time.sleep(rng.uniform(0.85, 1.25))
        check(None not in told, f"iteration {i}: a start before the fault failed")
        t_kill = time.monotonic()
        ctx.kill_daemon(signal.SIGKILL)
        for kind, p in clients:
            rc, out, err = ctx.reap(p)
            if kind == "start" and rc == 0:
                told.append(json.loads(out)["session"])
        # A start that came after the kill autostarted a new daemon: it is
        # part of the fault too, kill it as well.
        while ctx.daemon_pid() and proc_start(ctx.daemon_pid()) is not None:
            restarted += 1
            t_kill = time.monotonic()
            ctx.kill_daemon(signal.SIGKILL)
        evs = ctx.events()
        created = {e["session"] for e in evs if e["event"] == "created"}
        for sid in told:
            check(sid in created, f"iteration {i} ({phase}): session {sid} "
                  "was reported started but has no created event")
        ended = {e["session"] for e in evs if e["event"] in ("stopped", "crashed")}
        worst = max(worst, ctx.wait_dead(created - ended, t_kill))
        # Now and then a crash mid-write, made by hand: a torn tail.
        if rng.random() < 0.1:
            with open(ctx.log, "ab") as f:
                f.write(b'{"v":1,"seq":%d,"ts":"2026-' % (len(evs) + 1))
            torn_made += 1
        ctx.serve()
        ctx.pairing(active=())
        ctx.dirs_left()
        ctx.verify()
        check(ctx.status() == [], "sessions active right after a restart")
    torn_files = [f for f in os.listdir(ctx.dir) if ".torn-" in f]
    with open(os.path.join(ctx.dir, "agentd.log"), errors="replace") as f:
        warned = f.read().count("torn last line")
    check(len(torn_files) == torn_made, f"{torn_made} torn tails made, "
          f"{len(torn_files)} moved aside")
    check(warned == torn_made, f"{torn_made} torn tails, reported {warned} times")
    res.iterations = n
    res.notes.append("phases " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    res.notes.append(f"slowest cleanup {worst:.2f} s (limit 15 s)")
    res.notes.append(f"{restarted} daemons autostarted by a racing start, killed too")
    res.notes.append(f"{torn_made} torn tails repaired, each reported once")
    res.notes.append(f"{len(ctx.events())} log lines verified")


def sc_kill_children(ctx, rng, n, res):
    """SIGKILL / SIGSEGV of ssh-agent and of linked shells."""
    ctx.serve()
    for i in range(n):
        sig = rng.choice([signal.SIGKILL, signal.SIGSEGV])
        if i % 2 == 0:
            sid = ctx.start(label=f"ag{i}")
            st = [s for s in ctx.status() if s["session"] == sid][0]
            os.kill(st["agent_pid"], sig)
            deadline = time.monotonic() + 15
            while True:
                ev = [e for e in ctx.events() if e.get("session") == sid and
                      e["event"] == "crashed"]
                if ev:
                    break
                check(time.monotonic() < deadline, "no crashed event after "
                      f"{sig.name} of ssh-agent")
                time.sleep(0.02)
            check(ev[0].get("exit_reason") == "agent_killed" and
                  ev[0].get("signal") == sig.value,
                  f"{sig.name} of ssh-agent gave {ev[0]}")
            ctx.wait_dead([sid], time.monotonic(), scan=False)
        else:
            sid = ctx.start(label=f"sh{i}")
            p = ctx.spawn(AGENTD, "shell", "--session", sid, "--", "sleep", "1000")
            deadline = time.monotonic() + 10
            while True:
                ev = [e for e in ctx.events() if e.get("session") == sid and
                      e["event"] == "shell_started"]
                if ev:
                    break
                check(time.monotonic() < deadline, "no shell_started")
                time.sleep(0.02)
            os.kill(ev[0]["pid"], sig)
            ctx.reap(p, timeout=15)
            deadline = time.monotonic() + 10
            while not [e for e in ctx.events() if e.get("session") == sid and
                       e["event"] == "shell_ended"]:
                check(time.monotonic() < deadline, "no shell_ended")
                time.sleep(0.02)
            check(any(s["session"] == sid for s in ctx.status()),
                  "session ended with its shell")
            sock = [s for s in ctx.status() if s["session"] == sid][0]["socket"]
            env = dict(ctx.env, SSH_AUTH_SOCK=sock)
            r = ctx.run("ssh-add", "-l", env=env)
            check(r.returncode in (0, 1), "agent does not answer after its shell died")
            ctx.agentd("stop", "--session", sid, check_rc=0)
    ctx.stop_daemon()
    ctx.pairing()
    ctx.dirs_left()
    ctx.verify()
    res.iterations = n


def sc_concurrent(ctx, rng, n, res):
    """n concurrent start/stop/add (and lock/unlock) mixed."""
    ctx.serve()
    told, lock = [], threading.Lock()
    ops = [rng.choices(["start", "add", "stop", "lock"], [5, 3, 2, 1])[0]
           for _ in range(n)]
    stats = {"start": [0, 0], "add": [0, 0], "stop": [0, 0], "lock": [0, 0]}
    added = {}
    stopped = []
    seeds = [rng.random() for _ in range(n)]

    def one(k):
        op = ops[k]
        r = random.Random(seeds[k])
        with lock:
            pick = r.choice(told) if told else None
        if op == "start" or pick is None:
            sid = ctx.start(label=f"c{k}")
            with lock:
                stats["start"][0 if sid else 1] += 1
                if sid:
                    told.append(sid)
            return
        if op == "add":
            p = ctx.agentd("add", "--session", pick, ctx.keys[r.choice(["plain", "locked"])])
            with lock:
                stats["add"][0 if p.returncode == 0 else 1] += 1
                if p.returncode == 0:
                    added[pick] = added.get(pick, 0) + 1
        elif op == "stop":
            p = ctx.agentd("stop", "--session", pick)
            with lock:
                stats["stop"][0 if p.returncode == 0 else 1] += 1
                if p.returncode == 0:
                    stopped.append(pick)
        else:
            sock = os.path.join(ctx.run_dir, "sessions", pick, "agent.sock")
            env = dict(ctx.env, SSH_AUTH_SOCK=sock)
            a = ctx.run("ssh-add", "-x", env=env)
            b = ctx.run("ssh-add", "-X", env=env)
            with lock:
                stats["lock"][0 if a.returncode == 0 and b.returncode == 0 else 1] += 1

    threads = []
    sem = threading.Semaphore(48)

    def wrapped(k):
        with sem:
            one(k)
    for k in range(n):
        t = threading.Thread(target=wrapped, args=(k,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    evs = ctx.events()
    seqs = [e["seq"] for e in evs]
    check(seqs == list(range(1, len(seqs) + 1)), "seq not 1..n")
    created = [e["session"] for e in evs if e["event"] == "created"]
    check(len(created) == len(set(created)), "duplicated created")
    for sid in told:
        check(sid in created, f"told {sid}, no created")
    check(stats["start"][1] == 0, f"{stats['start'][1]} starts failed")
    for sid, k in added.items():
        got = len([e for e in evs if e.get("session") == sid and e["event"] == "key_loaded"])
        check(got >= k, f"{k} adds to {sid} acknowledged, {got} key_loaded")
    for sid in stopped:
        got = [e for e in evs if e.get("session") == sid and e["event"] == "stopped"]
        check(len(got) == 1 and got[0]["exit_reason"] == "requested",
              f"stop of {sid} acknowledged: {got}")
    active = {s["session"] for s in ctx.status()}
    ctx.pairing(active=active)
    ctx.verify()
    ctx.agentd("stop", "--all", check_rc=0)
    ctx.pairing()
    ctx.dirs_left()
    ctx.verify()
    res.iterations = n
    res.notes.append(", ".join(f"{k} {v[0]} ok/{v[1]} refused" for k, v in stats.items()))


def sc_hostile_control(ctx, rng, n, res):
    """Malformed control messages: a clear error to that client only."""
    ctx.serve()
    sid = ctx.start(label="keep")
    pid = ctx.daemon_pid()
    path = os.path.join(ctx.run_dir, "control.sock")
    big = b"x" * (64 * 1024 + 1)
    fixed = [
        ("truncated header", b"\x00\x00", ("closed", "reset")),
        ("zero length", struct.pack(">I", 0), "error"),
        ("oversized length", struct.pack(">I", 64 * 1024 + 1) + big[:100], "error"),
        ("huge length", struct.pack(">I", 0xffffffff), "error"),
        ("truncated body", struct.pack(">I", 100) + b'{"cmd":', ("closed", "reset")),
        ("invalid JSON", ctl_msg(b'{"cmd":"status",'), "error"),
        ("not an object", ctl_msg(b'["status"]'), "error"),
        ("NUL inside", ctl_msg(b'{"cmd":"sta\x00tus"}'), "error"),
        ("cmd not a string", ctl_msg({"cmd": 5}), "error"),
        ("no cmd", ctl_msg({"verb": "start"}), "error"),
        ("unknown verb", ctl_msg({"cmd": "format-disk"}), "error"),
        ("ttl wrong type", ctl_msg({"cmd": "start", "ttl_s": "1h"}), "error"),
        ("ttl negative", ctl_msg({"cmd": "start", "ttl_s": -5}), "error"),
        ("ttl fraction", ctl_msg({"cmd": "start", "ttl_s": 1.5}), "error"),
        ("ttl huge", ctl_msg({"cmd": "start", "ttl_s": 1e300}), "error"),
        ("label wrong type", ctl_msg({"cmd": "start", "label": ["a"]}), "error"),
        ("label too long", ctl_msg({"cmd": "start", "label": "l" * 5000}), "error"),
        ("stop path", ctl_msg({"cmd": "stop", "session": "../../etc"}), "error"),
        ("stop wrong type", ctl_msg({"cmd": "stop", "session": 7}), "error"),
        ("add no session", ctl_msg({"cmd": "add"}), "error"),
        ("add bad session", ctl_msg({"cmd": "add", "session": "x" * 300}), "error"),
        ("shell bad", ctl_msg({"cmd": "shell", "session": sid, "argv": 5}), "error"),
        ("deep nesting", ctl_msg(b"[" * 5000 + b"]" * 5000), "error"),
    ]
    cases = list(fixed)
    for k in range(max(0, n - len(fixed))):
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
        if rng.random() < 0.5:
            obj = {"cmd": rng.choice(["start", "stop", "add", "status", "shell", "zz"])}
            for _ in range(rng.randint(0, 3)):
                obj[rng.choice(["ttl_s", "key_ttl_s", "label", "session", "all",
                                "lifetime_s"])] = rng.choice(
                    [None, True, -1, 0, 2 ** 64, "x", [], {}, 1.5, "9" * 30])
            if obj["cmd"] in ("start", "stop"):
                obj["cmd"] = "zz"	# random fields must not start or stop for real
            body = json.dumps(obj).encode()
        cases.append((f"random {k}", ctl_msg(body), None))
    bad = []
    for name, raw, want in cases:
        r = ctl_request(path, raw, half_close=isinstance(want, tuple))
        if want == "error":
            if not (isinstance(r, dict) and r.get("ok") is False and r.get("error")):
                bad.append(f"{name}: {r!r}")
        elif isinstance(want, tuple):
            if r not in want and not (isinstance(r, dict) and r.get("ok") is False):
                bad.append(f"{name}: {r!r}")
        elif r == "timeout":
            bad.append(f"{name}: no answer")
        check(ctx.daemon_pid() == pid and proc_start(pid) is not None,
              f"daemon died after {name}")
    check(not bad, "unclear answers: " + "; ".join(bad[:5]))
    check([s["session"] for s in ctx.status()] == [sid], "sessions changed")
    ctx.agentd("stop", "--all", check_rc=0)
    ctx.pairing()
    ctx.verify()
    res.iterations = len(cases)
    ctx.sanitizer_reports()


def sc_hostile_agent(ctx, rng, n, res):
    """Hostile frames on the public agent socket: that client only."""
    ctx.serve()
    sid = ctx.start(label="agent")
    sock = os.path.join(ctx.run_dir, "sessions", sid, "agent.sock")
    env = dict(ctx.env, SSH_AUTH_SOCK=sock)
    ctx.agentd("add", "--session", sid, ctx.keys["plain"], check_rc=0)
    pid = ctx.daemon_pid()
    fixed = [
        ("oversized frame", struct.pack(">I", 256 * 1024 + 1) + b"\x11" * 1000),
        ("huge length", struct.pack(">I", 0xffffffff)),
        ("zero length", struct.pack(">I", 0)),
        ("truncated frame", struct.pack(">I", 100) + b"\x0b"),
        ("unknown type", frame(200, b"junk")),
        ("add garbage", frame(17, b"\xff" * 64)),
        ("add truncated ed25519", frame(17, sshstr(b"ssh-ed25519") + b"\x00\x00")),
        ("add unknown key type", frame(17, sshstr(b"ssh-nope") + sshstr(b"a") * 4)),
        ("add bad constraint", frame(25, sshstr(b"ssh-ed25519") + sshstr(b"\x00" * 32) +
                                     sshstr(b"\x00" * 64) + sshstr(b"") + b"\x99")),
        ("sign garbage", frame(13, b"\x00\x00\x00\x05abc")),
        ("remove garbage", frame(18, b"\x00\x00\xff\xff")),
        ("extension garbage", frame(27, sshstr(b"session-bind@openssh.com") + b"\x01")),
        ("lock empty", frame(22, b"")),
    ]
    cases = list(fixed)
    for k in range(max(0, n - len(fixed))):
        t = rng.choice([11, 13, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27, 9, 1, 255])
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        if t in (17, 25) and rng.random() < 0.5:
            body = sshstr(b"ssh-ed25519") + body
        if t == 22:	# lock with a random password would lock the agent
            t = 23
        cases.append((f"random {k}", frame(t, body)))
    for name, raw in cases:
        try:
            agent_roundtrip(sock, raw, timeout=1.0)
        except OSError as e:
            raise Fail(f"agent socket gone at {name} ({e}); log tail: "
                       + json.dumps(ctx.events()[-2:]))
        check(ctx.daemon_pid() == pid and proc_start(pid) is not None,
              f"daemon died after {name}")
    # Random frames may remove keys (REMOVE_ALL needs no body): the agent
    # must answer, and the session must not have ended.
    r = ctx.run("ssh-add", "-l", env=env)
    check(r.returncode in (0, 1), f"agent does not answer: {r.stdout!r} {r.stderr!r}")
    check(not [e for e in ctx.events() if e["event"] in ("stopped", "crashed")],
          "a hostile frame ended the session")
    ctx.agentd("stop", "--all", check_rc=0)
    ctx.pairing()
    ctx.verify()
    ctx.sanitizer_reports()
    res.iterations = len(cases)


PEER_PROBE = r"""
import json, socket, struct, sys
path, kind = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
try:
    s.connect(path)
except OSError as e:
    print("connect:" + type(e).__name__); sys.exit(0)
try:
    if kind == "ctl":
        b = json.dumps({"cmd": "status"}).encode()
        s.sendall(struct.pack(">I", len(b)) + b)
    else:
        s.sendall(struct.pack(">IB", 1, 11))
    d = s.recv(65536)
    print("answered" if d else "closed")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("closed:" + type(e).__name__)
"""


def sc_other_uid(ctx, rng, n, res):
    """The control and agent sockets from another uid: refused."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        res.notes.append("skipped: needs root and setpriv")
        res.ok = "skipped"
        return
    ctx.serve()
    sid = ctx.start(label="uid")
    targets = [("control.sock", os.path.join(ctx.run_dir, "control.sock"), "ctl"),
               ("agent.sock", os.path.join(ctx.run_dir, "sessions", sid, "agent.sock"), "agent")]
    base = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    caps = ["--inh-caps=+dac_override,+dac_read_search",
            "--ambient-caps=+dac_override,+dac_read_search"]
    k = 0
    for name, path, kind in targets:
        # 1: the 0700 directories stop them before the socket.
        p = ctx.run(*base, "python3", "-c", PEER_PROBE, path, kind)
        out = p.stdout.decode().strip()
        check(out.startswith("connect:"), f"{name} reachable by uid 65534: {out} {p.stderr!r}")
        # 2: past the directories (CAP_DAC_OVERRIDE, as uid 65534): SO_PEERCRED.
        p = ctx.run(*base, *caps, "python3", "-c", PEER_PROBE, path, kind)
        out = p.stdout.decode().strip()
        check(out.startswith("closed"), f"{name}: uid 65534 past the directories "
              f"was not refused by SO_PEERCRED: {out} {p.stderr!r}")
        k += 2
    check(len(ctx.status()) == 1, "session lost")
    r = ctx.run("ssh-add", "-l", env=dict(ctx.env, SSH_AUTH_SOCK=targets[1][1]))
    check(r.returncode in (0, 1), "agent does not answer its owner")
    ctx.agentd("stop", "--all", check_rc=0)
    ctx.verify()
    res.iterations = k
    res.notes.append("directories refuse first; with CAP_DAC_OVERRIDE the uid check closes the connection")


def snapshot(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return (st.st_mode, st.st_uid, st.st_ino,
            os.readlink(path) if os.path.islink(path) else
            sorted(os.listdir(path)) if os.path.isdir(path) else None)


def sc_unsafe(ctx, rng, n, res):
    """The unsafe-place matrix for the state root, runtime root and sessions."""
    outside = os.path.join(ctx.work, "outside")
    os.mkdir(outside, 0o700)
    cases = 0
    places = [("state root", ctx.dir), ("runtime root", ctx.run_dir),
              ("sessions", os.path.join(ctx.run_dir, "sessions"))]

    def make(kind, path):
        if kind == "symlink":
            os.symlink(outside, path)
        elif kind == "file":
            open(path, "w").close()
        elif kind == "socket":
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            s.close()
        elif kind == "owner":
            os.mkdir(path, 0o700)
            os.chown(path, 65534, 65534)
        else:
            os.mkdir(path)
            os.chmod(path, int(kind, 8))

    def unmake(path):
        if os.path.islink(path) or not os.path.isdir(path):
            os.unlink(path)
        else:
            os.rmdir(path)

    kinds = ["symlink", "file", "socket", "0755", "0711", "0770", "0707", "0750", "0500"]
    if os.geteuid() == 0:
        kinds.append("owner")
    for label, path in places:
        for kind in kinds:
            # The places above path exist and are good.
            if path != ctx.dir:
                os.makedirs(os.path.dirname(path), 0o700, exist_ok=True)
            else:
                os.rmdir(ctx.dir)
            make(kind, path)
            before = snapshot(path)
            p = ctx.agentd("start", "--ttl", "1m")
            err = p.stderr.decode(errors="replace").strip()
            check(p.returncode == 1, f"{label} as {kind}: exit {p.returncode} ({err})")
            check(path in err, f"{label} as {kind}: message does not name {path}: {err}")
            check(len(err.splitlines()) <= 2, f"{label} as {kind}: unclear: {err}")
            check(snapshot(path) == before, f"{label} as {kind}: changed")
            check(os.listdir(outside) == [], f"{label} as {kind}: wrote outside")
            ctx.wait_daemon_gone(5)	# a refusing daemon may still be exiting
            check(not os.path.exists(os.path.join(ctx.run_dir, "agentd.pid")) or
                  ctx.daemon_pid() == 0 or proc_start(ctx.daemon_pid()) is None,
                  f"{label} as {kind}: a daemon runs")
            unmake(path)
            if path == ctx.dir:
                os.mkdir(ctx.dir, 0o700)
            cases += 1
    # A parent writable by others (no sticky bit).
    openp = os.path.join(ctx.work, "open")
    os.mkdir(openp)
    os.chmod(openp, 0o777)
    env = dict(ctx.env, AGENTD_DIR=os.path.join(openp, "d"))
    p = ctx.run(AGENTD, "start", env=env)
    check(p.returncode == 1 and openp.encode() in p.stderr, f"open parent: {p.stderr!r}")
    check(os.listdir(openp) == [], "created under a world-writable parent")
    cases += 1

    # Swapped between check and use: a renamer flips run/ (and sessions/)
    # between a real directory and a symlink to outside while starts run.
    stop = threading.Event()
    swaps = [0]

    def renamer(target):
        aside = target + ".real"
        link = target + ".link"
        r = random.Random(rng.random())
        while not stop.is_set():
            try:
                os.symlink(outside, link)
                os.rename(target, aside)
                os.rename(link, target)
                time.sleep(r.uniform(0, 0.002))
                os.rename(target, link)
                os.rename(aside, target)
                os.unlink(link)
                swaps[0] += 1
            except OSError:
                for pth in (link,):
                    try:
                        os.unlink(pth)
                    except OSError:
                        pass
                if not os.path.lexists(target) and os.path.isdir(aside):
                    os.rename(aside, target)
            time.sleep(r.uniform(0, 0.002))
    ok_starts = 0
    for target in (ctx.run_dir, os.path.join(ctx.run_dir, "sessions")):
        ctx.stop_daemon()
        os.makedirs(os.path.join(ctx.run_dir, "sessions"), 0o700, exist_ok=True)
        stop.clear()
        t = threading.Thread(target=renamer, args=(target,))
        t.start()
        try:
            for k in range(max(4, n // 4)):
                p = ctx.agentd("start", "--ttl", "1m")
                ok_starts += p.returncode == 0
                if rng.random() < 0.5:
                    ctx.stop_daemon()
                check(os.listdir(outside) == [],
                      f"swap race on {target}: created outside: {os.listdir(outside)}")
                cases += 1
        finally:
            stop.set()
            t.join()
        check(os.listdir(outside) == [], "created outside")
    ctx.stop_daemon()
    ctx.pairing()
    # When the swaps let no start through, no log may exist to verify.
    if ok_starts or os.path.exists(ctx.log):
        ctx.verify()
    res.iterations = cases
    res.notes.append(f"{len(kinds)} kinds x 3 places, open parent, {swaps[0]} swaps "
                     f"raced against starts ({ok_starts} starts got through)")


def sc_rotation(ctx, rng, n, res):
    """mv audit.jsonl + SIGHUP under load: nothing lost, files join."""
    ctx.serve()
    files = []
    told = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            sid = ctx.start(label="rot")
            if sid:
                told.append(sid)
                if len(told) % 3 == 0:
                    ctx.agentd("stop", "--session", told[-2])
    t = threading.Thread(target=load)
    t.start()
    try:
        for k in range(n):
            time.sleep(rng.uniform(0.02, 0.2))
            name = os.path.join(ctx.dir, f"audit.{k}.jsonl")
            os.rename(ctx.log, name)
            files.append(name)
            os.kill(ctx.daemon_pid(), signal.SIGHUP)
            deadline = time.monotonic() + 10
            while not os.path.exists(ctx.log):
                check(time.monotonic() < deadline, "no new log after SIGHUP")
                time.sleep(0.01)
    finally:
        stop.set()
        t.join()
    files.append(ctx.log)
    if rng.random() < 0.5:
        ctx.kill_daemon()
        ctx.serve()
    ctx.agentd("stop", "--all", check_rc=0)
    evs = []
    for fn in files:
        with open(fn, "rb") as f:
            evs += [json.loads(l) for l in f.read().split(b"\n") if l]
    check([e["seq"] for e in evs] == list(range(1, len(evs) + 1)), "seq across files")
    created = {e["session"] for e in evs if e["event"] == "created"}
    for sid in told:
        check(sid in created, f"{sid} lost in rotation")
    ends = {}
    for e in evs:
        if e["event"] in ("stopped", "crashed"):
            ends[e["session"]] = ends.get(e["session"], 0) + 1
    for sid in created:
        check(ends.get(sid) == 1, f"{sid}: {ends.get(sid)} ends across the files")
    ctx.verify(*files)
    for fn in files[1:]:
        p = subprocess.run([AUDITCTL, "--log", fn, "verify"], stdout=subprocess.PIPE)
        check(p.returncode == 0, f"{fn} alone does not verify")
    res.iterations = n
    res.notes.append(f"{len(evs)} events in {len(files)} files, {len(told)} sessions")


FULLDISK = r"""
set -eu
mnt=$1
shift
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$mnt"
exec "$@"
"""


def sc_full_disk(ctx, rng, n, res):
    """State directory on a 64 KiB tmpfs that fills up (own mount namespace)."""
    if os.environ.get("TORTURE_IN_NS") != "1":
        mnt = os.path.join(ctx.work, "state")
        os.mkdir(mnt, 0o700)
        probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if probe.returncode != 0:
            res.ok = "skipped"
            res.notes.append("skipped: unshare -m not permitted here (" +
                             probe.stderr.decode(errors="replace").strip() + ")")
            return
        env = dict(os.environ, TORTURE_IN_NS="1", TORTURE_MNT=mnt)
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            FULLDISK, "sh", mnt, sys.executable, __file__, "--quick",
                            "--seed", str(rng.randrange(2 ** 32)), "--iters", str(n),
                            "--json-result", "full-disk"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=600)
        out = p.stdout.decode(errors="replace")
        try:
            sub = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise Fail("namespace run failed: " + out[-2000:] +
                       p.stderr.decode(errors="replace")[-2000:])
        res.iterations = sub["iterations"]
        res.notes += sub["notes"]
        if not sub["ok"]:
            raise Fail(sub["detail"])
        return
    # Inside the namespace: state on the tmpfs, runtime root beside it.
    mnt = os.environ["TORTURE_MNT"]
    ctx.env.pop("AGENTD_DIR")
    ctx.env["XDG_STATE_HOME"] = mnt
    ctx.env["XDG_RUNTIME_DIR"] = ctx.dir
    ctx.dir_state = os.path.join(mnt, "agentd")
    ctx.log = os.path.join(ctx.dir_state, "audit.jsonl")
    ctx.run_dir = os.path.join(ctx.dir, "agentd")
    filler = os.path.join(mnt, "filler")
    rounds = 0
    for r in range(n):
        ctx.serve()
        keep = [ctx.start(label=f"keep{r}.{k}") for k in range(2)]
        check(None not in keep, "start with space failed")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:			# fill the disk
            while True:
                os.write(fd, b"\0" * 512)
        except OSError:
            pass
        finally:
            os.close(fd)
        # Fill the last bytes too, so the log's own page is full.
        refused = 0
        for k in range(40):
            p = ctx.agentd("start", "--ttl", "10m", "--label", f"full{r}.{k}")
            if p.returncode != 0:
                err = p.stderr.decode(errors="replace").strip()
                check("session not started: audit log" in err and
                      "No space left" in err and len(err.splitlines()) == 1,
                      f"unclear refusal: {err}")
                refused += 1
                if refused >= 3:
                    break
            else:
                keep.append(json.loads(p.stdout or b"{}").get("session")) \
                    if p.stdout.startswith(b"{") else None
        check(refused >= 3, "starts were never refused on a full disk")
        st = {s["session"] for s in ctx.status()}
        for sid in keep:
            if sid:
                check(sid in st, f"running session {sid} lost on a full disk")
        # An add cannot be logged: refused, and the agent holds no key.
        sock = os.path.join(ctx.run_dir, "sessions", keep[0], "agent.sock")
        env = dict(ctx.env, SSH_AUTH_SOCK=sock)
        p = ctx.agentd("add", "--session", keep[0], ctx.keys["plain"])
        if p.returncode == 0:
            check(any(e["event"] == "key_loaded" for e in ctx.events()),
                  "key added without key_loaded")
        else:
            l = ctx.run("ssh-add", "-l", env=env)
            check(l.returncode == 1, "refused add left a key in the agent")
        ctx.verify()
        # A stop while full: ends the session even if the event cannot be written.
        p = ctx.agentd("stop", "--session", keep[1])
        check(keep[1] not in {s["session"] for s in ctx.status()}, "stop did nothing")
        os.unlink(filler)	# space returns
        sid = ctx.start(label=f"after{r}")
        check(sid is not None, "start refused after space returned")
        ctx.verify()
        ctx.agentd("stop", "--all", check_rc=0)
        ctx.stop_daemon()
        ctx.serve()		# recovery writes the ends a full disk withheld
        ctx.pairing()
        ctx.dirs_left()
        ctx.verify()
        ctx.stop_daemon()
        rounds += 1
    res.iterations = rounds
    res.notes.append("refused with 'No space left on device', sessions kept, log never torn, "
                     "starts resume when space returns")


def sc_starve(ctx, rng, n, res, quick=False):
    """No client can starve the daemon (DESIGN §5): every attack at once."""
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "helpers"))
    import starve
    starve.AGENTD = AGENTD
    starve.raise_nofile(8192)
    # Under a limit the floods below exceed (1,100 control connections plus
    # 2 descriptors for each of 384 agent clients): caps, timeouts and the
    # descriptor limit all at once.
    limit = 1200
    subprocess.run(["prlimit", f"--nofile={limit}:{limit}", AGENTD, "serve"],
                   env=ctx.env, check=True, stdout=subprocess.DEVNULL)
    ctx.daemon_pids.append(ctx.daemon_pid())
    pid = ctx.daemon_pid()
    fp = starve.fingerprint(ctx.keys["plain"] + ".pub")
    ctl = os.path.join(ctx.run_dir, "control.sock")
    worst = {"status": 0.0, "ssh-add": 0.0}
    cpus, resizes, cast_max = [], 0, 0
    # The resize flood needs the shell's coalescing (agentd/shell.c): in
    # the full run only, so `make check` tests this file's own part.
    with_resize = not quick
    for i in range(n):
        a = ctx.start(ttl="10m", label=f"starve-a{i}")
        b = ctx.start(ttl="10m", label=f"starve-b{i}")
        c = ctx.start(ttl=str(rng.randint(4, 7)), label=f"starve-exp{i}")
        check(None not in (a, b, c), "a start before the attack failed")
        ctx.agentd("add", "--session", a, ctx.keys["plain"], check_rc=0)
        sock_a = os.path.join(ctx.run_dir, "sessions", a, "agent.sock")
        sock_b = os.path.join(ctx.run_dir, "sessions", b, "agent.sock")
        rz = starve.ResizeFlood(ctl, b) if with_resize else None
        floods = [
            starve.Flood(ctl, 1100, kinds=("idle", "half", "byte")),
            starve.Flood(sock_a, 8, kinds=("half",), payload=b"\x0b" + bytes(40)),
            starve.Flood(sock_a, 256, probe=64),
            starve.Flood(sock_b, 120, probe=60),
        ]
        try:
            for k in range(3):
                try:
                    worst["status"] = max(worst["status"],
                                          starve.timed_status(ctx.env, a))
                    worst["ssh-add"] = max(worst["ssh-add"],
                                           starve.timed_ssh_add(sock_a, fp))
                except starve.Fail as e:
                    raise Fail(f"round {i}, probe {k}: {e}")
                env_b = dict(ctx.env, SSH_AUTH_SOCK=sock_b)
                r = ctx.run("ssh-add", "-l", env=env_b, timeout=10)
                check(r.returncode == 1 and b"no identities" in r.stdout,
                      f"ssh-add -l on a second session: {r.returncode} "
                      f"{r.stdout!r} {r.stderr!r}")
            if not with_resize:
                cpus.append(starve.cpu_share(pid, 2.0))
                check(cpus[-1] < 0.5, "the daemon uses %.0f %% of a CPU under "
                      "attack" % (cpus[-1] * 100))
            # The short session ends meanwhile, cleaned up and logged.
            starve.wait_for(lambda: any(
                e["event"] == "stopped" and e.get("session") == c and
                e.get("exit_reason") == "ttl_expired" for e in ctx.events()),
                30, f"round {i}: the expiring session was not logged")
            d = os.path.join(ctx.run_dir, "sessions", c)
            starve.wait_for(lambda: not os.path.exists(d), 10,
                            f"round {i}: the expired session's directory is left")
            worst["status"] = max(worst["status"], starve.timed_status(ctx.env, a))
            if rz is not None:
                check(rz.error is None, f"the resize flood broke off: {rz.error}")
                resizes += rz.sent
                # Resizes that pile up are coalesced: a few "r" lines per
                # wake-up at most, not one per frame (64 frames per send).
                rlines = 0
                for root, _, files in os.walk(ctx.dir):
                    for f in files:
                        if f.endswith(".cast"):
                            p = os.path.join(root, f)
                            cast_max = max(cast_max, os.path.getsize(p))
                            with open(p, "rb") as cf:
                                rlines += sum(1 for l in cf if b'"r"' in l)
                check(rlines * 4 <= rz.sent and cast_max < 16 << 20,
                      "%d resize frames made %d \"r\" lines, the largest "
                      "recording is %d KiB" % (rz.sent, rlines, cast_max >> 10))
        finally:
            for f in floods:
                f.close()
            if rz is not None:
                rz.end()
        ctx.agentd("stop", "--all", check_rc=0)
    ctx.pairing()
    ctx.verify()
    ctx.dirs_left()
    with open(os.path.join(ctx.dir, "agentd.log"), errors="replace") as f:
        warns = sum(1 for l in f if "descriptor limit" in l)
    res.iterations = n
    res.notes.append(f"under --nofile={limit}: 1,100 control + 384 agent "
                     f"connections, a session expiring")
    res.notes.append(f"slowest status {worst['status']:.2f} s, ssh-add -l "
                     f"{worst['ssh-add']:.2f} s (limit 1 s / 5 s)")
    if cpus:
        res.notes.append(f"daemon CPU at most {max(cpus) * 100:.0f} %")
    if with_resize:
        res.notes.append(f"{resizes} resize frames, largest cast "
                         f"{cast_max} bytes")
    res.notes.append(f"{warns} descriptor warning(s) in agentd.log")


def sc_starve_quick(ctx, rng, n, res):
    return sc_starve(ctx, rng, n, res, quick=True)


SCENARIOS = [
    ("kill-daemon", sc_kill_daemon,
     "SIGKILL of agentd during start, add, shell, stop, TTL expiry", 200, 10),
    ("kill-children", sc_kill_children,
     "SIGKILL/SIGSEGV of ssh-agent and of linked shells", 20, 4),
    ("full-disk", sc_full_disk,
     "state directory on a 64 KiB tmpfs that fills up", 5, 1),
    ("rotation", sc_rotation, "mv audit.jsonl + SIGHUP under load", 20, 3),
    ("concurrent", sc_concurrent, "concurrent start/stop/add/lock mixed", 200, 60),
    ("unsafe-places", sc_unsafe,
     "unsafe-place matrix + directory swapped for a symlink", 40, 8),
    ("other-uid", sc_other_uid, "control and agent socket from uid 65534", 1, 1),
    ("hostile-control", sc_hostile_control,
     "malformed control messages", 300, 40),
    ("hostile-agent", sc_hostile_agent, "hostile agent frames", 500, 40),
    ("starve", sc_starve, "control, agent and descriptor floods, an expiring "
     "session and a resize flood, all at once", 3, 1),
]


def run_one(name, fn, what, iters, rng, secrets):
    res = Result(name, what)
    ctx = Ctx(name, secrets)
    t0 = time.monotonic()
    try:
        fn(ctx, rng, iters, res)
        ctx.sanitizer_reports()
        nfiles = ctx.secret_scan()
        res.notes.append(f"secret scan: {nfiles} files/outputs clean")
        if res.ok is None:
            res.ok = True
    except Fail as e:
        res.ok = False
        res.detail = str(e)
    except Exception:
        res.ok = False
        res.detail = traceback.format_exc()
    finally:
        try:
            ctx.cleanup()
        except Exception:
            traceback.print_exc()
    res.seconds = time.monotonic() - t0
    return res


TORTURE_END = "<!-- end of the figures written by make torture -->"


def report(results, seed, quick, path, started):
    lines = [
        "# Reliability figures",
        "",
        "The table is written by `make torture` (`tests/torture/torture.py`); the sections after it by hand.",
        f"Seed {seed} (`make torture SEED={seed}` repeats the run), "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
        f"{'quick subset' if quick else 'full run'}, "
        f"{sum(r.seconds for r in results):.0f} s.",
        "",
        "After every fault: each session a client was told about has `created` and, "
        "once the daemon restarts, exactly one `stopped`/`crashed`; `auditctl verify` "
        "passes; no ssh-agent, tether or shell of a dead session outlives the fault by "
        "15 s; no directory of a dead session survives the restart; no private key "
        "seed (raw, hex, base64), passphrase or lock password appears in any file under "
        "AGENTD_DIR or in any client output.",
        "",
        "| scenario | what | iterations | result | notes |",
        "|---|---|---:|---|---|",
    ]
    for r in results:
        res = "pass" if r.ok is True else r.ok if r.ok else "**FAIL**: " + \
            r.detail.splitlines()[0][:200].replace("|", "/")
        lines.append(f"| {r.name} | {r.what} | {r.iterations} | {res} | "
                     f"{'; '.join(r.notes).replace('|', '/')} |")
    lines += ["", TORTURE_END, "", ""]
    # What follows the marker is written by hand (each fault kind, its test and
    # figures) and survives a new run.
    kept = ""
    try:
        with open(path) as f:
            old = f.read()
        if TORTURE_END in old:
            kept = old.split(TORTURE_END, 1)[1].lstrip("\n")
        elif "\n## " in old:
            kept = old[old.index("\n## ") + 1:]
    except FileNotFoundError:
        pass
    with open(path, "w") as f:
        f.write("\n".join(lines) + kept)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--iters", type=int, help="iterations for each scenario")
    ap.add_argument("--report")
    ap.add_argument("--json-result")
    ap.add_argument("scenarios", nargs="*")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2 ** 32)
    if not a.json_result:
        print(f"torture: seed {seed}{' (quick)' if a.quick else ''}", flush=True)
    names = a.scenarios or ([a.json_result] if a.json_result else [s[0] for s in SCENARIOS])
    secrets = Secrets()
    results = []
    started = time.time()
    failed = 0
    try:
        for name, fn, what, full, quick in SCENARIOS:
            if name not in names:
                continue
            iters = a.iters or (quick if a.quick else full)
            rng = random.Random(f"{seed}:{name}")
            if fn is sc_starve and a.quick:
                fn = sc_starve_quick
            r = run_one(name, fn, what, iters, rng, secrets)
            results.append(r)
            if a.json_result:
                print(json.dumps({"ok": r.ok is True, "iterations": r.iterations,
                                  "notes": r.notes, "detail": r.detail}))
                return 0 if r.ok is True else 1
            state = "ok  " if r.ok is True else "skip" if r.ok == "skipped" else "FAIL"
            print(f"{state} {name}: {r.iterations} iterations, {r.seconds:.1f}s"
                  + ("" if not r.notes else " — " + "; ".join(r.notes)), flush=True)
            if r.ok is not True and r.ok != "skipped":
                failed += 1
                print("     | " + r.detail.replace("\n", "\n     | "), flush=True)
    finally:
        secrets.cleanup()
    if a.report:
        report(results, seed, a.quick, a.report, started)
    print(f"torture: seed {seed}: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
