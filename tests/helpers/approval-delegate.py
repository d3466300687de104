#!/usr/bin/env python3
"""approval-delegate.py PORTFILE LOGFILE ANSWER...: an HTTP delegate for
agentd's held requests on 127.0.0.1 (a free port, written to PORTFILE).
Each POST gets the next ANSWER (a JSON text) as its 200 reply, or "hold"
to never answer; each request body is appended to LOGFILE, one per line."""
import http.server
import sys
import threading

portfile, logfile, answers = sys.argv[1], sys.argv[2], sys.argv[3:]
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with lock:
            with open(logfile, "ab") as f:
                f.write(body.replace(b"\n", b" ") + b"\n")
            ans = answers.pop(0) if answers else '{"decision":"deny"}'
        if ans == "hold":
            threading.Event().wait(3600)
            return
        out = ans.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
