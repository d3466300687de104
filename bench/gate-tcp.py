#!/usr/bin/env python3
"""gate-tcp.py DIRECT_PORT GATE_PORT MB RUNS CONNS: throughput and connect
overhead of the egress gate against the same TCP sink reached directly.

The sink (DIRECT_PORT, started by gate.sh with `gate-tcp.py sink PORTFILE`)
reads everything and answers one byte at EOF; on connect it first writes one
byte, so a connect is timed to that first byte (through the gate this
includes the durable egress_opened). Direct and gate runs alternate; the
ratio is the median of each pair's ratio."""
import os, socket, statistics, sys, time

def sink(portfile):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    open(portfile, "w").write(str(s.getsockname()[1]))
    buf = bytearray(1 << 20)
    while True:
        c, _ = s.accept()
        if os.fork() == 0:
            s.close()
            c.sendall(b"!")
            while c.recv_into(buf):
                pass
            c.sendall(b".")
            os._exit(0)
        c.close()
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass

def push(port, nbytes):
    chunk = memoryview(bytearray(1 << 20))
    c = socket.create_connection(("127.0.0.1", port))
    assert c.recv(1) == b"!"
    t0 = time.perf_counter()
    left = nbytes
    while left > 0:
        left -= c.send(chunk[:min(left, len(chunk))])
    c.shutdown(socket.SHUT_WR)
    assert c.recv(1) == b"."
    t = time.perf_counter() - t0
    c.close()
    return t

def connect_ms(port, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        c = socket.create_connection(("127.0.0.1", port))
        assert c.recv(1) == b"!"
        out.append((time.perf_counter() - t0) * 1000)
        c.close()
    return statistics.median(out)

if sys.argv[1] == "sink":
    sink(sys.argv[2])
    sys.exit(0)
direct, gate, mb, runs, conns = map(int, sys.argv[1:6])
nbytes = mb << 20
ratios = []
print("run  direct MB/s  gate MB/s  ratio")
for i in range(runs):
    order = [direct, gate] if i % 2 == 0 else [gate, direct]
    t = {p: push(p, nbytes) for p in order}
    r = t[direct] / t[gate]
    ratios.append(r)
    print("%3d  %11.0f  %9.0f  %.3f" % (i + 1, mb / t[direct], mb / t[gate], r))
print("median ratio gate/direct: %.3f" % statistics.median(ratios))
cd, cg = connect_ms(direct, conns), connect_ms(gate, conns)
print("connect to first byte, median of %d: direct %.3f ms, gate %.3f ms, "
      "overhead %.3f ms" % (conns, cd, cg, cg - cd))
