#!/usr/bin/env python3
"""A fake agentd daemon for the client tests: it listens on a control socket
(and optionally a fake agent socket), records every byte any client sends it,
and answers as MODE says. Nothing here is trusted by a correct client unless
it runs as the client's uid in a private directory.

  fake-daemon.py --socket PATH --record FILE [--mode MODE] [--values FILE]
                 [--agent-socket PATH] [--drop UID:GID] [--dir-mode 0755]
                 [--ready FILE]

--drop binds as the caller, then switches to UID:GID before listen(2): the
peer credentials a client sees (SO_PEERCRED) are the listener's at listen.
--dir-mode creates the socket's directory with that mode first.
--ready is written once everything listens.
Modes:
  reply    answer start/add/status/stop from --values (a JSON object whose
           keys are merged into the reply), "ok": true
  close    accept and close at once, reading nothing
  garbage  read the request, send bytes that are not a frame, close
  hugelen  read the request, send a length header of 2^32-1, close
  notjson  read the request, send a well-framed body that is not JSON
  short    read the request, send half a frame, close
  hang     read the request, never answer
  backlog  never accept; the backlog is filled so connect(2) blocks
  sigpipe  reply ok to status, after noting in the record file whether the
           client ignores SIGPIPE ("SigIgn-PIPE yes|no")
"""
import argparse, json, os, select, socket, struct, sys


def read_frame(c):
    """Reads one frame (or what comes before EOF / 5 s); returns the bytes."""
    data = b""
    c.settimeout(5)
    try:
        while True:
            if len(data) >= 4:
                n = struct.unpack(">I", data[:4])[0]
                if len(data) >= 4 + n:
                    break
            b = c.recv(65536)
            if not b:
                break
            data += b
    except OSError:
        pass
    return data


def frame(obj):
    body = json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body


def record(path, what):
    with open(path, "ab") as f:
        f.write(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--mode", default="reply")
    ap.add_argument("--values")
    ap.add_argument("--agent-socket")
    ap.add_argument("--drop")
    ap.add_argument("--dir-mode")
    ap.add_argument("--ready")
    a = ap.parse_args()

    if a.dir_mode:
        d = os.path.dirname(a.socket)
        os.mkdir(d)
        os.chmod(d, int(a.dir_mode, 8))
    values = {}
    if a.values:
        with open(a.values) as f:
            values = json.load(f)
    open(a.record, "ab").close()

    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.bind(a.socket)
    os.chmod(a.socket, 0o777)
    agent = None
    if a.agent_socket:
        agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        agent.bind(a.agent_socket)
        os.chmod(a.agent_socket, 0o777)
    if a.drop:
        uid, gid = (int(x) for x in a.drop.split(":"))
        os.chown(a.record, uid, gid)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    fillers = []
    if a.mode == "backlog":
        ctl.listen(0)
        # Linux lets backlog+1 connections wait; fill them so the next
        # connect(2) blocks until we accept, which we never do.
        for _ in range(2):
            f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            f.setblocking(False)
            try:
                f.connect(a.socket)
            except BlockingIOError:
                pass
            fillers.append(f)
    else:
        ctl.listen(16)
    if agent is not None:
        agent.listen(16)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")

    held = []
    while True:
        rl = [ctl] + ([agent] if agent is not None else [])
        if a.mode == "backlog":
            rl = [agent] if agent is not None else []
        r, _, _ = select.select(rl, [], [], None if rl else 3600)
        for s in r:
            c, _ = s.accept()
            try:
                serve_one(a, s, c, agent, values, held)
            except OSError:
                c.close()


def serve_one(a, s, c, agent, values, held):
    """Handles one accepted connection c as the mode says."""
    if s is agent:
        data = read_frame(c)
        record(a.record, b"AGENT:" + data)
        c.close()
        return
    if a.mode == "close":
        c.close()
        return
    if a.mode == "sigpipe":
        ucred = c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                             struct.calcsize("3i"))
        pid = struct.unpack("3i", ucred)[0]
        ign = 0
        with open("/proc/%d/status" % pid) as st:
            for line in st:
                if line.startswith("SigIgn:"):
                    ign = int(line.split()[1], 16)
        yes = "yes" if ign & (1 << (13 - 1)) else "no"
        record(a.record, ("SigIgn-PIPE %s\n" % yes).encode())
        read_frame(c)
        c.sendall(frame({"ok": True, "sessions": []}))
        c.close()
        return
    data = read_frame(c)
    record(a.record, data)
    if a.mode == "garbage":
        c.sendall(b"this is not a frame\n")
    elif a.mode == "hugelen":
        c.sendall(b"\xff\xff\xff\xff")
    elif a.mode == "notjson":
        c.sendall(struct.pack(">I", 8) + b"not json")
    elif a.mode == "short":
        c.sendall(struct.pack(">I", 100) + b'{"ok": tr')
    elif a.mode == "hang":
        held.append(c)
        return
    else:
        try:
            req = json.loads(data[4:])
        except ValueError:
            req = {}
        rep = {"ok": True}
        if req.get("cmd") == "status":
            rep["sessions"] = []
        if req.get("cmd") == "add":
            rep["socket"] = a.agent_socket or "/nonexistent"
            rep["lifetime_s"] = 60
        rep.update(values.get(req.get("cmd"), {}))
        c.sendall(frame(rep))
    c.close()


if __name__ == "__main__":
    sys.exit(main())
