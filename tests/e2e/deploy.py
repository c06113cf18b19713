"""deploy.py - what the deployment tests (test_apache.py, test_nginx.py)
share: a configuration with a signed custom source and a bearer-key
(hightouch) source, the end-to-end checks every server must pass, and the
hand-over of the store to the unprivileged user a server runs Porter as.

check_server(tap, s, label) on a started h.Server-like "s" checks:
healthz; porterctl apply; a signed webhook answered 200 and in the event
log, verified; an unsigned one refused 401; a hightouch call with
"Authorization: Bearer <key>" accepted (so the server passed the header
on) and a wrong key refused; a signed Clerk request with an extra
"svix_id" header, which lighttpd hands over as a second svix-id (refused
400 there) but Apache and nginx drop (a header name with "_"): accepted
once, then idempotent; "porterctl send" against the server; the admin API
with a token from "porterctl token create" (a skip, saying so, when this
build has no "token" command).
"""

import grp
import json
import os
import pwd
import re
import time

import harness as h

PROD_SECRET = "whsec_apache_5b1d90"
HT_KEY = "ht_live_key_0c9a7e41"
SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TASK = {"event_type": "task.assigned", "event_id": "evt_ap_1",
        "occurred_at": "2026-11-23T10:15:00Z",
        "data": {"task_id": "task_123", "assigned_to": "user_456"}}
TASK_BODY = json.dumps(TASK).encode()
CONFIG = {"sources": [
    {"key": "tasks", "name": "Task app", "type": "custom",
     "environments": {"production": {
         "verify": True,
         "signing_keys": [{"secret": PROD_SECRET, "expires_at": None}],
         "event_type_path": "body.event_type"}}},
    {"key": "warehouse", "name": "Hightouch", "type": "hightouch",
     "environments": {"production": {
         "signing_keys": [{"secret": HT_KEY, "expires_at": None}]}}},
    {"key": "clerk", "name": "Clerk", "type": "clerk",
     "environments": {"production": {
         "signing_keys": [{"secret": SVIX_SECRET, "expires_at": None}]}}}]}


def run_user():
    """(name, uid, gid, group) of the user the web server's children and
    Porter run as when the test runs as root: www-data (or apache,
    nobody).  None when not root: everything runs as ourselves."""
    if os.geteuid() != 0:
        return None
    for name in ("www-data", "apache", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return pw.pw_name, pw.pw_uid, pw.pw_gid, grp.getgrgid(
                pw.pw_gid).gr_name
        except KeyError:
            continue
    return None


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, gid)


class OwnedStore:
    """Mixin for an h.Server whose responders run as run_user(): the
    store porterctl (root) creates or changes is handed over after each
    porterctl call.  Set self.user = run_user() in __init__."""

    user = None

    def handover(self):
        if self.user:
            chown_tree(self.db, self.user[1], self.user[2])

    def porterctl(self, *args, input=None):
        r = h.Server.porterctl(self, *args, input=input)
        self.handover()
        return r


def newest(s):
    logs = s.logs("--limit", "1")
    return logs[0] if logs else None


def admin_token(s, tap, label):
    """A fresh admin token from "porterctl token create", or None (and a
    skip) when the admin API has not landed in this build."""
    rc, out, err = h.run([h.PORTERCTL, "--help"])
    if not re.search(r"(?m)^\s+token\b", out):
        tap.skip("%s: admin API with a token" % label,
                 "porterctl has no \"token\" command in this build")
        return None
    rc, out, err = s.porterctl("token", "create", "e2e-deploy")
    lines = out.split()
    if not tap.ok(rc == 0 and len(lines) == 1,
                  "%s: porterctl token create" % label, out, err):
        return None
    return lines[0]


def check_admin(tap, s, label):
    """The admin API through this server: 401 without the token, 200 with
    it (so the server hands Authorization to Porter)."""
    token = admin_token(s, tap, label)
    if token is None:
        return
    path = s.url("/admin/api/whoami")
    r = s.get(path)
    tap.eq(r.status, 401, "%s: admin API without a token: 401" % label,
           repr(r))
    r = s.get(path, {"Authorization": "Bearer " + token})
    tap.eq((r.status, isinstance(r.json, dict)), (200, True),
           "%s: admin API with a token: 200" % label, repr(r), s.tail())
    r = s.get(s.url("/admin/api/sources"),
              {"Authorization": "Bearer " + token})
    tap.ok(r.status == 200 and "warehouse" in r.raw.decode("utf-8",
                                                          "replace"),
           "%s: admin API lists the sources" % label, repr(r))


def check_underscore(tap, s, label):
    """A signed Clerk request replayed with "svix_id: other": Apache (2.4
    drops header names with "_" from the CGI environment) and nginx
    (underscores_in_headers off) never hand it over, so the request is
    the original -- accepted once, idempotent after -- where lighttpd
    passes it as a second svix-id and Porter refuses it
    (test_headers.py)."""
    ep = s.sources()[("clerk", "production")]
    body = json.dumps({"type": "user.created", "data": {
        "id": "user_us_%d" % int(time.time() * 1000)}}).encode()
    signed = h.svix_headers(SVIX_SECRET, "msg_us_%s" % label.replace(" ", "_")
                            .replace("/", "") + str(time.time()), body)
    forged = dict(signed, svix_id="msg_forged")
    r = s.post(s.url("/receive/" + ep), body, forged)
    tap.eq((r.status, (r.json or {}).get("status")), (200, "accepted"),
           "%s: signed Clerk request plus svix_id: 200 (the server dropped "
           "svix_id)" % label, repr(r), s.tail())
    rec = newest(s) or {}
    hdrs = rec.get("headers") or {}
    tap.eq(hdrs.get("svix-id"), signed["svix-id"],
           "%s: ... the log has the signed svix-id only" % label, repr(hdrs))
    r = s.post(s.url("/receive/" + ep), body, forged)
    tap.eq((r.status, (r.json or {}).get("idempotent")), (200, True),
           "%s: the same again: idempotent, no second execution" % label,
           repr(r))


def check_server(tap, s, label, admin=True):
    """The common end-to-end checks on a started server "s"."""
    r = s.get(s.url("/healthz"))
    tap.ok(r.status == 200 and (r.json or {}).get("status") == "ok" and
           ((r.json or {}).get("store") or {}).get("map_size", 0) > 0,
           "%s: healthz: 200, ok, with the store's use" % label, repr(r))
    rc, out, err = s.apply(CONFIG)
    tap.eq(rc, 0, "%s: porterctl apply" % label, out, err)
    src = s.sources()
    prod = src[("tasks", "production")]
    ht = src[("warehouse", "production")]

    # A signed webhook in, and in the event log.
    r = s.post(s.url("/receive/" + prod), TASK_BODY,
               {"X-Knock-Signature": h.sign(PROD_SECRET, TASK_BODY)})
    tap.eq((r.status, (r.json or {}).get("event_type")),
           (200, "task.assigned"), "%s: signed task.assigned 200" % label,
           repr(r), s.tail())
    rec = newest(s) or {}
    # (no mapping is configured: "no_mapping" is the accepted status)
    tap.eq((rec.get("id"), rec.get("status"),
            (rec.get("verification") or {}).get("status")),
           ((r.json or {}).get("id"), "no_mapping", "enforced:verified"),
           "%s: event in the log, verified" % label, repr(rec))
    r = s.post(s.url("/receive/" + prod), TASK_BODY)
    tap.eq((r.status, r.error_code()), (401, "invalid_signature"),
           "%s: unsigned: 401" % label, repr(r))

    # Authorization reaches Porter: a bearer-key (hightouch) call.
    body = json.dumps({"name": "Ann", "email": "ann@example.com"}).encode()
    r = s.request("PUT", s.url("/receive/%s/v1/users/u_apache" % ht), body,
                  {"Content-Type": "application/json",
                   "Authorization": "Bearer " + HT_KEY})
    tap.eq(r.status, 200, "%s: hightouch PUT with the bearer key: 200 "
           "(Authorization passed)" % label, repr(r), s.tail())
    rec = newest(s) or {}
    tap.eq((rec.get("event_type"), (rec.get("verification") or {}).get(
        "status"), (rec.get("headers") or {}).get("authorization")),
        ("users.identify", "enforced:verified", "[redacted]"),
        "%s: logged users.identify, verified, credential redacted" % label,
        repr(rec))
    r = s.request("PUT", s.url("/receive/%s/v1/users/u_apache" % ht), body,
                  {"Content-Type": "application/json",
                   "Authorization": "Bearer not-the-key"})
    tap.eq(r.status, 401, "%s: hightouch with a wrong key: 401" % label,
           repr(r))

    check_underscore(tap, s, label)

    # porterctl send signs and posts for us.
    fn = s.path("task.json")
    with open(fn, "wb") as f:
        f.write(TASK_BODY)
    base = "http://127.0.0.1:%d%s" % (s.port, "" if s.mount == "/" else
                                      s.mount)
    rc, out, err = s.porterctl("send", "--source", "tasks", "--env",
                               "production", "--url", base, fn)
    tap.ok(rc == 0 and out.startswith("HTTP/1.1 200") and
           '"task.assigned"' in out, "%s: porterctl send: 200" % label,
           out, err)
    fn = s.path("user.json")
    with open(fn, "wb") as f:
        f.write(b'{"name": "Bo", "email": "bo@example.com"}')
    rc, out, err = s.porterctl("send", "--source", "warehouse", "--env",
                               "production", "--url", base, "--method",
                               "PUT", "--path", "/v1/users/u_send", fn)
    tap.ok(rc == 0 and out.startswith("HTTP/1.1 200") and
           '"users.identify"' in out, "%s: porterctl send --method PUT "
           "(bearer key): 200" % label, out, err)
    rc, out, err = s.porterctl("send", "--source", "tasks", "--env",
                               "production", "--url", base, "--path",
                               "/nope", fn)
    tap.ok(rc == 1 and out.startswith("HTTP/1.1 4"),
           "%s: porterctl send: a non-2xx answer exits 1" % label, out, err)
    rc, out, err = s.porterctl("send", "--source", "tasks", "--env",
                               "production", "--url",
                               "https://127.0.0.1:%d" % s.port, fn)
    tap.ok(rc == 1 and "TLS" in err and out == "",
           "%s: porterctl send https:// to the plain-HTTP port: a TLS "
           "error, nothing printed" % label, out, err)
    if admin:
        check_admin(tap, s, label)
