#!/usr/bin/env python3
"""A test session recorder speaking Tailscale's protocol, V1 and V2.

    recorder.py --port-file F --out DIR [--mode v1|v2]
                [--misbehave none|refuse|stall|error|drop] [--after BYTES]

Binds 127.0.0.1 port 0 and writes the port to F once it listens.
V2 (--mode v2, the default): h2c with prior knowledge; HEAD /v2/record is
200; POST /v2/record answers 200 at once, then streams {"ack": N}\\n (N = body
bytes received) on every data frame and every 0.5 s when idle; a final ack
when the body ends. V1 (--mode v1, or an HTTP/1.1 request): POST /record,
100 Continue, a chunked body, 200 at the end. In v1 mode an h2 preface is
answered 505 (an HTTP/1-only server).

Each upload k (1, 2, … in arrival order) is saved as DIR/up-K.cast (the body
bytes as received) and DIR/up-K.json when it ends: {"version", "bytes",
"acked", "end"} where end is complete, refused, stalled, error, dropped or
reset.

Misbehaviour, once at least --after body bytes arrived (refuse: at once):
refuse = 403 instead of 200/100; stall = no more acks (V2); error = a final
{"error": "..."} frame (V2; V1 answers 500 and closes); drop = the TCP
connection is reset; hang = stop reading (the connection stays open), so the
sender's buffers fill.
"""
import argparse
import json
import os
import socket
import struct
import threading

import h2.config
import h2.connection
import h2.events
import h2.settings

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

lock = threading.Lock()
counter = [0]


class Upload:
    def __init__(self, out, version):
        with lock:
            counter[0] += 1
            self.k = counter[0]
        self.out = out
        self.version = version
        self.path = os.path.join(out, "up-%d.cast" % self.k)
        self.f = open(self.path, "wb")
        self.bytes = 0
        self.acked = 0
        self.done = False
        self.stalled = False

    def data(self, b):
        self.f.write(b)
        self.f.flush()
        self.bytes += len(b)

    def finish(self, end):
        if self.done:
            return
        self.done = True
        self.f.close()
        tmp = os.path.join(self.out, ".up-%d.json" % self.k)
        with open(tmp, "w") as j:
            json.dump({"version": self.version, "bytes": self.bytes,
                       "acked": self.acked, "end": end}, j)
        os.rename(tmp, os.path.join(self.out, "up-%d.json" % self.k))


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


def recv_exact(sock, buf, n):
    while len(buf) < n:
        d = sock.recv(65536)
        if not d:
            raise EOFError
        buf += d
    return buf


def serve_v1(sock, buf, args):
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            return
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    line = head.split(b"\r\n")[0].decode("latin-1").split()
    if len(line) < 2 or line[0] != "POST" or line[1] != "/record":
        sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        return
    up = Upload(args.out, 1)
    if args.misbehave == "refuse":
        sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
        up.finish("refused")
        return
    sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
    try:
        while True:
            while b"\r\n" not in buf:
                buf = recv_exact(sock, buf, len(buf) + 1)
            size, buf = buf.split(b"\r\n", 1)
            n = int(size.split(b";")[0], 16)
            buf = recv_exact(sock, buf, n + 2)
            if n == 0:
                break
            up.data(buf[:n])
            buf = buf[n + 2:]
            if up.bytes >= args.after and args.misbehave == "drop":
                up.finish("dropped")
                reset(sock)
                return
            if up.bytes >= args.after and args.misbehave == "error":
                sock.sendall(b"HTTP/1.1 500 Internal Server Error\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                up.finish("error")
                return
    except (EOFError, OSError):
        up.finish("reset")
        return
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    up.finish("complete")


def serve_v2(sock, buf, args):
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
        client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE:
                          1 << 24})
    conn.increment_flow_control_window(1 << 24)
    sock.sendall(conn.data_to_send())
    uploads = {}
    sock.settimeout(0.5)

    def ack(sid, up):
        if up.stalled or up.done:
            return
        up.acked = up.bytes
        conn.send_data(sid, (json.dumps({"ack": up.bytes}) + "\n").encode())

    data = buf
    while True:
        if not data:
            try:
                data = sock.recv(1 << 20)
            except socket.timeout:
                for sid, up in list(uploads.items()):
                    ack(sid, up)
                sock.sendall(conn.data_to_send())
                continue
            except OSError:
                data = b""
            if not data:
                for up in uploads.values():
                    up.finish("reset")
                return
        events = conn.receive_data(data)
        data = b""
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                h = dict(ev.headers)
                method, path = h.get(":method"), h.get(":path")
                if method == "HEAD" and path == "/v2/record":
                    conn.send_headers(ev.stream_id, [(":status", "200")],
                                      end_stream=True)
                elif method == "POST" and path == "/v2/record":
                    up = Upload(args.out, 2)
                    if args.misbehave == "refuse":
                        conn.send_headers(ev.stream_id, [(":status", "403")],
                                          end_stream=True)
                        up.finish("refused")
                        continue
                    conn.increment_flow_control_window(1 << 24,
                                                       ev.stream_id)
                    conn.send_headers(ev.stream_id, [(":status", "200")])
                    uploads[ev.stream_id] = up
                else:
                    conn.send_headers(ev.stream_id, [(":status", "404")],
                                      end_stream=True)
            elif isinstance(ev, h2.events.DataReceived):
                conn.acknowledge_received_data(ev.flow_controlled_length,
                                               ev.stream_id)
                up = uploads.get(ev.stream_id)
                if up is None or up.done:
                    continue
                up.data(ev.data)
                if up.bytes >= args.after and args.misbehave != "none":
                    if args.misbehave == "drop":
                        for u in uploads.values():
                            u.finish("dropped")
                        reset(sock)
                        return
                    if args.misbehave == "hang":
                        up.finish("hung")
                        sock.sendall(conn.data_to_send())
                        threading.Event().wait(120)
                        return
                    if args.misbehave == "stall":
                        up.stalled = True
                    elif args.misbehave == "error":
                        conn.send_data(ev.stream_id, json.dumps(
                            {"error": "disk full"}).encode() + b"\n",
                            end_stream=True)
                        up.finish("error")
                        continue
                ack(ev.stream_id, up)
            elif isinstance(ev, h2.events.StreamEnded):
                up = uploads.pop(ev.stream_id, None)
                if up is not None and not up.done:
                    ack(ev.stream_id, up)
                    conn.end_stream(ev.stream_id)
                    up.finish("stalled" if up.stalled else "complete")
            elif isinstance(ev, h2.events.StreamReset):
                up = uploads.pop(ev.stream_id, None)
                if up is not None:
                    up.finish("stalled" if up.stalled else "reset")
            elif isinstance(ev, h2.events.ConnectionTerminated):
                for up in uploads.values():
                    up.finish("reset")
                sock.sendall(conn.data_to_send())
                return
        try:
            sock.sendall(conn.data_to_send())
        except OSError:
            for up in uploads.values():
                up.finish("reset")
            return


def handle(sock, args):
    try:
        buf = b""
        while len(buf) < len(PREFACE) and PREFACE.startswith(buf):
            d = sock.recv(65536)
            if not d:
                return
            buf += d
        if buf.startswith(PREFACE):
            if args.mode == "v1":
                sock.sendall(b"HTTP/1.1 505 HTTP Version Not Supported\r\n"
                             b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
            serve_v2(sock, buf, args)
        else:
            serve_v1(sock, buf, args)
    except Exception as e:  # a test helper: say why, keep serving
        print("recorder: %r" % (e,), flush=True)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["v1", "v2"], default="v2")
    ap.add_argument("--misbehave", default="none",
                    choices=["none", "refuse", "stall", "error", "drop",
                             "hang"])
    ap.add_argument("--after", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    os.rename(tmp, args.port_file)
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=handle, args=(s, args), daemon=True).start()


if __name__ == "__main__":
    main()
