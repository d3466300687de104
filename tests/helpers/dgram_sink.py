#!/usr/bin/env python3
"""A stand-in for journald's native socket or systemd's NOTIFY_SOCKET.

dgram_sink.py journal PATH OUT   binds an AF_UNIX SOCK_DGRAM socket at PATH
    and writes each journal entry it receives (native protocol: "NAME=value\\n"
    or "NAME\\n" + u64 LE length + bytes + "\\n"; a large entry comes as a
    memfd passed with SCM_RIGHTS) to OUT as one JSON object per line, with
    every field's values as a list (a field may repeat).
dgram_sink.py notify PATH OUT    writes each datagram to OUT as one JSON
    string per line; on READY=1 it also records whether the control socket
    named by $AGENTD_CONTROL accepts a connection at that moment.
dgram_sink.py stuck PATH         binds and never reads (a hung journald).
dgram_sink.py held PATH OUT      binds, reads nothing until SIGUSR1, then
    works as in journal mode (a journald that hangs and recovers).
"""
import array
import json
import os
import signal
import socket
import struct
import sys
import time


def parse_entry(data):
    fields = {}
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            name, value = line.split(b"=", 1)
            i = nl + 1
        else:
            name = line
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + n]
            assert data[nl + 9 + n:nl + 10 + n] == b"\n", "bad framing"
            i = nl + 10 + n
        fields.setdefault(name.decode(), []).append(
            value.decode("utf-8", "surrogateescape"))
    return fields


def main():
    mode, path = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    if mode == "stuck":
        while True:
            time.sleep(3600)
    if mode == "held":
        signal.signal(signal.SIGUSR1, lambda *_: None)
        signal.pause()
        mode = "journal"
    out = open(sys.argv[3], "a", buffering=1)
    while True:
        fds = array.array("i")
        data, anc, _, _ = s.recvmsg(1 << 20, socket.CMSG_SPACE(4 * 4))
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[:len(cdata) - len(cdata) % 4])
        for fd in fds:
            with os.fdopen(fd, "rb") as f:
                data = f.read()
        if mode == "journal":
            out.write(json.dumps(parse_entry(data)) + "\n")
        else:
            rec = {"msg": data.decode()}
            ctl = os.environ.get("AGENTD_CONTROL")
            if "READY=1" in rec["msg"].split("\n") and ctl:
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    c.connect(ctl)
                    rec["control_listens"] = True
                except OSError:
                    rec["control_listens"] = False
                c.close()
            out.write(json.dumps(rec) + "\n")


main()
