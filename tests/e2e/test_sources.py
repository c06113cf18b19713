#!/usr/bin/env python3
"""test_sources.py - every source type, end to end through lighttpd (TAP).

The over-HTTP twin of tests/unit/test-sources.c.  One real lighttpd
(lighttpd.conf.example, Porter over FastCGI on 127.0.0.1) and one
configuration, applied with "porterctl apply", with one environment per
source type listed by "porterctl sources --types".  For each type, the
realistic payloads in tests/e2e/fixtures/sources/<type>.json are signed the
way the sender signs them ("porterctl sign", which uses the environment's
first unexpired key and the current time) and sent over HTTP; each must be
answered 200, logged as verified with the right event type(s), and have its
default mapping's effect in the store (porterctl users / objects / tenants /
subscriptions / audiences / runs).  Then, per type:

  tampered body     headers signed for the original body, one value in the
                    body changed (HMAC schemes): 401 invalid_signature,
                    logged rejected with the scheme's reason, no effect
  stale timestamp   signed with PORTER_CLOCK_OFFSET=-1000 in porterctl's
                    environment (stripe, clerk, workos, slack): 401,
                    timestamp_out_of_tolerance
  wrong / missing   credential schemes (shared header, bearer): a wrong
  credential        secret is no_matching_signature, none is missing_header;
                    the secret is never in the logged headers
  rotated key       the configuration re-applied with a new key first and
                    the old one with expires_at in an hour: requests signed
                    with the old key (by a sender whose store only has the
                    old key) and with the new one are accepted; re-applied
                    with the old key's expires_at in the past: the old key
                    is refused, the new one still accepted

Fixture format (one object per file): "type"; "requests", each with "desc",
optional "method" (POST), "path" (after the endpoint), "headers", "body"
(sent as compact JSON) or "raw_body" (sent as is), "content_type" (default
application/json; Twilio's and Slack's forms), "status", the logged
"event_types" (a list: a batch logs one event per call; an entry may be a
[type, answer status] pair), an optional "answer_status" (default
"accepted") or "answer" (members the answer must have), and "effects";
optional "tamper" {"from", "to", "request": index, default 0} (a string of
that request's body to change after signing); "probe", a request whose "{n}"
is made unique per send, for the timestamp and rotation checks.

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_sources.py
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

# Seconds for the whole file, plain build (h.watchdog scales it).  Seen on
# 2 CPUs: 12-19 s plain; with ASan 59 s at load 4, 292 s at load 11.
WATCHDOG = 240
ENV = "production"
FIXTURES = os.path.join(h.HERE, "fixtures", "sources")
STALE_OFFSET = -1000    # seconds: past every preset's tolerance (<= 300)

# Secrets as each provider shows them: Svix (clerk) whsec_ + base64; the
# others any text (jitsu's shared header: no ":").
SECRETS = {
    "clerk": ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
              "whsec_dGhpcy1pcy1hLXNlY29uZC1zZWNyZXQhIQ=="),
    "stripe": ("whsec_stripe_old_4f9c1e7a2b", "whsec_stripe_new_77d2e0"),
}
# Every environment's public URL: what Twilio signs, with the path.
PUBLIC_URL = "https://hooks.example.com"
TIMED = ("stripe", "clerk", "workos", "slack")
CREDENTIAL = ("supabase", "posthog", "rudderstack", "freshpaint", "jitsu",
              "hightouch", "census", "polytomic")
CREDENTIAL_HEADER = {"hightouch": "Authorization", "census": "Authorization",
                     "polytomic": "Authorization"}     # else x-webhook-secret


def secrets(t):
    return SECRETS.get(t, ("%s-old-secret-1" % t, "%s-new-secret-2" % t))


def mismatch_reason(t):
    """The log's reason for a signature that matches no key."""
    return "no_matching_key" if t == "custom" else "no_matching_signature"


def source_types():
    rc, out, err = h.run([h.PORTERCTL, "sources", "--types", "--json"])
    if rc != 0:
        h.bail_out("porterctl sources --types --json: %s" % err)
    return [d["type"] for d in json.loads(out)]


def load_fixtures(types):
    fx = {}
    for t in types:
        fn = os.path.join(FIXTURES, t + ".json")
        if os.path.exists(fn):
            with open(fn) as f:
                fx[t] = json.load(f)
    return fx


def config(types, phase, now):
    """phase "old": the old key only; "rotating": new key first, the old one
    until now + 1 h; "rotated": the old one expired a minute ago."""
    sources = []
    for t in types:
        old, new = secrets(t)
        if phase == "old":
            keys = [{"secret": old, "expires_at": None}]
        else:
            exp = now + 3600 if phase == "rotating" else now - 60
            keys = [{"secret": new, "expires_at": None},
                    {"secret": old, "expires_at": exp}]
        sources.append({"key": t, "name": t, "type": t,
                        "environments": {ENV: {"verify": True,
                                               "public_url": PUBLIC_URL,
                                               "signing_keys": keys}}})
    return {"sources": sources}


# ------------------------------------------------------------- requests

class Sender:
    """Signs with "porterctl sign" against a store ("db") and sends through
    the server; counts probes so that each is unique."""

    def __init__(self, srv):
        self.srv = srv
        self.eps = srv.sources()
        self.n = 0
        self.dir = srv.path("bodies")
        os.mkdir(self.dir)

    @staticmethod
    def body_of(req):
        if "raw_body" in req:
            return req["raw_body"].encode()
        return json.dumps(req["body"], separators=(",", ":")).encode()

    def probe(self, fx):
        """The fixture's probe with {n} made unique."""
        self.n += 1
        text = json.dumps(fx["probe"]).replace("{n}", str(self.n))
        return json.loads(text)

    def sign(self, t, body, path, db=None, offset=None):
        """porterctl sign: {header: value}.  "path": the request's, for
        schemes that sign the URL."""
        self.n += 1
        fn = os.path.join(self.dir, "%s-%d.json" % (t, self.n))
        with open(fn, "wb") as f:
            f.write(body)
        env = dict(os.environ)
        if offset is not None:
            env["PORTER_CLOCK_OFFSET"] = str(offset)
        rc, out, err = h.run([h.PORTERCTL, "--db", db or self.srv.db,
                              "sign", "--source", t, "--env", ENV,
                              "--url", PUBLIC_URL + path, fn], env=env)
        if rc != 0:
            raise RuntimeError("porterctl sign %s: rc %d: %s" % (t, rc, err))
        hdrs = {}
        for line in out.splitlines():
            name, sep, value = line.partition(":")
            if sep:
                hdrs[name.strip()] = value.strip()
        return hdrs

    def send(self, t, req, db=None, offset=None, tamper=None, signed=True,
             extra=None):
        """Sign req's body and send it (the body changed by "tamper", a
        (from, to) pair, after signing).  Returns (Response, sent body)."""
        body = self.body_of(req)
        path = self.srv.url("/receive/%s%s" % (self.eps[(t, ENV)],
                                              req.get("path", "")))
        hdrs = {}
        if signed:
            hdrs.update(self.sign(t, body, path, db, offset))
        hdrs.update(extra or {})
        if tamper:
            frm, to = (x.encode() for x in tamper)
            if frm not in body:
                raise RuntimeError("tamper: %r not in the body" % frm)
            body = body.replace(frm, to, 1)
        hdrs.update(req.get("headers") or {})
        method = req.get("method", "POST")
        if body or method == "POST":
            hdrs["Content-Type"] = req.get("content_type",
                                           "application/json")
        # A delete without a body is sent as a client does: no body at all.
        return (self.srv.request(method, path, body if body else None,
                                 hdrs), body)


def answer_events(r):
    """[(id, event_type, status)] of an answer, plain or batch-shaped."""
    j = r.json if isinstance(r.json, dict) else {}
    evs = j["events"] if isinstance(j.get("events"), list) else [j]
    return [(e.get("id"), e.get("event_type"), e.get("status"))
            for e in evs if isinstance(e, dict)]


def event_id_in(r):
    """The logged event of a 401: its id is in the message."""
    msg = (r.json or {}).get("message") or ""
    i = msg.find("(event evt_")
    return msg[i + 7:].rstrip(")").split()[0] if i >= 0 else None


def ctl_json(srv, *args):
    """porterctl ARGS --json: a document, a list of lines, or None."""
    rc, out, err = srv.porterctl(*(list(args) + ["--json"]))
    if rc != 0:
        return None
    out = out.strip()
    if not out:
        return []
    try:
        return json.loads(out)
    except ValueError:
        return h.json_lines(out)


def rec_ids(v):
    """Ids named by a recipient value: "id", {"id"} or a list of those."""
    if isinstance(v, list):
        return [i for x in v for i in rec_ids(x)]
    if isinstance(v, dict):
        return [v.get("id")]
    return [v]


def check_effect(tap, srv, t, e, label, unchanged=False):
    """One "effects" entry is in the store.  "unchanged": after a refused
    request, say so (the user still has the fields the good one set)."""
    kind = e["kind"]
    if kind == "user":
        u = ctl_json(srv, "users", e["id"])
        u = u if isinstance(u, dict) else {}
        want = dict(e.get("fields") or {}, id=e["id"])
        got = {k: u.get(k) for k in want}
        ok = tap.eq(got, want, "%s  ... user %s %s" % (
            label, e["id"], "unchanged" if unchanged else "identified"),
            "  user: %r" % u)
        if e.get("properties") and not unchanged:
            props = u.get("properties") or {}
            tap.eq({k: props.get(k) for k in e["properties"]},
                   e["properties"],
                   "%s  ... with its properties" % label, "  user: %r" % u)
        return ok
    if kind == "no_user":
        rc, out, err = srv.porterctl("users", e["id"], "--json")
        return tap.ok(rc != 0 and "not found" in err,
                      "%s  ... user %s deleted" % (label, e["id"]), out, err)
    if kind == "tenant":
        x = ctl_json(srv, "tenants", e["id"])
        x = x if isinstance(x, dict) else {}
        return tap.eq({k: x.get(k) for k in e["fields"]}, e["fields"],
                      "%s  ... tenant %s set" % (label, e["id"]), repr(x))
    if kind == "object":
        x = ctl_json(srv, "objects", e["collection"], e["id"])
        x = x if isinstance(x, dict) else {}
        return tap.eq({k: x.get(k) for k in e["fields"]}, e["fields"],
                      "%s  ... object %s/%s set" %
                      (label, e["collection"], e["id"]), repr(x))
    if kind == "subscription":
        subs = ctl_json(srv, "subscriptions", e["collection"], e["id"])
        subs = subs if isinstance(subs, list) else [subs]
        got = [i for s in subs if isinstance(s, dict)
               for i in rec_ids(s.get("recipient"))]
        return tap.has(got, e["recipient"],
                       "%s  ... %s subscribed to %s/%s" %
                       (label, e["recipient"], e["collection"], e["id"]))
    if kind == "run":
        runs = ctl_json(srv, "runs", "--workflow", e["workflow"])
        runs = runs if isinstance(runs, list) else [runs]
        got = [i for x in runs if isinstance(x, dict)
               for i in rec_ids(x.get("recipients"))]
        return tap.has(got, e["recipient"],
                       "%s  ... workflow %s run for %s" %
                       (label, e["workflow"], e["recipient"]))
    if kind == "audience":
        mem = ctl_json(srv, "audiences", e["key"])
        mem = mem if isinstance(mem, list) else [mem]
        got = [m.get("user") for m in mem if isinstance(m, dict)]
        got = [u.get("id") if isinstance(u, dict) else u for u in got]
        return tap.has(got, e["user"], "%s  ... %s in audience %s" %
                       (label, e["user"], e["key"]))
    return tap.ok(False, "%s  ... unknown effect kind %r" % (label, kind))


# ----------------------------------------------------------------- checks

def t_requests(tap, srv, snd, t, fx):
    """Each realistic payload: 200, logged verified, its effect."""
    for req in fx["requests"]:
        label = "%s %s" % (t, req["desc"])
        r, body = snd.send(t, req)
        tap.eq(r.status, req["status"], "%s: HTTP %d" % (label, req["status"]),
               "  answer: %r" % r.raw[:400])
        if "answer" in req:
            j = r.json if isinstance(r.json, dict) else {}
            tap.eq({k: j.get(k) for k in req["answer"]}, req["answer"],
                   "%s  ... the answer" % label)
        else:
            evs = answer_events(r)
            st = req.get("answer_status", "accepted")
            want = [tuple(x) if isinstance(x, list) else (x, st)
                    for x in req["event_types"]]
            tap.eq([(e[1], e[2]) for e in evs], want,
                   "%s  ... %d event%s: %s" % (
                       label, len(want), "" if len(want) == 1 else "s",
                       ", ".join("%s %s" % x for x in want)))
            recs = [srv.log(e[0]) if e[0] else None for e in evs]
            tap.ok(recs and all(
                x and x.get("source") == t and x.get("environment") == ENV and
                (x.get("verification") or {}).get("status") ==
                "enforced:verified" for x in recs),
                "%s  ... logged as %s/%s, enforced:verified" %
                (label, t, ENV), *[repr(x)[:600] for x in recs])
        for e in req.get("effects") or []:
            check_effect(tap, srv, t, e, label)


def check_rejected(tap, srv, t, r, reason, label, body=None):
    """401 invalid_signature, and the log names "reason"; "body" (bytes):
    the logged body is that one."""
    tap.eq((r.status, r.error_code()), (401, "invalid_signature"),
           "%s: 401 invalid_signature" % label, "  answer: %r" % r.raw[:400])
    evt = event_id_in(r)
    rec = srv.log(evt) if evt else None
    ver = (rec or {}).get("verification") or {}
    tap.eq(((rec or {}).get("source"), (rec or {}).get("status"),
            ver.get("status"), ver.get("reason")),
           (t, "rejected", "enforced:failed", reason),
           "%s  ... logged rejected: %s" % (label, reason),
           "  record: %r" % (rec,))
    if body is not None:
        rec = rec or {}
        got = rec["body"] if "body" in rec else rec.get("body_text")
        tap.eq(got, h.parse_json(body) if "body" in rec else body.decode(),
               "%s  ... with the body as received" % label)


def t_tamper(tap, srv, snd, t, fx):
    req = fx["requests"][fx["tamper"].get("request", 0)]
    tamper = (fx["tamper"]["from"], fx["tamper"]["to"])
    label = "%s tampered body (%s -> %s)" % ((t,) + tamper)
    r, body = snd.send(t, req, tamper=tamper)
    check_rejected(tap, srv, t, r, mismatch_reason(t), label, body)
    for e in req.get("effects") or []:
        if e["kind"] == "user":
            check_effect(tap, srv, t, e, label, unchanged=True)


def t_stale(tap, srv, snd, t, fx):
    label = "%s stale timestamp (signed %d s ago)" % (t, -STALE_OFFSET)
    r, body = snd.send(t, snd.probe(fx), offset=STALE_OFFSET)
    check_rejected(tap, srv, t, r, "timestamp_out_of_tolerance", label)
    # The same request signed now passes: only the clock differed.
    r, body = snd.send(t, snd.probe(fx))
    tap.eq(r.status, 200, "%s  ... signed now: 200" % t, repr(r))


def t_credential(tap, srv, snd, t, fx):
    """Shared header / bearer: a static secret, not a MAC of the body."""
    name = CREDENTIAL_HEADER.get(t, "x-webhook-secret")
    wrong = "Bearer not-the-key" if name == "Authorization" else "not-the-key"
    r, _ = snd.send(t, snd.probe(fx), signed=False, extra={name: wrong})
    check_rejected(tap, srv, t, r, "no_matching_signature",
                   "%s wrong %s" % (t, name))
    r, _ = snd.send(t, snd.probe(fx), signed=False)
    check_rejected(tap, srv, t, r, "missing_header",
                   "%s no %s" % (t, name))
    # The secret the sender sent is never in the log.
    recs = srv.logs("--source", t, "--limit", "1000")
    old, new = secrets(t)
    leaked = [x["id"] for x in recs if old in json.dumps(x.get("headers"))]
    tap.ok(recs and not leaked,
           "%s  ... the secret is not in the logged headers (%d events)" %
           (t, len(recs)), "  leaked in: %r" % leaked)


def t_rotation(tap, srv, snd, types, fx, sender_db):
    now = int(time.time())
    rc, out, err = srv.apply(config(types, "rotating", now))
    tap.eq(rc, 0, "rotation: new key first, old key until expires_at "
           "(+1 h) applies", err)
    for t in types:
        r, _ = snd.send(t, snd.probe(fx[t]), db=sender_db)
        evs = answer_events(r)
        rec = srv.log(evs[0][0]) if r.status == 200 and evs[0][0] else None
        tap.eq((r.status, ((rec or {}).get("verification") or {})
                .get("status")), (200, "enforced:verified"),
               "%s rotation: the old key still works before expires_at" % t,
               repr(r))
        r, _ = snd.send(t, snd.probe(fx[t]))
        tap.eq(r.status, 200, "%s rotation: the new key works" % t, repr(r))
    rc, out, err = srv.apply(config(types, "rotated", now))
    tap.eq(rc, 0, "rotation: re-applied with the old key's expires_at in "
           "the past", err)
    for t in types:
        r, _ = snd.send(t, snd.probe(fx[t]), db=sender_db)
        check_rejected(tap, srv, t, r, "key_expired",
                       "%s rotation: the old key after expires_at" % t)
        r, _ = snd.send(t, snd.probe(fx[t]))
        tap.eq(r.status, 200, "%s rotation: the new key still works" % t,
               repr(r))


def main():
    tap = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    types = source_types()
    fx = load_fixtures(types)
    tap.ok(len(types) >= 16 and sorted(fx) == sorted(types),
           "a fixture for each of the %d source types" % len(types),
           "  types: %s" % " ".join(types),
           "  missing: %s" % " ".join(sorted(set(types) - set(fx))))
    types = [t for t in types if t in fx]
    with h.Server(mount="/", max_procs=2) as srv:
        rc, out, err = srv.apply(config(types, "old", int(time.time())))
        tap.eq(rc, 0, "one environment per source type applies", err)
        # The sender's side of a rotation: a store that knows only the old
        # key, so that porterctl sign keeps signing with it.
        sender = h.Workdir(prefix="porter-e2e-sender-")
        rc, out, err = sender.apply(config(types, "old", int(time.time())))
        tap.eq(rc, 0, "the sender's store (old keys) applies", err)
        snd = Sender(srv)

        for t in types:
            tap.run(t_requests, tap, srv, snd, t, fx[t])
        for t in types:
            if "tamper" in fx[t]:
                tap.run(t_tamper, tap, srv, snd, t, fx[t])
        for t in TIMED:
            if t in fx:
                tap.run(t_stale, tap, srv, snd, t, fx[t])
        for t in CREDENTIAL:
            if t in fx:
                tap.run(t_credential, tap, srv, snd, t, fx[t])
        tap.run(t_rotation, tap, srv, snd, types, fx, sender.db)
        sender.close()
    return tap.done()


if __name__ == "__main__":
    h.watchdog(None, WATCHDOG)
    sys.exit(main())
