#!/usr/bin/env python3
"""test_console.py - the web console in headless Chromium against a real
lighttpd (TAP).

Chromium (Debian package "chromium") is driven over the DevTools protocol
on a pipe (--remote-debugging-pipe: JSON messages ending in NUL on file
descriptors 3 and 4), from this file with the Python standard library:
nothing is downloaded or installed, and no Node.js is needed.  Clicks and
typing are real input events (Input.dispatchMouseEvent, Input.insertText)
at the elements' positions.

The story: sign in (a wrong token first), see the sources with their
endpoints, find a logged event by its type, open it, check what the detail
shows, replay it, see the new entry linked to the original; live refresh;
the received event types; a rehearsal; no Replay button on an event that
failed an enforced signature check; a read-only token cannot replay;
payloads with markup show as text and run nothing; the token lives in the
tab's sessionStorage only; sign out.  Then the layout at 1280 x 800:
nothing marked hidden shows before sign-in, the event log fits its card
with a header per column, times are relative with the ISO time on hover,
verification on and off look different, and rehearse opens where there
are mappings.  Screenshots go to
$PORTER_SCREENSHOT_DIR (default $top_builddir/build-test/screenshots) and
their paths are printed as TAP diagnostics.

Skipped (1..0 # SKIP) when chromium or lighttpd is missing.
"""

import base64
import datetime
import fcntl
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

CHROMIUM = os.environ.get("PORTER_CHROMIUM") or h.which("chromium")
CONSOLE_DIR = os.path.join(h.TOP_SRCDIR, "console")
SHOTS = os.environ.get("PORTER_SCREENSHOT_DIR") or os.path.join(
    h.TOP_BUILDDIR, "build-test", "screenshots")
STEP_TIMEOUT = h.scaled(15)     # seconds, any wait for the page
CDP_TIMEOUT = h.scaled(20)      # seconds, any DevTools command

ENDPOINT = "src_dev_tasks_console01"
SIGNED_ENDPOINT = "src_prod_billing_console01"
XSS_TYPE = '<img src=x onerror="window.__pwned=1">'
XSS_BODY = {"event_type": XSS_TYPE, "event_id": "xss-1",
            "data": {"title": "<script>window.__pwned=2</script>",
                     "assigned_to": "u<b>1</b>"}}


# Reshapes only: the length of a task's title, as preprocess.title_len.
PREPROCESS = ("function main(ctx) { var d = ctx.body.data || {};"
              " return {title_len: String(d.title || '').length}; }")


def config():
    return {"sources": [{"key": "tasks", "name": "Task app",
                         "type": "custom", "environments": {
                             "development": {
                                 "endpoint_id": ENDPOINT, "verify": False,
                                 "event_type_path": "body.event_type",
                                 "preprocess": {"script": PREPROCESS},
                                 "idempotency": {"enabled": True,
                                                 "key_path": "body.event_id"},
                                 "mappings": [{
                                     "event_type": "task.assigned",
                                     "action": "users_identify",
                                     "params": {"id": "data.assigned_to",
                                                "name": "data.title"}}]}}}]}


class Browser:
    """Headless Chromium on a DevTools pipe; one page (a flat session)."""

    def __init__(self, profile, log):
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.cond = threading.Condition()
        self.buf = b""
        self.closed = False
        # High descriptors, so that the dup2 onto 3 and 4 never collides.
        r_cmd, w_cmd = os.pipe()
        r_evt, w_evt = os.pipe()
        fds = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20)
               for fd in (r_cmd, w_cmd, r_evt, w_evt)]
        for fd in (r_cmd, w_cmd, r_evt, w_evt):
            os.close(fd)
        r_cmd, self.w, self.r, w_evt = fds
        logfd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--no-default-browser-check",
                "--user-data-dir=" + profile, "--remote-debugging-pipe",
                "--window-size=1280,900", "about:blank"]
        acts = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, logfd, 1),
                (os.POSIX_SPAWN_DUP2, logfd, 2),
                (os.POSIX_SPAWN_DUP2, r_cmd, 3),
                (os.POSIX_SPAWN_DUP2, w_evt, 4)]
        # Everything Chromium writes stays in the throw-away profile.
        env = dict(os.environ, HOME=profile,
                   XDG_CONFIG_HOME=os.path.join(profile, "config"),
                   XDG_CACHE_HOME=os.path.join(profile, "cache"))
        env.pop("LD_PRELOAD", None)
        self.pid = os.posix_spawn(CHROMIUM, args, env, file_actions=acts,
                                  setsid=True)
        for fd in (r_cmd, w_evt, logfd):
            os.close(fd)
        h._live.append(self)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        tid = page[0]["targetId"] if page else self.call(
            "Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {
            "targetId": tid, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.send(method)
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": 900, "deviceScaleFactor": 1,
            "mobile": False})

    def _read(self):
        while True:
            try:
                chunk = os.read(self.r, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            self.buf += chunk
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                msg = json.loads(raw.decode("utf-8"))
                with self.cond:
                    if "id" in msg:
                        self.replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self.cond.notify_all()

    def call(self, method, params=None, session=None, timeout=CDP_TIMEOUT):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.w, data):]
        deadline = time.time() + timeout
        with self.cond:
            while mid not in self.replies:
                if self.closed:
                    raise RuntimeError("chromium went away")
                left = deadline - time.time()
                if left <= 0:
                    raise RuntimeError("%s: no answer in %ds" %
                                       (method, timeout))
                self.cond.wait(left)
            reply = self.replies.pop(mid)
        if "error" in reply:
            raise RuntimeError("%s: %s" % (method, reply["error"]))
        return reply.get("result", {})

    def send(self, method, params=None):
        """A command to the page's session."""
        return self.call(method, params, self.session)

    def js(self, expr):
        """Evaluate "expr" in the page (promises awaited); its value."""
        r = self.send("Runtime.evaluate", {
            "expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("js %r: %s" % (
                expr, r["exceptionDetails"].get("exception", {}).get(
                    "description", r["exceptionDetails"].get("text"))))
        return r["result"].get("value")

    def wait(self, expr, what, timeout=STEP_TIMEOUT):
        """Poll until "expr" is truthy; returns its value."""
        deadline = time.time() + timeout
        while True:
            v = self.js(expr)
            if v:
                return v
            if time.time() > deadline:
                raise RuntimeError("timed out waiting for %s (%s)" %
                                   (what, expr))
            time.sleep(0.1)

    def goto(self, url):
        self.send("Page.navigate", {"url": url})
        time.sleep(0.1)
        self.wait("document.readyState === 'complete'", "page load")

    def center(self, selector):
        """Scroll "selector" into view; its centre in CSS pixels."""
        self.wait("!!document.querySelector(%s)" % json.dumps(selector),
                  selector)
        r = self.js("""(function (s) {
            var e = document.querySelector(s);
            e.scrollIntoView({block: 'center'});
            var r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2,
                    r.width, r.height];
        })(%s)""" % json.dumps(selector))
        if r[2] == 0 or r[3] == 0:
            raise RuntimeError("%s is not visible" % selector)
        return r[0], r[1]

    def click(self, selector):
        x, y = self.center(selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {
                "type": kind, "x": x, "y": y, "button": "left",
                "clickCount": 0 if kind == "mouseMoved" else 1})

    def type(self, selector, text):
        """Click into a field, select what it holds, type "text"."""
        self.click(selector)
        self.js("document.querySelector(%s).select()" %
                json.dumps(selector))
        self.send("Input.insertText", {"text": text})

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def problems(self):
        """Page errors and console errors so far (CSP violations too)."""
        out = []
        with self.cond:
            for ev in self.events:
                m = ev.get("method")
                p = ev.get("params", {})
                if m == "Runtime.exceptionThrown":
                    out.append("exception: %s" % p.get(
                        "exceptionDetails", {}).get("text"))
                elif m == "Log.entryAdded" and \
                        p.get("entry", {}).get("level") == "error":
                    text = p["entry"].get("text", "")
                    # The 401s the sign-in test provokes on purpose.
                    if "401" not in text:
                        out.append("log: %s" % text)
                elif m == "Runtime.consoleAPICalled" and \
                        p.get("type") == "error":
                    out.append("console.error: %s" % p.get("args"))
        return out

    def close(self):
        if self in h._live:
            h._live.remove(self)
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    break
            except ChildProcessError:
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass


def ingest(srv, body):
    r = srv.post(srv.url("/receive/" + ENDPOINT), body)
    if r.status != 200:
        raise RuntimeError("ingest: %r" % (r,))
    return r.json["id"]


def rows(b):
    """The event log table: [(id, type, replay_of or None)]."""
    return b.js("""Array.prototype.map.call(
        document.querySelectorAll('#log-rows tr[data-id]'), function (tr) {
            var r = tr.querySelector('.replay-of a');
            return [tr.getAttribute('data-id'), tr.getAttribute('data-type'),
                    r ? r.textContent : null];
        })""")


def story(t, srv, b, tok, rotok, shots):
    base = "http://127.0.0.1:%d%s" % (srv.port, srv.url("/admin"))
    ids = {}
    for i in range(3):
        ingest(srv, {"event_type": "task.created", "event_id": "c%d" % i,
                     "data": {"task_id": "t%d" % i}})
    ids["assigned"] = ingest(srv, {
        "event_type": "task.assigned", "event_id": "a1",
        "data": {"task_id": "task_123", "title": "Review the Q4 roadmap",
                 "assigned_to": "user_456"}})
    ids["xss"] = ingest(srv, XSS_BODY)

    # Sign in: "<mount>/admin" redirects to the console.
    b.goto(base)
    t.ok(b.wait("location.pathname.endsWith('/admin/')", "redirect"),
         "<mount>/admin redirects to <mount>/admin/")
    b.wait("!document.getElementById('signin').hidden", "sign-in form")
    t.ok(True, "the sign-in form shows")
    b.type("#token", "ptk_" + "0" * 32)
    b.click("#signin-button")
    msg = b.wait("document.getElementById('signin-error').textContent",
                 "sign-in error")
    t.has(msg, "not valid", "a wrong token is refused")
    b.type("#token", tok)
    b.click("#signin-button")
    b.wait("!document.getElementById('nav').hidden", "navigation")
    t.eq(b.js("document.getElementById('who').textContent"), "ops",
         "signed in as the token's name")
    t.eq(b.js("sessionStorage.getItem('porter.token')"), tok,
         "the token is kept in sessionStorage")
    t.eq(b.js("[localStorage.length, document.cookie]"), [0, ""],
         "nothing in localStorage or cookies")

    # Sources, with their endpoints and status.
    ep = b.wait("(document.querySelector('.source code.endpoint') || "
                "{}).textContent", "sources")
    t.has(ep, srv.url("/receive/" + ENDPOINT),
          "sources show the endpoint URL under the mount")
    t.has(b.js("document.querySelector('.source').textContent"),
          "5 events", "sources show the events of the last 30 days")
    b.screenshot(os.path.join(shots, "console-sources.png"))

    # Find the event by its type.
    b.click('#nav a[data-view="logs"]')
    b.wait("document.querySelectorAll('#log-rows tr[data-id]').length == 5",
           "five events")
    b.type("#f-event_type", "task.assigned")
    b.click("#f-apply")
    b.wait("location.hash.indexOf('event_type=task.assigned') > 0 && "
           "document.querySelectorAll('#log-rows tr[data-id]').length == 1",
           "the filtered log")
    got = rows(b)
    t.eq(got, [[ids["assigned"], "task.assigned", None]],
         "filtering by event type finds the one event")

    # Open it.
    b.click('#log-rows tr[data-id="%s"] a.event-link' % ids["assigned"])
    b.wait("(document.getElementById('event-id') || {}).textContent == %s" %
           json.dumps(ids["assigned"]), "the event")
    t.ok(True, "the event opens from the log")
    body = b.js("document.getElementById('event-body').textContent")
    t.eq(json.loads(body)["data"]["task_id"], "task_123",
         "the body is shown pretty-printed")
    t.has(body, '\n  "data": {', "pretty-printed with indentation")
    t.has(b.js("document.getElementById('event-verification').textContent"),
          "not_enforced:unsigned", "verification status and reason shown")
    t.eq(b.js("document.getElementById('event-idem').textContent"), "a1",
         "idempotency key shown")
    t.has(b.js("document.getElementById('event-headers').textContent"),
          "application/json", "headers shown")
    acts = b.js("document.getElementById('action-logs').textContent")
    t.has(acts, "users_identify", "action log shown")
    t.has(acts, "user_456", "action log shows the resolved values")
    t.eq(json.loads(b.js("(document.getElementById('event-preprocess') || "
                         "{}).textContent || 'null'")),
         {"title_len": 21}, "the preprocess script's output is shown")
    b.screenshot(os.path.join(shots, "console-event.png"))

    # Replay it, and see the new entry.
    b.click("#replay")
    new_id = b.wait("(document.querySelector('#replay-result a') || {})"
                    ".textContent", "the replay's answer")
    t.ok(new_id.startswith("evt_") and new_id != ids["assigned"],
         "replay answers with a new event id")
    b.click("#replay-result a")
    b.wait("(document.getElementById('event-id') || {}).textContent == %s" %
           json.dumps(new_id), "the new event")
    t.has(b.js("document.querySelector('.kv').textContent"),
          ids["assigned"], "the new event names the original (replay of)")
    b.goto(base + "/#/logs?event_type=task.assigned")
    b.wait("document.querySelectorAll('#log-rows tr[data-id]').length == 2",
           "two entries of the type")
    t.eq(rows(b), [[new_id, "task.assigned", ids["assigned"]],
                   [ids["assigned"], "task.assigned", None]],
         "the log shows the replay first, linked to the original")
    b.screenshot(os.path.join(shots, "console-log-after-replay.png"))

    # Live refresh.
    b.goto(base + "/#/logs")
    b.wait("document.querySelectorAll('#log-rows tr[data-id]').length == 6",
           "the whole log")
    b.click("#live")
    time.sleep(0.5)
    live_id = ingest(srv, {"event_type": "task.created", "event_id": "live",
                           "data": {}})
    b.wait("!!document.querySelector('#log-rows tr.new[data-id=\"%s\"]')" %
           live_id, "the live row")
    t.eq(rows(b)[0][0], live_id, "live refresh puts a new event on top")
    time.sleep(7)       # two more polls reread the window it is in
    t.eq([r[0] for r in rows(b)].count(live_id), 1,
         "... once, though each poll rereads the last 10 s")
    b.click("#live")

    # Received event types.
    b.click('#nav a[data-view="types"]')
    b.wait("!!document.getElementById('types-table')", "types")
    types = b.js("Array.prototype.map.call(document.querySelectorAll("
                 "'#types-table tbody tr'), function (r) { return "
                 "[r.cells[2].textContent, r.cells[3].textContent]; })")
    t.has(types, ["task.created", "4"], "event types with their counts")
    t.has(types, ["task.assigned", "2"], "the replay counts as received")

    # Rehearse.
    b.click('#nav a[data-view="rehearse"]')
    b.wait("document.querySelectorAll('#r-env option').length == 1",
           "rehearse form")
    b.type("#r-body", json.dumps({"event_type": "task.assigned",
                                  "data": {"assigned_to": "u9",
                                           "title": "T"}}))
    b.click("#r-submit")
    b.wait("!!document.getElementById('r-status')", "rehearsal")
    res = b.js("document.getElementById('rehearse-result').textContent")
    t.has(res, "users_identify", "rehearsal shows the mapping")
    t.has(res, '"id": "u9"', "rehearsal shows the resolved payload")
    t.has(b.js("(document.getElementById('r-preprocess') || {}).textContent "
               "|| ''"), '"title_len": 1',
          "rehearsal shows the preprocess script's output")

    # Markup in payloads stays text.
    b.goto(base + "/#/event/" + ids["xss"])
    b.wait("(document.getElementById('event-id') || {}).textContent == %s" %
           json.dumps(ids["xss"]), "the markup event")
    t.eq(b.js("document.getElementById('event-type').textContent"), XSS_TYPE,
         "an event type with markup shows as text")
    t.has(b.js("document.getElementById('event-body').textContent"),
          "<script>window.__pwned=2</script>",
          "a body with <script> shows as text")
    b.goto(base + "/#/logs")
    b.wait("document.querySelectorAll('#log-rows tr[data-id]').length >= 7",
           "the log")
    t.eq(b.js("[typeof window.__pwned, document.querySelectorAll("
              "'img').length, document.querySelectorAll('script').length, "
              "document.querySelectorAll('#view b').length]"),
         ["undefined", 0, 1, 0], "no markup from payloads is rendered or run")
    b.screenshot(os.path.join(shots, "console-log.png"))

    # A forged request to an environment that verifies: logged, but the
    # console offers no replay of it.
    doc = config()
    doc["sources"].append({"key": "billing", "type": "custom",
                           "environments": {"production": {
                               "endpoint_id": SIGNED_ENDPOINT,
                               "verify": True,
                               "signing_keys": [{"secret": "billing-key"}],
                               "event_type_path": "body.event_type"}}})
    rc, out, err = srv.apply(doc)
    t.eq(rc, 0, "a source that verifies is added", err)
    forged = json.dumps({"event_type": "invoice.paid"}).encode()
    r = srv.post(srv.url("/receive/" + SIGNED_ENDPOINT), forged,
                 {"X-Knock-Signature": h.sign("not-the-key", forged)})
    t.eq(r.status, 401, "a forged request is refused")
    bad = srv.logs("--source", "billing", "--limit", "1")[0]["id"]
    b.goto(base + "/#/event/" + bad)
    b.wait("(document.getElementById('event-id') || {}).textContent == %s" %
           json.dumps(bad), "the forged event")
    t.eq(b.js("[!!document.getElementById('replay'), "
              "!!document.getElementById('replay-refused')]"), [False, True],
         "an event that failed an enforced check shows no Replay button")
    b.goto(base + "/#/event/" + ids["assigned"])
    b.wait("(document.getElementById('event-id') || {}).textContent == %s" %
           json.dumps(ids["assigned"]), "the event")
    t.ok(b.js("!!document.getElementById('replay') && "
              "!document.getElementById('replay-refused')"),
         "  ... while an accepted one does")

    # Sign out; then a read-only token cannot replay.
    b.click("#signout")
    b.wait("!document.getElementById('signin').hidden", "signed out")
    t.eq(b.js("sessionStorage.getItem('porter.token')"), None,
         "sign-out forgets the token")
    b.type("#token", rotok)
    b.click("#signin-button")
    b.wait("!document.getElementById('nav').hidden", "navigation")
    b.goto(base + "/#/event/" + ids["assigned"])
    b.wait("!!document.getElementById('replay')", "the event")
    t.ok(b.js("document.getElementById('replay').disabled"),
         "a read-only token gets no replay button")
    problems = b.problems()
    t.eq(problems, [], "no script errors or CSP violations", *problems)


# A second source listed first, whose first environment has no mappings
# and verifies; with the story's source after it, unchanged.
LONG_TYPE = "order." + "x" * 200
LONG_KEY = "k" * 200


def layout_config():
    cfg = config()
    cfg["sources"].insert(0, {
        "key": "billing", "name": "Billing", "type": "custom",
        "environments": {
            "staging": {"verify": True, "signing_keys": [
                {"secret": "whsec_" + "ab" * 16, "expires_at": None}]},
            "live": {"verify": False, "mappings": [{
                "event_type": "invoice.paid", "action": "users_identify",
                "params": {"id": "data.user"}}]}}})
    return cfg


def layout(t, srv, b, tok, shots):
    """What the console shows and how, at a 1280 x 800 viewport: hidden
    stays hidden, the event log fits its card with a header per column,
    times are relative with the ISO time on hover, verification on and
    off look different, rehearse starts where there are mappings."""
    base = "http://127.0.0.1:%d%s" % (srv.port, srv.url("/admin"))
    b.send("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": 800, "deviceScaleFactor": 1,
        "mobile": False})

    # Before sign-in: no navigation, and no [hidden] element rendered.
    b.js("sessionStorage.clear()")
    b.goto(base + "/")
    b.js("location.reload()")
    time.sleep(0.1)
    b.wait("document.readyState === 'complete' && "
           "!document.getElementById('signin').hidden", "the sign-in form")
    t.eq(b.js("(function (n) { var r = n.getBoundingClientRect(); return ["
              "n.hidden, getComputedStyle(n).display, r.width * r.height];"
              " })(document.getElementById('nav'))"), [True, "none", 0],
         "before sign-in the navigation is hidden, not only marked so")
    t.eq(b.js("Array.prototype.filter.call(document.querySelectorAll("
              "'[hidden]'), function (e) { return getComputedStyle(e)"
              ".display !== 'none'; }).map(function (e) { return e.id || "
              "e.tagName; })"), [], "every [hidden] element is not displayed")

    rc, out, err = srv.apply(layout_config())
    if rc != 0:
        raise RuntimeError("apply: " + err)
    ingest(srv, {"event_type": LONG_TYPE, "event_id": LONG_KEY, "data": {}})
    newest = srv.logs("--limit", "1")[0]
    b.type("#token", tok)
    b.click("#signin-button")
    b.wait("!document.getElementById('nav').hidden", "navigation")

    # The event log fits at 1280 px, with long types and keys in it.
    b.goto(base + "/#/logs")
    b.wait("!!document.querySelector('#log-rows tr[data-id=\"%s\"]')" %
           newest["id"], "the log with the long event")
    fit = b.js("""(function () {
        var t = document.getElementById('log-table');
        var c = t.closest('.card'), w = t.parentNode;
        return [t.scrollWidth, c.clientWidth, w.scrollWidth, w.clientWidth];
    })()""")
    t.ok(fit[0] <= fit[1] and fit[2] <= fit[3],
         "at 1280 px the event log fits its card (table %d px, card %d px)" %
         (fit[0], fit[1]), "  [table, card, wrap scroll, wrap client]: %r" %
         (fit,))
    cols = b.js("""(function () {
        var t = document.getElementById('log-table');
        return {
          th: Array.prototype.map.call(t.querySelectorAll('thead th'),
            function (th) { return th.textContent.trim(); }),
          cells: Array.prototype.map.call(
            t.querySelectorAll('#log-rows tr[data-id]'),
            function (tr) { return tr.cells.length; })
        };
    })()""")
    t.ok(cols["th"] and all(cols["th"]),
         "every column of the event log has a header", cols["th"])
    t.eq(sorted(set(cols["cells"])), [len(cols["th"])],
         "one header per column of every row", cols)
    b.screenshot(os.path.join(shots, "console-log-1280.png"))

    when = b.js("""(function (tr) {
        var e = tr && tr.cells[0].querySelector('time');
        return e ? [e.textContent, e.getAttribute('title'),
                    e.getAttribute('datetime')] : null;
    })(document.querySelector('#log-rows tr[data-id]'))""")
    t.eq(when and when[1:], [newest["received_at"]] * 2,
         "the received time holds the ISO time on hover (title)", when)
    t.ok(when and when[0] in ("just now",) or
         (when and when[0].endswith(" ago")),
         "  ... and shows a relative time", when)
    # The page's clock stopped 200 s after the event: "3 min ago", however
    # long this run takes.
    at = datetime.datetime.strptime(newest["received_at"],
                                    "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    later = b.send("Page.addScriptToEvaluateOnNewDocument", {
        "source": "Date.now = function () { return %d; };" %
                  int((at + 200) * 1000)})
    b.js("location.reload()")
    time.sleep(0.1)
    b.wait("!!document.querySelector('#log-rows tr[data-id] time')",
           "the log, three minutes on")
    t.eq(b.js("document.querySelector('#log-rows tr[data-id] time')"
              ".textContent"), "3 min ago", "  ... \"3 min ago\" later")
    b.send("Page.removeScriptToEvaluateOnNewDocument",
           {"identifier": later["identifier"]})

    # Verification on and off look different.
    b.goto(base + "/#/sources")
    b.wait("document.querySelectorAll('.source').length == 2", "sources")
    looks = b.js("""(function () {
        var out = {};
        Array.prototype.forEach.call(document.querySelectorAll('.badge'),
          function (e) {
            var cs = getComputedStyle(e);
            out[e.textContent] = [cs.color, cs.backgroundColor,
                                  cs.borderStyle].join(' ');
          });
        return out;
    })()""")
    t.ok("verify on" in looks and "verify off" in looks and
         looks["verify on"] != looks["verify off"],
         "\"verify on\" and \"verify off\" are styled differently", looks)
    b.screenshot(os.path.join(shots, "console-sources-1280.png"))

    # Rehearse opens on an environment that has mappings.
    r = srv.get(srv.url("/admin/api/sources"),
                {"Authorization": "Bearer " + tok})
    counts = {(s["key"], e): v["mappings_count"] for s in r.json["data"]
              for e, v in s["environments"].items()}
    b.goto(base + "/#/rehearse")
    at = b.wait("document.querySelectorAll('#r-env option').length && "
                "[document.getElementById('r-source').value, "
                "document.getElementById('r-env').value]", "rehearse form")
    t.ok(counts.get(tuple(at), 0) > 0,
         "rehearse opens on an environment with mappings", at, counts)
    b.goto(base + "/#/rehearse?source=billing&environment=staging")
    at = b.wait("document.querySelectorAll('#r-env option').length && "
                "[document.getElementById('r-source').value, "
                "document.getElementById('r-env').value]", "rehearse form")
    t.eq(at, ["billing", "staging"],
         "  ... or on the one the address names")
    problems = b.problems()
    t.eq(problems, [], "no script errors in the layout checks", *problems)


def ctl_mappings(srv):
    """tasks/development's mappings as porterctl export prints them."""
    rc, out, err = srv.porterctl("export")
    for src in json.loads(out).get("sources", []) if rc == 0 else []:
        if src.get("key") == "tasks":
            return src["environments"]["development"].get("mappings", [])
    return []


def operator(t, srv, b, tok, shots):
    """The operator's second day: the action logs across events, and a
    bulk replay of what a filter selects, asked for first.  Runs signed
    in, after the layout checks."""
    base = "http://127.0.0.1:%d%s" % (srv.port, srv.url("/admin"))
    ids = [ingest(srv, {"event_type": "bulk.test", "event_id": "bk%d" % i,
                        "data": {}}) for i in range(3)]
    b.goto(base + "/#/logs?source=tasks&event_type=bulk.test")
    b.wait("document.querySelectorAll('#log-rows tr[data-id]').length == 3",
           "the three events")
    b.click("#bulk-replay-check")
    plan = b.wait("(document.getElementById('bulk-replay-plan') || {})"
                  ".textContent", "the plan")
    t.has(plan, "3 events would be replayed",
          "Replay these\u2026 first says how many (a dry run)")
    t.eq(len([e for e in srv.logs("--type", "bulk.test")]), 3,
         "... and replays nothing yet")
    b.click("#bulk-replay-go")
    done = b.wait("(document.getElementById('bulk-replay-done') || {})"
                  ".textContent", "the summary")
    t.has(done, "Replayed 3, failed 0, skipped 0",
          "... then replays them and says so")
    replays = [e for e in srv.logs("--type", "bulk.test")
               if e.get("replay_of") in ids]
    t.eq(sorted(e["replay_of"] for e in replays), sorted(ids),
         "... each a new event linked to its original")
    b.screenshot(os.path.join(shots, "console-bulk-replay.png"))

    b.click('#nav a[data-view="actions"]')
    b.wait("document.querySelectorAll('#action-rows tr[data-id]').length > 0",
           "the action logs")
    rows = b.js("document.querySelectorAll('#action-rows tr[data-id]')"
                ".length")
    t.ok(rows > 0, "the Action logs page lists action logs across events",
         rows)
    b.goto(base + "/#/actions?status=failed")
    b.wait("!!document.querySelector('#action-rows tr')", "filtered")
    t.eq(b.js("document.querySelectorAll('#action-rows tr[data-id]')"
              ".length"), 0, "... and filters them by status (none failed)")

    # What the actions made: the users the story's mapping identified.
    b.click('#nav a[data-view="data"]')
    count = b.wait("(document.getElementById('d-count') || {}).textContent",
                   "the users")
    t.ok(count.split()[0].isdigit() and int(count.split()[0]) >= 1 and
         "user_456" in b.js("document.getElementById('data-result')"
                            ".textContent"),
         "the Data page lists the users the mappings made", count)
    b.goto(base + "/#/data?kind=users&name=user_456")
    b.wait("(document.getElementById('d-count') || {}).textContent == "
           "'1 record'", "one user")
    t.has(b.js("document.getElementById('data-result').textContent"),
          "Review the Q4 roadmap", "... and one user by id")

    # Edit an event type's mappings from the received types.
    b.click('#nav a[data-view="types"]')
    b.wait("!!document.querySelector('#types-table a.edit-mappings')",
           "the types with their edit links")
    b.goto(base + "/#/mappings?source=tasks&environment=development&"
           "event_type=task.assigned")
    b.wait("document.getElementById('m-json').value.indexOf("
           "'users_identify') > 0 && !!document.querySelector("
           "'#m-action option[value=tenants_set]')", "the editor")
    t.ok(True, "the editor opens on the type's mappings, with the actions")
    b.js("(function (s) { s.value = 'tenants_set'; s.dispatchEvent("
         "new Event('change')); })(document.getElementById('m-action'))")
    b.wait("!!document.getElementById('m-p-id')", "the action's parameters")
    t.eq(b.js("Array.prototype.map.call(document.querySelectorAll("
              "'#m-params label'), function (l) { return l.textContent; })"),
         ["id (required)", "name", "settings", "properties"],
         "the form is built from the action's parameter table")
    b.type("#m-p-id", "data.task_id")
    b.type("#m-p-name", "data.title")
    b.click("#m-add")
    b.click("#m-rehearse")
    res = b.wait("(document.getElementById('m-rehearsal') || {})"
                 ".textContent", "the rehearsal")
    t.ok("tenants_set" in res and "task_123" in res,
         "rehearsed on the last task.assigned received, before saving",
         res)
    t.eq(len([m for m in ctl_mappings(srv)
              if m.get("action") == "tenants_set"]), 0,
         "... nothing saved yet")
    b.click("#m-save")
    diff = b.wait("(document.getElementById('m-diff') || {}).textContent",
                  "the diff")
    t.has(diff, "tasks/development: mappings",
          "Save\u2026 shows the changes of a dry run first")
    b.click("#m-apply")
    b.wait("!!document.getElementById('m-applied')", "applied")
    t.eq([m.get("params") for m in ctl_mappings(srv)
          if m.get("action") == "tenants_set"],
         [{"id": "data.task_id", "name": "data.title"}],
         "... then applies it, validated as apply validates it")


def part(t, srv, b, name, fn, *args):
    """Run fn(t, srv, b, *args); an exception is one failed case, with a
    screenshot of the page as it was."""
    try:
        fn(t, srv, b, *args)
    except Exception:
        t.ok(False, "%s ran to its end" % name, traceback.format_exc(),
             srv.tail())
        try:
            b.screenshot(os.path.join(SHOTS, "console-failure.png"))
        except Exception:
            pass


def main():
    if CHROMIUM is None or not os.access(CHROMIUM, os.X_OK):
        h.skip_all("chromium not installed (Debian package chromium)")
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    h.require_binaries()
    t = h.Tap()
    os.makedirs(SHOTS, exist_ok=True)
    for name in os.listdir(SHOTS):
        if name.startswith("console-") and name.endswith(".png"):
            os.unlink(os.path.join(SHOTS, name))
    profile = tempfile.mkdtemp(prefix="porter-chromium-")
    b = None
    try:
        with h.Server(mount="/porter", env={
                "PORTER_CONSOLE_DIR": CONSOLE_DIR}) as srv:
            rc, out, err = srv.apply(config())
            if rc != 0:
                h.bail_out("apply: " + err)
            tok = srv.porterctl("token", "create", "ops")[1].strip()
            rotok = srv.porterctl("token", "create", "viewer",
                                  "--read-only")[1].strip()
            b = Browser(profile, os.path.join(srv.dir, "log",
                                              "chromium.log"))
            part(t, srv, b, "the console story", story, tok, rotok, SHOTS)
            part(t, srv, b, "the layout checks", layout, tok, SHOTS)
            part(t, srv, b, "the operator's views", operator, tok, SHOTS)
            for name in sorted(os.listdir(SHOTS)):
                if name.startswith("console-"):
                    t.diag("screenshot: " + os.path.join(SHOTS, name))
    finally:
        if b is not None:
            b.close()
        shutil.rmtree(profile, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    h.watchdog(None, 300)       # seconds (plain build; scaled)
    sys.exit(main())
