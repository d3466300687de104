#!/usr/bin/env python3
"""tcp-peer.py MODE ...: the far ends of tests/it_gate.sh, on 127.0.0.1.

serve PORTFILE DOWNFILE UPLOG  each connection: reads until EOF (the byte
                               count is appended to UPLOG), then sends
                               DOWNFILE and closes.
reset PORTFILE                 each connection: sends 1 MiB, then RST.
flood PORTFILE                 each connection: sends zeros until it fails.
slow PORTFILE                  each connection: one byte a second.
blackhole PORTFILE             a listener whose accept queue it fills itself
                               and never accepts from: a connect hangs.
client PORT UPFILE DOWNOUT     sends UPFILE, half-closes, writes what comes
                               back to DOWNOUT.
many PORT N UPFILE DOWNFILE    N clients at once; each must get DOWNFILE.
"""
import os, socket, struct, sys, threading, time

def listener(portfile):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    return s

def serve_loop(s, handler):
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()

def main():
    mode = sys.argv[1]
    if mode == "serve":
        down = open(sys.argv[3], "rb").read()
        log = sys.argv[4]
        lock = threading.Lock()
        def h(c):
            n = 0
            while True:
                b = c.recv(65536)
                if not b:
                    break
                n += len(b)
            with lock, open(log, "a") as f:
                f.write("%d\n" % n)
            c.sendall(down)
            c.close()
        serve_loop(listener(sys.argv[2]), h)
    elif mode == "reset":
        def h(c):
            try:
                c.sendall(b"x" * (1 << 20))
                time.sleep(0.3)
            finally:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                c.close()
        serve_loop(listener(sys.argv[2]), h)
    elif mode == "flood":
        def h(c):
            z = b"\0" * 65536
            try:
                while True:
                    c.sendall(z)
            except OSError:
                c.close()
        serve_loop(listener(sys.argv[2]), h)
    elif mode == "slow":
        def h(c):
            try:
                while True:
                    c.sendall(b".")
                    time.sleep(1)
            except OSError:
                c.close()
        serve_loop(listener(sys.argv[2]), h)
    elif mode == "blackhole":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(0)
        port = s.getsockname()[1]
        held = []
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            held.append(c)
        time.sleep(0.5)
        with open(sys.argv[2] + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(sys.argv[2] + ".tmp", sys.argv[2])
        while True:
            time.sleep(60)
    elif mode == "client":
        c = socket.create_connection(("127.0.0.1", int(sys.argv[2])), 10)
        c.sendall(open(sys.argv[3], "rb").read())
        c.shutdown(socket.SHUT_WR)
        with open(sys.argv[4], "wb") as f:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                f.write(b)
    elif mode == "many":
        port, n = int(sys.argv[2]), int(sys.argv[3])
        up = open(sys.argv[4], "rb").read()
        down = open(sys.argv[5], "rb").read()
        socks = [socket.create_connection(("127.0.0.1", port), 20)
                 for _ in range(n)]
        bad = []
        def run(c, i):
            c.sendall(up)
            c.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break
                got += b
            if got != down:
                bad.append(i)
        ts = [threading.Thread(target=run, args=(c, i)) for i, c in enumerate(socks)]
        for t in ts: t.start()
        for t in ts: t.join()
        if bad:
            sys.exit("clients with wrong data: %s" % bad)
    else:
        sys.exit("unknown mode " + mode)

main()
