#!/usr/bin/env python3
"""Drives headless Chromium over its DevTools protocol on a pipe
(--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), stdlib only,
to check an `auditctl report` page as a reviewer's browser sees it.

    cdp.py check REPORT.html --rows N [--literal TEXT]... [--label-cast LABEL
           --cast-text TEXT] [--screenshot FILE] [--filter WORD --filter-rows N]
    cdp.py time REPORT.html        # ms from navigation to a usable page

check fails (exit 1, one line per problem) on any console error, uncaught
exception, CSP violation or failed load, on any network request other than
the page itself, on any dialog (alert), when the sessions table has not N
rows, when a literal label is not shown as text, or when the recording of the
session labelled LABEL does not show TEXT after a seek to its end."""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    sys.exit("cdp.py: no chromium found (apt-get install chromium)")


class Browser:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="cdp-")
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # dup2 onto 3 and 4 clears close-on-exec: move ours out of the way.
        fds = [os.dup(f) if f < 10 else f for f in (to_r, from_w)]
        fds = [os.dup2(f, 100 + i, inheritable=False) for i, f in enumerate(fds)]
        args = [find_chromium(), "--headless", "--remote-debugging-pipe",
                "--user-data-dir=" + self.tmp, "--no-first-run",
                "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking",
                "--disable-dev-shm-usage",  # containers: a small /dev/shm
                "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                "--disable-features=MediaRouter,OptimizationHints,Translate",
                "--enable-logging=stderr", "--v=0", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # root (CI): no user namespaces
        self.log = open(os.path.join(self.tmp, "chromium.log"), "w")
        self.pid = os.posix_spawn(args[0], args, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, fds[0], 3), (os.POSIX_SPAWN_DUP2, fds[1], 4),
            (os.POSIX_SPAWN_DUP2, self.log.fileno(), 2),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)])
        for f in set(fds + [to_r, from_w]):
            os.close(f)
        self.wfd, self.rfd = to_w, from_r
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.cv = threading.Condition()
        self.closed = False
        threading.Thread(target=self._reader, daemon=True).start()
        self.session = None

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.rfd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.cv:
                    self.closed = True
                    self.cv.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                m = json.loads(msg)
                if m.get("method") == "Page.javascriptDialogOpening":
                    # Recorded as a problem; dismissed so the page goes on.
                    os.write(self.wfd, json.dumps({
                        "id": 1 << 30, "sessionId": m.get("sessionId"),
                        "method": "Page.handleJavaScriptDialog",
                        "params": {"accept": True}}).encode() + b"\0")
                with self.cv:
                    if "id" in m:
                        self.replies[m["id"]] = m
                    else:
                        self.events.append(m)
                    self.cv.notify_all()

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        i = self.next_id
        m = {"id": i, "method": method, "params": params or {}}
        if session and self.session:
            m["sessionId"] = self.session
        os.write(self.wfd, json.dumps(m).encode() + b"\0")
        end = time.monotonic() + timeout
        with self.cv:
            while i not in self.replies:
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    raise RuntimeError("no answer to %s" % method)
                self.cv.wait(left)
            r = self.replies.pop(i)
        if "error" in r:
            raise RuntimeError("%s: %s" % (method, r["error"]))
        return r.get("result", {})

    def wait_event(self, method, timeout=30):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for e in self.events:
                    if e.get("method") == method:
                        return e
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    raise RuntimeError("no %s event" % method)
                self.cv.wait(left)

    def open_page(self, width=1280, height=900):
        t = self.send("Target.createTarget", {"url": "about:blank"}, False)
        a = self.send("Target.attachToTarget",
                      {"targetId": t["targetId"], "flatten": True}, False)
        self.session = a["sessionId"]
        for d in ("Page", "Runtime", "Log", "Network"):
            self.send(d + ".enable")
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": False})

    def navigate(self, url, timeout=60):
        with self.cv:
            self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", timeout)

    def eval(self, expr, timeout=30):
        r = self.send("Runtime.evaluate", {
            "expression": expr, "awaitPromise": True, "returnByValue": True,
            "timeout": timeout * 1000}, timeout=timeout + 5)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %s: %s" % (expr[:60],
                               json.dumps(r["exceptionDetails"])[:400]))
        return r["result"].get("value")

    def problems(self, page_url):
        out = []
        with self.cv:
            evs = list(self.events)
        for e in evs:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                out.append("exception: " + json.dumps(p["exceptionDetails"])[:300])
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console %s: %s" % (p["type"], json.dumps(p.get("args"))[:300]))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append("log error (%s): %s" % (p["entry"].get("source"),
                                                   p["entry"].get("text", "")[:300]))
            elif m == "Network.requestWillBeSent" and p["request"]["url"] != page_url:
                out.append("network request: " + p["request"]["url"][:200])
            elif m == "Network.loadingFailed":
                out.append("loading failed: " + p.get("errorText", ""))
            elif m == "Page.javascriptDialogOpening":
                out.append("dialog (%s): %s" % (p.get("type"), p.get("message")))
        return out

    def screenshot(self, path, filt=None):
        if filt:
            self.eval("(function () { var f = document.getElementById('filter');"
                      " f.value = %s; f.dispatchEvent(new Event('input')); })()"
                      % json.dumps(filt))
        self.eval("window.scrollTo(0, 0)")
        h = self.eval("Math.ceil(document.documentElement.scrollHeight)")
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": min(int(h), 4000), "deviceScaleFactor": 1,
            "mobile": False})
        time.sleep(0.3)
        import base64
        r = self.send("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:
            pass
        try:
            os.close(self.wfd)
        except OSError:
            pass
        end = time.monotonic() + 10
        while time.monotonic() < end:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.1)
        else:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def check(a):
    url = "file://" + os.path.abspath(a.report)
    b = Browser()
    bad = []
    try:
        b.open_page()
        b.navigate(url)
        rows = b.eval("document.querySelectorAll('#sessions-table .tbody .tr').length")
        if rows != a.rows:
            bad.append("table has %s rows, expected %d" % (rows, a.rows))
        for lit in a.literal:
            shown = b.eval("Array.from(document.querySelectorAll("
                           "'#sessions-table .tbody .td:nth-child(2)')).some("
                           "function (td) { return td.textContent === %s; })"
                           % json.dumps(lit))
            if not shown:
                bad.append("label not shown as literal text: %r" % lit)
        # Markup injected by a label would add elements: only ours exist.
        extra = b.eval("document.querySelectorAll('img, iframe, object, embed, "
                       "#sessions-table script, #sessions-table style, "
                       "#detail script').length + document.querySelectorAll("
                       "'script:not([type])').length - 2")
        if extra != 0:
            bad.append("%d unexpected elements (injected markup?)" % extra)
        if a.filter:
            b.eval("(function () { var f = document.getElementById('filter');"
                   " f.value = %s; f.dispatchEvent(new Event('input')); })()"
                   % json.dumps(a.filter))
            n = b.eval("Array.from(document.querySelectorAll("
                       "'#sessions-table .tbody .tr')).filter(function (r) {"
                       " return getComputedStyle(r).display !== 'none'; })"
                       ".length")
            if n != a.filter_rows:
                bad.append("filter %r shows %s rows, expected %d" % (a.filter, n, a.filter_rows))
            b.eval("(function () { var f = document.getElementById('filter');"
                   " f.value = ''; f.dispatchEvent(new Event('input')); })()")
            # Sorting by duration: ascending, then descending, all rows.
            order = b.eval("(function () { var th = document.querySelectorAll("
                           "'#sessions-table .th')[4]; function vals() { return "
                           "Array.from(document.querySelectorAll('#sessions-table"
                           " .tbody .tr')).map(function (r) { return Number(r."
                           "children[4].getAttribute('data-v')); }); } th.click();"
                           " var up = vals(); th.click(); return [up, vals()];"
                           " })()")
            up, down = order
            if up != sorted(up) or down != sorted(down, reverse=True) or \
                    len(up) != a.rows:
                bad.append("sorting by duration does not order the rows")
        if a.label_cast:
            i = b.eval("agentdReport.data.sessions.findIndex(function (s) {"
                       " return s.label === %s; })" % json.dumps(a.label_cast))
            if i is None or i < 0:
                bad.append("no session labelled %r" % a.label_cast)
            else:
                b.eval("agentdReport.open(%d)" % i)
                tl = b.eval("document.querySelectorAll('#detail .timeline "
                            "line.ev').length")
                if not tl:
                    bad.append("the session's timeline shows no event")
                keys = b.eval("Object.keys(agentdReport.players)")
                if not keys:
                    bad.append("no player for the session's recording")
                else:
                    b.eval("agentdReport.players[%s].seek('100%%')"
                           % json.dumps(keys[0]))
                    text, end = "", time.monotonic() + 20
                    while time.monotonic() < end:
                        text = b.eval("(document.querySelector('#detail "
                                      ".ap-term') || {}).textContent || ''")
                        if all(t in text for t in a.cast_text):
                            break
                        time.sleep(0.2)
                    else:
                        bad.append("player does not show %r after a seek; "
                                   "shows %r" % (a.cast_text, text[:300]))
        time.sleep(0.5)  # late errors (CSP reports are asynchronous)
        if a.screenshot:
            b.screenshot(a.screenshot, a.screenshot_filter)
    except RuntimeError as e:   # the page broke under our script
        bad.append(str(e)[:500])
    finally:
        try:
            bad += b.problems(url)
        except Exception:
            pass
        b.close()
    for p in bad:
        print("cdp: " + p)
    return 1 if bad else 0


def timing(a):
    url = "file://" + os.path.abspath(a.report)
    b = Browser()
    try:
        b.open_page()
        t = time.monotonic()
        b.navigate(url, timeout=120)
        b.eval("document.getElementById('shown').textContent")
        ms = (time.monotonic() - t) * 1000
        print("%.0f" % ms)
        p = b.problems(url)
        for x in p:
            print("cdp: " + x, file=sys.stderr)
        return 1 if p else 0
    finally:
        b.close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("report")
    c.add_argument("--rows", type=int, required=True)
    c.add_argument("--literal", action="append", default=[])
    c.add_argument("--label-cast")
    c.add_argument("--cast-text", action="append", default=[],
                   help="text the player must show (repeatable)")
    c.add_argument("--filter")
    c.add_argument("--filter-rows", type=int)
    c.add_argument("--screenshot")
    c.add_argument("--screenshot-filter", help="filter the table first")
    t = sub.add_parser("time")
    t.add_argument("report")
    a = ap.parse_args()
    sys.exit(check(a) if a.cmd == "check" else timing(a))


if __name__ == "__main__":
    main()
