#!/usr/bin/env python3
"""Differential fuzzing of the relay against the real ssh-agent behind it.

Starts a real agentd session (private AGENTD_DIR) with keys loaded, puts a
frame-counting interposer between the relay and the session's ssh-agent (the
upstream socket is renamed; the relay connects to the interposer, which
passes every byte on to the real agent), then sends random and mutated frames
(seeded from the recorded ssh-add corpus) through the public socket, one
connection each, each followed by a REQUEST_IDENTITIES sentinel. For every
frame, one of the two must hold:

  refused:   the relay answered FAILURE, the agent received nothing before the
             sentinel, the log did not grow (except, for a signature of a
             confirm key, by its approval events and a key_used refused:
             denied) and the agent's identities did not change;
  forwarded: the agent received exactly that frame (or, for an add, the same
             frame with its lifetime capped to the session), and the log has
             the matching event (key_used for a signature, key_loaded /
             key_removed for a successful add / removal, agent_locked /
             agent_unlocked for (un)lock), and nothing else; a signature
             made or a key removed is logged under the fingerprint of a key
             the agent held (not the hash of a loose blob naming it).

Seeds include sign and remove requests for the session's own keys, and two
mutations put a key blob in the loose forms OpenSSH 9.2 still reads as that
key: its type name recased or replaced by a short or signature name, or a
public field padded with leading zeros.

Also, against a small reference of the allowlist: unknown message types and
unknown extensions are always refused, and frames with bytes appended to or
cut from a real request never reach the agent unless the reference accepts
them. Exit 0 when every frame held, 1 on the first one that did not (its
bytes are saved under --out), 2 on usage or set-up errors.

Usage: AGENTD=build/bin/agentd diff_relay.py --seconds N --corpus DIR [--out DIR] [--seed S]
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

FAILURE, SUCCESS, IDENTITIES_ANSWER = 5, 6, 12
REQUEST_TYPES = {9, 11, 13, 17, 18, 19, 20, 21, 22, 23, 25, 26, 27}
EXTENSIONS = {b"session-bind@openssh.com", b"query"}


def s(b):
    return struct.pack(">I", len(b)) + b


def frame(body):
    return struct.pack(">I", len(body)) + body


def recv_frame(c):
    h = b""
    while len(h) < 4:
        d = c.recv(4 - len(h))
        if not d:
            return None
        h += d
    n = struct.unpack(">I", h)[0]
    d = b""
    while len(d) < n:
        x = c.recv(n - len(d))
        if not x:
            return None
        d += x
    return d


class Interposer:
    """Listens at the upstream path; one real-agent connection per relay
    connection; records every client->agent frame in arrival order."""

    def __init__(self, path, real):
        self.path, self.real = path, real
        self.lock = threading.Lock()
        self.frames = []          # (conn id, frame body)
        self.nconn = 0
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind(path)
        os.chmod(path, 0o600)
        self.srv.listen(64)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = socket.socket(socket.AF_UNIX)
            u.connect(self.real)
            with self.lock:
                self.nconn += 1
                cid = self.nconn
            threading.Thread(target=self.up, args=(cid, c, u), daemon=True).start()
            threading.Thread(target=self.down, args=(u, c), daemon=True).start()

    def up(self, cid, c, u):
        buf = b""
        while True:
            try:
                d = c.recv(65536)
            except OSError:
                break
            if not d:
                break
            buf += d
            while len(buf) >= 4 and len(buf) >= 4 + struct.unpack(">I", buf[:4])[0]:
                k = struct.unpack(">I", buf[:4])[0]
                with self.lock:
                    self.frames.append((cid, buf[4:4 + k]))
                buf = buf[4 + k:]
            try:
                u.sendall(d)
            except OSError:
                break
        for x in (u, c):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def down(self, u, c):
        while True:
            try:
                d = u.recv(65536)
            except OSError:
                break
            if not d:
                break
            try:
                c.sendall(d)
            except OSError:
                break
        for x in (u, c):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def mark(self):
        with self.lock:
            return len(self.frames)

    def since(self, m):
        with self.lock:
            return list(self.frames[m:])


# --- a small reference of the allowlist's shape -----------------------------

def get_string(b, pos):
    if len(b) - pos < 4:
        raise ValueError
    n = struct.unpack(">I", b[pos:pos + 4])[0]
    if n > len(b) - pos - 4:
        raise ValueError
    return b[pos + 4:pos + 4 + n], pos + 4 + n


def reference_shape_ok(body):
    """False when the allowlist must refuse the frame for certain (unknown
    type or extension, wrong shape of a simple request); None when only the
    relay's full parser can tell."""
    t = body[0]
    if t not in REQUEST_TYPES:
        return False
    rest = body[1:]
    try:
        if t in (9, 11, 19):
            return len(rest) == 0
        if t == 13:
            _, p = get_string(rest, 0)
            _, p = get_string(rest, p)
            return None if len(rest) - p == 4 else False
        if t == 18:
            _, p = get_string(rest, 0)
            return None if p == len(rest) else False
        if t in (22, 23):
            pw, p = get_string(rest, 0)
            return p == len(rest) and b"\0" not in pw
        if t == 21:
            prov, p = get_string(rest, 0)
            pin, p = get_string(rest, p)
            return None if p == len(rest) and prov and b"\0" not in prov + pin else False
        if t == 27:
            name, p = get_string(rest, 0)
            if name not in EXTENSIONS:
                return False
            if name == b"query":
                return p == len(rest)
            return None
    except ValueError:
        return False
    return None


def ident_blobs(r):
    """The key blobs of an IDENTITIES_ANSWER frame."""
    n, pos, out = struct.unpack(">I", r[1:5])[0], 5, set()
    for _ in range(n):
        blob, pos = get_string(r, pos)
        _, pos = get_string(r, pos)
        out.add(blob)
    return out


def plain_fp(blob):
    """SHA256 fingerprint of a plain key blob (None for a certificate)."""
    try:
        t, _ = get_string(blob, 0)
    except ValueError:
        return None
    if b"-cert-" in t:
        return None
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class Run:
    def __init__(self, args):
        self.args = args
        self.agentd = os.environ.get("AGENTD")
        if not self.agentd:
            sys.exit("diff_relay: set AGENTD to the agentd binary")
        self.dir = tempfile.mkdtemp(prefix="agentd-diff.")
        self.work = tempfile.mkdtemp(prefix="agentd-diff-work.")
        self.env = dict(os.environ, AGENTD_DIR=self.dir)
        for k in ("AGENTD_SESSION", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR", "XDG_STATE_HOME"):
            self.env.pop(k, None)
        self.log = os.path.join(self.dir, "audit.jsonl")
        self.logpos = 0
        self.expiry = {}          # fingerprint -> when its lifetime ends
        self.n = {"refused": 0, "forwarded": 0}

    # -- set-up ---------------------------------------------------------------
    def start(self):
        # Signatures of a key added with confirm (the corpus has ssh-add -c)
        # are held for approval (DESIGN §8): a command that always says no
        # decides them at once.
        subprocess.run([self.agentd, "serve", "--approval-command", "exit 1"],
                       env=self.env, check=True)
        out = subprocess.run([self.agentd, "start", "--ttl", "10m", "--label", "diff", "--json"],
                             env=self.env, capture_output=True, text=True, check=True).stdout
        started = json.loads(out)
        self.sock, self.session = started["socket"], started["session"]
        self.env["SSH_AUTH_SOCK"] = self.sock
        up = os.path.join(os.path.dirname(self.sock), "upstream")
        self.real = os.path.join(up, "real.sock")
        os.rename(os.path.join(up, "agent.sock"), self.real)
        self.ip = Interposer(os.path.join(up, "agent.sock"), self.real)
        self.keys = []
        for t in ("ed25519", "rsa"):
            k = os.path.join(self.work, t)
            subprocess.run(["ssh-keygen", "-q", "-t", t, "-N", "", "-f", k], check=True)
            self.keys.append(k)
        self.reload_keys()

    def own_frames(self):
        """Sign and remove requests for the keys this session holds: the seeds
        whose loose forms (recase, pad) OpenSSH would still take as a loaded
        key."""
        out = []
        for k in self.keys:
            blob = base64.b64decode(open(k + ".pub").read().split()[1])
            out += [b"\x0d" + s(blob) + s(b"data") + b"\0\0\0\0", b"\x12" + s(blob)]
        return out

    def reload_keys(self):
        for k in self.keys:
            subprocess.run(["ssh-add", k], env=self.env, capture_output=True, check=True)
        self.new_events()

    def stop(self):
        subprocess.run([self.agentd, "stop", "--all"], env=self.env, capture_output=True)
        pidf = os.path.join(self.dir, "run", "agentd.pid")
        try:
            pid = int(open(pidf).read().strip())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass
        # The daemon holds a lock on its pidfile until it exits.
        subprocess.run(["flock", "-w", "20", pidf, "true"], capture_output=True)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)

    # -- observations ---------------------------------------------------------
    def new_events(self):
        """Log lines since the last call, without the daemon's own events
        (keys whose lifetime ran out, checkpoints: not anything a frame did)."""
        with open(self.log, "rb") as f:
            f.seek(self.logpos)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.logpos += end
        evs = [json.loads(x) for x in data[:end].splitlines()]
        for e in evs:
            if e["event"] == "key_loaded":
                self.expiry[e["fingerprint"]] = time.monotonic() + e["lifetime_s"]
        # Checkpoints are the log's own (one every N events), not a frame's.
        return [e for e in evs if not (e["event"] == "key_removed" and e["reason"] == "expired")
                and e["event"] != "checkpoint"]

    def idents_changed(self, before, after):
        """Why the agent's identities differ in a way no refused frame may
        cause, or None: nothing added, and nothing gone but keys whose
        lifetime ran out (the agent expires them on its own)."""
        b, a = ident_blobs(before), ident_blobs(after)
        if a - b:
            return "refused, yet the agent holds a new identity"
        for blob in b - a:
            fp = plain_fp(blob)
            if fp is not None and self.expiry.get(fp, float("inf")) > time.monotonic() + 2:
                return "refused, yet the agent lost %s" % fp
        return None

    def idents(self):
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(10)
        c.connect(self.real)
        c.sendall(frame(b"\x0b"))
        r = recv_frame(c)
        c.close()
        return r

    def send(self, body):
        """One connection: the frame, then the sentinel. Returns (reply,
        sentinel reply, frames the agent received)."""
        m = self.ip.mark()
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(10)
        c.connect(self.sock)
        c.sendall(frame(body) + frame(b"\x0b"))
        r1 = recv_frame(c)
        r2 = recv_frame(c)
        c.close()
        seen = [f for _, f in self.ip.since(m)]
        return r1, r2, seen

    # -- one case -------------------------------------------------------------
    def check(self, body):
        before = self.idents()
        r1, r2, seen = self.send(body)
        evs = self.new_events()
        why = None
        if r1 is None or r2 is None or r2[:1] != bytes([IDENTITIES_ANSWER]):
            why = "no reply within 10 s (or the connection was dropped)"
        elif not seen or seen[-1] != b"\x0b":
            why = "the sentinel did not reach the agent: %r" % seen
        elif len(seen) == 1:
            # Refused: FAILURE, nothing logged, nothing changed.
            self.n["refused"] += 1
            if r1 != bytes([FAILURE]):
                why = "the agent saw nothing, yet the reply was %r" % r1[:1]
            elif evs and not self.held_and_denied(body, evs):
                why = "refused, yet logged %s" % [e["event"] for e in evs]
            else:
                why = self.idents_changed(before, self.idents())
        elif len(seen) == 2:
            self.n["forwarded"] += 1
            why = self.forwarded(body, seen[0], r1, evs, before)
        else:
            why = "the agent received %d frames for one request" % (len(seen) - 1)
        ref = reference_shape_ok(body)
        if why is None and ref is False and len(seen) == 2:
            why = "forwarded a frame the allowlist's shape refuses"
        if why is None and ref is True and len(seen) == 1:
            why = "refused a well-formed simple request"
        return why

    def held_and_denied(self, body, evs):
        """A signature held for approval and denied by the command: its
        approval_requested, approval_decided denied, key_used refused."""
        names = [e["event"] for e in evs]
        return (body[0] == 13 and
                names == ["approval_requested", "approval_decided", "key_used"] and
                evs[1]["decision"] == "denied" and evs[1]["by"] == "command" and
                evs[2]["ok"] is False and evs[2].get("refused") == "denied")

    def forwarded(self, body, got, reply, evs, before):
        t = body[0]
        if t in (17, 25, 20, 26):
            # As sent, or rewritten with the session's lifetime cap.
            if got != body and got[0] != (25 if t in (17, 25) else 26):
                return "an add went on as type %d" % got[0]
        elif got != body:
            return "the agent received other bytes than the client sent"
        names = [e["event"] for e in evs]
        ok = reply[:1] == bytes([SUCCESS])
        if t == 13:
            if names != ["key_used"]:
                return "a forwarded signature logged %s" % names
            fp = plain_fp(get_string(body[1:], 0)[0])
            if fp is not None and evs[0]["fingerprint"] != fp:
                return "key_used names %s, the request %s" % (evs[0]["fingerprint"], fp)
            if evs[0]["ok"] != (reply[:1] == b"\x0e"):
                return "key_used ok does not match the reply"
            # A signature was made with a key the agent holds: the log must
            # name that key, not the hash of a loose blob for it.
            held = {plain_fp(b) for b in ident_blobs(before)}
            if evs[0]["ok"] and evs[0]["fingerprint"] not in held:
                return "signed, yet key_used names %s, no key the agent holds" % evs[0]["fingerprint"]
        elif t in (17, 25):
            if names != (["key_loaded"] if ok else []):
                return "an add answered %d logged %s" % (reply[0], names)
            if ok and evs[0]["lifetime_s"] > 600:
                return "an add's lifetime was not capped"
        elif t in (20, 26):
            if not ok and names:
                return "a failed smartcard add logged %s" % names
            if ok and (not names or set(names) != {"key_loaded"}):
                return "a smartcard add logged %s" % names
        elif t == 18:
            if names != (["key_removed"] if ok else []):
                return "a removal answered %d logged %s" % (reply[0], names)
            held = {plain_fp(b) for b in ident_blobs(before)}
            if ok and evs[0]["fingerprint"] not in held:
                return "removed, yet key_removed names %s, no key the agent held" % evs[0]["fingerprint"]
        elif t in (9, 19, 21):
            if set(names) - {"key_removed"} or (not ok and names):
                return "remove-all answered %d logged %s" % (reply[0], names)
        elif t in (22, 23):
            want = "agent_locked" if t == 22 else "agent_unlocked"
            if names != [want] or evs[0]["ok"] != ok:
                return "(un)lock answered %d logged %s" % (reply[0], evs)
            if t == 22 and ok:
                # Unlock again with the same password, through the relay.
                r1, _, _ = self.send(bytes([23]) + body[1:])
                if r1 != bytes([SUCCESS]):
                    return "could not unlock after a fuzzed lock"
                self.new_events()
        elif names:
            return "type %d logged %s" % (t, names)
        return None


# Names OpenSSH 9.2 reads as key types besides the exact ones (its short names
# in any case, signature names).
TYPE_ALIASES = [b"ED25519", b"ed25519", b"Ed25519", b"RSA", b"rsa", b"rsa-sha2-256",
                b"rsa-sha2-512", b"ECDSA", b"ecdsa", b"DSA", b"dsa", b"ED25519-SK",
                b"ECDSA-SK"]


def key_blob_span(body):
    """(start, end) of the key blob string in a sign, remove, add or
    session-bind body, or None."""
    try:
        if body[0] in (13, 18):
            _, end = get_string(body, 1)
            return 1, end
        if body[0] in (17, 25):
            return 1, len(body)      # the private key encoding: fields follow
        if body[0] == 27:
            name, p = get_string(body, 1)
            if name == b"session-bind@openssh.com":
                _, end = get_string(body, p)
                return p, end
    except (ValueError, IndexError):
        pass
    return None


def loose_key(rng, body):
    """The frame with its key blob in a loose form OpenSSH would read: the type
    name recased or replaced by an alias, or a field padded with zeros."""
    span = key_blob_span(body)
    if span is None:
        return body
    a, b = span
    try:
        if body[0] in (17, 25):
            blob, rest = body[1:], b""
        else:
            blob, _ = get_string(body, a)
            rest = body[b:]
        t, p = get_string(blob, 0)
        fields, q = [], p
        while q < len(blob) and len(fields) < 6:
            f, q = get_string(blob, q)
            fields.append(f)
        tail = blob[q:]
    except ValueError:
        return body
    if rng.randrange(2) or not fields:
        if rng.randrange(2):
            t = rng.choice(TYPE_ALIASES)
        else:
            t = bytes(c ^ 0x20 if chr(c).isalpha() and rng.randrange(2) else c for c in t)
            if t == t.lower():
                t = t.upper()
    else:
        i = rng.randrange(min(len(fields), 4))
        fields[i] = b"\0" * rng.randint(1, 2) + fields[i]
    blob = s(t) + b"".join(s(f) for f in fields) + tail
    if body[0] in (17, 25):
        return bytes([body[0]]) + blob
    return body[:a] + s(blob) + rest


def mutate(rng, corpus):
    base = bytearray(rng.choice(corpus))
    op = rng.randrange(11)
    if op == 0 and len(base) > 1:                  # flip bits
        for _ in range(rng.randint(1, 4)):
            base[rng.randrange(len(base))] ^= 1 << rng.randrange(8)
    elif op == 1:                                  # append 1-4 bytes
        base += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    elif op == 2 and len(base) > 1:                # cut the tail
        del base[len(base) - rng.randint(1, min(4, len(base) - 1)):]
    elif op == 3 and len(base) > 1:                # delete a byte inside
        del base[rng.randrange(1, len(base))]
    elif op == 4:                                  # insert a byte inside
        base.insert(rng.randrange(1, len(base) + 1), rng.randrange(256))
    elif op == 5:                                  # another type byte
        base[0] = rng.choice(sorted(REQUEST_TYPES) + [rng.randrange(256)])
    elif op == 6 and len(base) > 5:                # a length field off by some
        i = rng.randrange(1, len(base) - 3)
        v = (struct.unpack(">I", bytes(base[i:i + 4]))[0] + rng.choice((-1, 1, 2, -4, 1 << 24))) & 0xffffffff
        base[i:i + 4] = struct.pack(">I", v)
    elif op == 7:                                  # random bytes
        base = bytearray([rng.choice(sorted(REQUEST_TYPES))] +
                         [rng.randrange(256) for _ in range(rng.randrange(0, 64))])
    elif op == 8:
        pass                                       # the real frame, unchanged
    elif op in (9, 10):                            # a loose key blob
        base = bytearray(loose_key(rng, bytes(base)))
    if not base:
        base = bytearray(b"\x0b")
    return bytes(base)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", default="build-fuzz/diff_relay")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    corpus = []
    for f in sorted(os.listdir(a.corpus)):
        b = open(os.path.join(a.corpus, f), "rb").read()
        if 0 < len(b) <= 256 * 1024 - 16:
            corpus.append(b)
    # Requests only as seeds (the corpus holds replies too), plus a few built
    # here: session-bind, query, lock/unlock, remove-all.
    corpus = [b for b in corpus if b[0] in REQUEST_TYPES] + [
        b"\x1b" + s(b"query"), b"\x13", b"\x09", b"\x16" + s(b"pw"), b"\x17" + s(b"pw"),
        b"\x15" + s(b"/nonexistent/p11.so") + s(b"")]
    if len(corpus) < 5:
        print("diff_relay: corpus %s has too few requests" % a.corpus, file=sys.stderr)
        return 2
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    run = Run(a)
    rc = 0
    try:
        run.start()
        corpus += run.own_frames()
        deadline = time.monotonic() + a.seconds
        i = 0
        while time.monotonic() < deadline:
            body = mutate(rng, corpus)
            why = run.check(body)
            i += 1
            if why is not None:
                os.makedirs(a.out, exist_ok=True)
                path = os.path.join(a.out, "failure-%d" % i)
                open(path, "wb").write(body)
                print("diff_relay: frame %d (type %d, %d bytes, seed %d): %s; saved as %s" %
                      (i, body[0], len(body), seed, why, path), file=sys.stderr)
                rc = 1
                break
            if i % 50 == 0 and len(ident_blobs(run.idents())) < len(run.keys):
                run.reload_keys()
        if rc == 0:
            print("diff_relay: %d frames in %.0fs (seed %d): %d refused by the relay, "
                  "%d forwarded with their events" % (i, a.seconds, seed, run.n["refused"],
                                                     run.n["forwarded"]))
    finally:
        run.stop()
        try:
            dlog = open(os.path.join(run.dir, "agentd.log"), errors="replace").read()
        except OSError:
            dlog = ""
        if "Sanitizer" in dlog or "runtime error:" in dlog:
            print("diff_relay: sanitizer report from the daemon:\n" + dlog[-3000:], file=sys.stderr)
            rc = 1
        if rc == 0:
            r = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..",
                                "verify_chain.py"), run.log], capture_output=True, text=True)
            if r.returncode != 0:
                print("diff_relay: audit chain broken: %s" % r.stdout + r.stderr, file=sys.stderr)
                rc = 1
        run.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main())
