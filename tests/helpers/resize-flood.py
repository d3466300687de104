#!/usr/bin/env python3
"""A linked shell's client that floods the daemon with resize frames.

    resize-flood.py CONTROL_SOCK SESSION SECONDS COLS ROWS

Speaks the shell control protocol (docs/PROTOCOL.md): starts `sh -c 'read x;
stty size'` on a PTY with pipes of ours as stdin and stdout, sends resize
frames without pause for SECONDS (sizes that change every frame), then one
last resize to COLS x ROWS, waits, lets the command read its line and prints
what it wrote (the size it sees) and the exit event. Exit 0 when the shell
exited 0.
"""
import json
import os
import socket
import struct
import sys
import time

sock, session, secs, cols, rows = sys.argv[1], sys.argv[2], float(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5])


def frame(obj):
    body = json.dumps(obj).encode()
    return struct.pack(">I", len(body)) + body


def recv_frame(s):
    hdr = b""
    while len(hdr) < 4:
        b = s.recv(4 - len(hdr))
        if not b:
            raise EOFError("daemon closed the connection")
        hdr += b
    n = struct.unpack(">I", hdr)[0]
    body = b""
    while len(body) < n:
        b = s.recv(n - len(body))
        if not b:
            raise EOFError("daemon closed the connection")
        body += b
    return json.loads(body)


in_r, in_w = os.pipe()
out_r, out_w = os.pipe()
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
req = {"cmd": "shell", "session": session, "tty": True, "cols": 80, "rows": 24,
       "argv": ["sh", "-c", "read x; stty size"], "env": {"TERM": "dumb"}}
socket.send_fds(s, [frame(req)], [in_r, out_w])
os.close(in_r)
os.close(out_w)
reply = recv_frame(s)
if not reply.get("ok"):
    sys.exit("refused: %s" % reply)
sent = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    burst = b"".join(frame({"cmd": "resize", "cols": 100 + (sent + i) % 50,
                            "rows": 30 + (sent + i) % 20}) for i in range(64))
    s.sendall(burst)
    sent += 64
s.sendall(frame({"cmd": "resize", "cols": cols, "rows": rows}))
sent += 1
print("sent %d resize frames" % sent, file=sys.stderr)
time.sleep(1)		# the last size is applied within 100 ms
os.write(in_w, b"go\n")
os.close(in_w)
out = b""
while True:
    b = os.read(out_r, 4096)
    if not b:
        break
    out += b
ev = recv_frame(s)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print(json.dumps(ev))
sys.exit(0 if ev.get("exit_status") == 0 else 1)
