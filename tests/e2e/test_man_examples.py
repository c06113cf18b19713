#!/usr/bin/env python3
"""test_man_examples.py - every curl example of the man pages, run as
written against a real lighttpd (TAP), so that the pages cannot drift from
what Porter answers.

An example is a line of a literal block (.Bd -literal ... .Ed) of
man/*.[1578] that starts with "$ curl"; lines ending in "\\e" continue it.
It runs under bash in one scratch directory, in page order (so that
"> porter.json" feeds a later "@porter.json"), with $TOKEN a full admin
token.  Before it runs, "http://127.0.0.1:8080" becomes the test server and
"evt_<letters>..." the id of a logged, verified event; any other "..." left
in the command fails the case (say what it stands for here).  It must
answer 2xx, and the JSON member names the page shows after it must be in
the answer (metric names for /metrics).  A roff comment right above the
"$ curl" line changes that:
    .\\" example: status 404      expect this status instead
    .\\" example: skip <reason>   do not run it (said in the TAP output)
"""

import glob
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

SECRET = "man-examples-secret"
MAN_HOST = "http://127.0.0.1:8080"
STATUS_MARK = "porter-example-status"
# Seconds for the whole file: generous, for a sanitizer build on a busy
# 2-CPU machine (some 30 curl runs and one lighttpd).
WATCHDOG = 300


def config():
    return {"sources": [{"key": "tasks", "name": "Task app", "type": "custom",
                         "environments": {"production": {
                             "verify": True,
                             "signing_keys": [{"secret": SECRET}],
                             "event_type_path": "body.event_type",
                             "idempotency": {"enabled": True,
                                             "key_path": "body.event_id"},
                             "mappings": [{
                                 "event_type": "task.assigned",
                                 "action": "users_identify",
                                 "params": {"id": "data.assigned_to"}}]}}}]}


def unroff(text):
    """The few roff escapes the examples use, as a shell reads them."""
    for esc, plain in (("\\e", "\\"), ("\\(dq", '"'), ("\\(aq", "'"),
                       ("\\-", "-"), ("\\&", "")):
        text = text.replace(esc, plain)
    return text


def examples(path):
    """[(line number, command, shown output, marker)] of one page."""
    out = []
    with open(path) as f:
        lines = f.read().split("\n")
    literal = False
    marker = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(".Bd") and "-literal" in line:
            literal = True
        elif line.startswith(".Ed"):
            literal = False
        elif line.startswith('.\\" example:'):
            marker = line.split(":", 1)[1].strip()
        elif literal and re.match(r"\$ curl\b", line):
            start = i + 1
            cmd = line[2:]
            while cmd.endswith("\\e") and i + 1 < len(lines):
                i += 1
                cmd = cmd[:-2].rstrip() + " " + lines[i].strip()
            shown = []
            while i + 1 < len(lines) and not lines[i + 1].startswith(
                    ("$ ", ".")):
                i += 1
                shown.append(lines[i])
            out.append((start, unroff(cmd), unroff("\n".join(shown)),
                        marker))
            marker = None
        elif not line.startswith('.\\"'):
            marker = None
        i += 1
    return out


def expected_names(shown):
    """Member names (JSON) or metric names the page shows in the answer."""
    names = re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', shown)
    names += re.findall(r"^(?:# (?:HELP|TYPE) )?(porter_[a-z_]+)", shown,
                        re.M)
    return sorted(set(names))


def describe(cmd):
    """"PUT /admin/api/config?dry_run=1" for a curl command line."""
    m = re.search(r"(?:-X|-\w*X)\s*([A-Z]+)", cmd)
    method = m.group(1) if m else "POST" if re.search(
        r"\s(-d|--data\S*)\s", cmd) else "GET"
    m = re.search(r"https?://[^/\s'\"]+(/[^\s'\"]*)", cmd)
    return "%s %s" % (method, m.group(1) if m else "?")


def run_example(srv, wd, token, evt, cmd):
    """Run one example; (status, body text, stderr) or a string saying why
    it cannot run."""
    cmd = cmd.replace(MAN_HOST, "http://127.0.0.1:%d" % srv.port)
    cmd = re.sub(r"\bevt_[0-9A-Z]{2,}\.\.\.", evt, cmd)
    if "..." in cmd:
        return "a placeholder this test does not know: %s" % cmd
    # The status goes to standard error, so that "> file" keeps the body.
    cmd = re.sub(r"^curl ", "curl -w '%%{stderr}%s %%{http_code}\\n' " %
                 STATUS_MARK, cmd)
    env = dict(os.environ, TOKEN=token)
    p = subprocess.run(["bash", "-c", cmd], cwd=wd, env=env,
                       capture_output=True, timeout=h.HTTP_TIMEOUT + 5)
    err = p.stderr.decode("utf-8", "replace")
    m = re.search(STATUS_MARK + r" (\d+)", err)
    body = p.stdout.decode("utf-8", "replace")
    redirect = re.search(r">\s*(\S+)\s*$", cmd)
    if redirect:
        try:
            with open(os.path.join(wd, redirect.group(1))) as f:
                body = f.read()
        except OSError:
            pass
    return (int(m.group(1)) if m else 0, body, err)


def main():
    t = h.Tap()
    h.watchdog(t, WATCHDOG)
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    if h.which("curl") is None:
        h.skip_all("curl not installed")
    pages = sorted(glob.glob(os.path.join(h.TOP_SRCDIR, "man", "*.[1578]")))
    found = [(os.path.basename(p), ex) for p in pages for ex in examples(p)]
    t.ok(len(found) >= 15, "%d curl examples in %d man pages" %
         (len(found), len(pages)))
    with h.Server(mount="/") as srv:
        rc, out, err = srv.apply(config())
        t.eq(rc, 0, "config applies", out, err)
        rc, token, err = srv.porterctl("token", "create", "ops")
        token = token.strip()
        t.ok(rc == 0 and token, "a full admin token", err)
        ep = srv.sources()[("tasks", "production")]
        body = json.dumps({"event_type": "task.assigned",
                           "event_id": "evt_8c1f2a",
                           "data": {"assigned_to": "user_456"}}).encode()
        r = srv.post(srv.url("/receive/" + ep), body,
                     {"X-Knock-Signature": h.sign(SECRET, body)})
        evt = (r.json or {}).get("id", "")
        t.eq((r.status, (r.json or {}).get("status")), (200, "accepted"),
             "a verified event for the examples to look at", r)
        wd = srv.path("examples")
        os.mkdir(wd)
        for page, (line, cmd, shown, marker) in found:
            where = "%s:%d" % (page, line)
            label = describe(cmd)
            if marker and marker.startswith("skip"):
                t.skip("%s: %s" % (where, label), marker[4:].strip())
                continue
            want = None
            if marker and marker.startswith("status "):
                want = int(marker.split()[1])
            res = run_example(srv, wd, token, evt, cmd)
            if isinstance(res, str):
                t.ok(False, "%s: %s" % (where, label), res)
                continue
            status, text, err = res
            good = status == want if want else 200 <= status < 300
            t.ok(good, "%s: %s: %s" % (where, label, status if good else
                                       "%d, want %s" % (status, want or
                                                        "2xx")),
                 text[:500], err[-500:])
            names = expected_names(shown)
            missing = [n for n in names if '"%s"' % n not in text and
                       not re.search(r"^(# (HELP|TYPE) )?%s\b" % n, text,
                                     re.M)]
            if good and names:
                t.eq(missing, [], "%s:   ... the answer has what the page "
                     "shows (%s)" % (where, ", ".join(names[:8]) +
                                     (", ..." if len(names) > 8 else "")),
                     text[:500])
        # The server decides about a bodiless POST; Porter takes one on
        # a route that needs no body (CGI under Apache or nginx passes no
        # CONTENT_LENGTH at all).
        env = h.cgi_environ("POST", "/admin/api/logs/%s/replay" % evt,
                            srv.db, None, None,
                            {"Authorization": "Bearer " + token},
                            path_info="/admin/api/logs/%s/replay" % evt)
        r, rc, err = h.run_cgi(env, b"")
        t.eq((r.status, (r.json or {}).get("replay_of")), (200, evt),
             "CGI: a POST without CONTENT_LENGTH to replay: 200", r, err)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
