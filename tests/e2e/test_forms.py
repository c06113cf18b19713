#!/usr/bin/env python3
"""test_forms.py - form-encoded webhooks through a real lighttpd (TAP).

One lighttpd (lighttpd.conf.example, Porter over FastCGI under the mount
/porter) with four sources:

  twilio   the Twilio type: X-Twilio-Signature, HMAC-SHA1 over the public
           URL and the sorted form fields, computed here from Twilio's
           documented algorithm (and checked against twilio-python's
           official vector); mappings on message.delivered and
           call.completed
  slack    the Slack type: X-Slack-Signature over "v0:<ts>:<raw body>";
           a slash command (typed by its command) and an interactivity
           payload (the "payload" field is JSON; typed by payload.type)
  tasks    a custom source that did not opt in to forms
  forms    a custom source that takes forms only ("body_formats": ["form"])

Checked: each signed form reaches its mapping's effect in the store and is
logged verified with the raw body exactly as sent; a field changed after
signing is 401; a form to the custom source is 415 and says how to opt in;
JSON to the form-only source is 415; a bad %-escape and invalid UTF-8 are
400, logged invalid with their bodies; Twilio's idempotency token makes a
retry a duplicate; a form event replays (porterctl replay) and rehearses
(porterctl rehearse, POST /admin/api/sources/<key>/rehearse).

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_forms.py
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 900 if h.VALGRIND else 180   # seconds for the whole file
MOUNT = "/porter"
ENV = "production"
PUBLIC = "https://hooks.example.com"
TW_TOKEN = "twilio-auth-token-0123456789abcdef"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = "application/x-www-form-urlencoded"


def config():
    return {"workflows": {"deploy": {}}, "sources": [
        {"key": "twilio", "type": "twilio", "environments": {ENV: {
            "signing_keys": [{"secret": TW_TOKEN}], "public_url": PUBLIC,
            "mappings": [
                {"event_type": "message.delivered", "action": "objects_set",
                 "params": {"collection": {"value": "sms"},
                            "id": "MessageSid",
                            "properties": {"status": "MessageStatus",
                                           "to": "To"}}},
                {"event_type": "call.completed", "action": "objects_set",
                 "params": {"collection": {"value": "calls"},
                            "id": "CallSid",
                            "properties": {"seconds": "CallDuration"}}}]}}},
        {"key": "slack", "type": "slack", "environments": {ENV: {
            "signing_keys": [{"secret": SLACK_SECRET}],
            "mappings": [
                {"event_type": "/deploy", "action": "workflows_trigger",
                 "params": {"key": "deploy", "recipients": "user_id",
                            "data": {"text": "text",
                                     "channel": "channel_id"}}},
                {"event_type": "block_actions", "action": "users_identify",
                 "params": {"id": "payload.user.id",
                            "name": "payload.user.name",
                            "properties": {
                                "action": "payload.actions[0].action_id"}}}
            ]}}},
        {"key": "tasks", "type": "custom", "environments": {ENV: {
            "verify": False}}},
        {"key": "forms", "type": "custom", "environments": {ENV: {
            "verify": False, "body_formats": ["form"],
            "event_type_path": "body.event",
            "mappings": [{"event_type": "ping", "action": "users_identify",
                          "params": {"id": "user",
                                     "name": "name"}}]}}}]}


# ------------------------------------------------------------- signing

def twilio_signature(token, url, params):
    """Twilio's documented algorithm (twilio-python RequestValidator): the
    full URL, then each field name and value, sorted by name and then by
    value, repeated pairs once; HMAC-SHA1 with the auth token, base64."""
    text = url
    for name in sorted(set(k for k, _ in params)):
        for value in sorted(set(v for k, v in params if k == name)):
            text += name + value
    mac = hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def slack_headers(secret, body, ts=None):
    """Slack's documented signing: v0=hex HMAC-SHA256 of "v0:ts:body"."""
    ts = str(int(time.time()) if ts is None else ts)
    base = b"v0:" + ts.encode() + b":" + body
    sig = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + sig}


class Ctx:
    def __init__(self, tap, srv):
        self.tap = tap
        self.srv = srv
        self.eps = srv.sources()

    def path(self, source):
        return self.srv.url("/receive/%s" % self.eps[(source, ENV)])

    def twilio(self, params, tamper=None, extra=None):
        """POST "params" (a list of pairs) as Twilio does, signed over the
        URL Twilio called; "tamper": (from, to) in the body after signing."""
        path = self.path("twilio")
        body = urllib.parse.urlencode(params).encode()
        hdrs = {"X-Twilio-Signature":
                twilio_signature(TW_TOKEN, PUBLIC + path, params)}
        hdrs.update(extra or {})
        if tamper:
            body = body.replace(tamper[0].encode(), tamper[1].encode(), 1)
        return self.srv.post(path, body, hdrs, content_type=FORM), body

    def slack(self, body, tamper=None):
        body = body.encode() if isinstance(body, str) else body
        hdrs = slack_headers(SLACK_SECRET, body)
        if tamper:
            body = body.replace(tamper[0].encode(), tamper[1].encode(), 1)
        return (self.srv.post(self.path("slack"), body, hdrs,
                              content_type=FORM), body)

    def ctl_json(self, *args):
        rc, out, err = self.srv.porterctl(*(list(args) + ["--json"]))
        if rc != 0:
            return None
        try:
            return json.loads(out)
        except ValueError:
            return None

    def logged(self, r):
        """The event an answer names: from "id", or "(event evt_...)"."""
        j = r.json if isinstance(r.json, dict) else {}
        evt = j.get("id")
        if evt is None:
            msg = j.get("message") or ""
            i = msg.find("(event evt_")
            evt = msg[i + 7:].rstrip(")").split()[0] if i >= 0 else None
        return self.srv.log(evt) if evt else None


def check_logged(tap, rec, label, status, verification, body):
    rec = rec or {}
    tap.eq((rec.get("status"), (rec.get("verification") or {}).get("status"),
            rec.get("body_format")), (status, verification, "form"),
           "%s  ... logged %s, %s, as a form" % (label, status, verification),
           "  record: %r" % (rec,))
    tap.eq(rec.get("body_text"), body.decode(),
           "%s  ... with the raw body exactly as received" % label)


# --------------------------------------------------------------- Twilio

STATUS = [("AccountSid", "AC0123456789abcdef0123456789abcdef"),
          ("ApiVersion", "2010-04-01"), ("From", "+15017250604"),
          ("MessageSid", "SM5f7b1c2e8a1d4e0012c3b4a5"),
          ("MessageStatus", "delivered"),
          ("SmsSid", "SM5f7b1c2e8a1d4e0012c3b4a5"),
          ("SmsStatus", "delivered"), ("To", "+15558675310")]


def t_twilio_vector(c):
    """The signing helper agrees with twilio-python's official vector."""
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"),
              ("Digits", "1234"), ("From", "+14158675309"),
              ("To", "+18005551212")]
    c.tap.eq(twilio_signature("12345",
                              "https://mycompany.com/myapp.php?foo=1&bar=2",
                              params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
             "twilio-python's vector signs as documented")


def t_twilio_status(c):
    label = "twilio message status callback"
    r, body = c.twilio(STATUS)
    c.tap.eq((r.status, (r.json or {}).get("event_type"),
              (r.json or {}).get("status")),
             (200, "message.delivered", "accepted"),
             "%s: 200 message.delivered accepted" % label, repr(r))
    check_logged(c.tap, c.logged(r), label, "accepted", "enforced:verified",
                 body)
    obj = c.ctl_json("objects", "sms", "SM5f7b1c2e8a1d4e0012c3b4a5") or {}
    c.tap.eq(obj.get("properties"), {"status": "delivered",
                                     "to": "+15558675310"},
             "%s  ... its mapping set sms/SM5f... from the decoded fields"
             % label, repr(obj))


def t_twilio_call(c):
    label = "twilio call status callback"
    r, body = c.twilio([("AccountSid", "AC01"), ("CallSid", "CA77"),
                        ("CallStatus", "completed"), ("CallDuration", "42"),
                        ("Direction", "outbound-api")])
    c.tap.eq((r.status, (r.json or {}).get("event_type")),
             (200, "call.completed"), "%s: 200 call.completed" % label,
             repr(r))
    obj = c.ctl_json("objects", "calls", "CA77") or {}
    c.tap.eq((obj.get("properties") or {}).get("seconds"), "42",
             "%s  ... its mapping set calls/CA77" % label, repr(obj))


def t_twilio_tampered(c):
    label = "twilio field changed after signing"
    params = [(k, v.replace("SM5f", "SM6f")) for k, v in STATUS]
    r, body = c.twilio(params, tamper=("MessageStatus=delivered",
                                       "MessageStatus=failed"))
    c.tap.eq((r.status, r.error_code()), (401, "invalid_signature"),
             "%s: 401 invalid_signature" % label, repr(r))
    rec = c.logged(r) or {}
    c.tap.eq((rec.get("verification") or {}).get("reason"),
             "no_matching_signature", "%s  ... reason no_matching_signature"
             % label, repr(rec))
    check_logged(c.tap, rec, label, "rejected", "enforced:failed", body)
    c.tap.eq(c.ctl_json("objects", "sms", "SM6f7b1c2e8a1d4e0012c3b4a5"),
             None, "%s  ... no effect" % label)


def t_twilio_retry(c):
    """Twilio's I-Twilio-Idempotency-Token: a retry is a duplicate."""
    label = "twilio retry with the same idempotency token"
    params = [(k, v.replace("SM5f", "SM7f")) for k, v in STATUS]
    tok = {"I-Twilio-Idempotency-Token": "8d1f1f64-ret-ry-token"}
    r1, _ = c.twilio(params, extra=tok)
    r2, _ = c.twilio(params, extra=tok)
    c.tap.eq((r1.status, (r1.json or {}).get("status"), r2.status,
              (r2.json or {}).get("status"),
              (r2.json or {}).get("original_event_id")),
             (200, "accepted", 200, "idempotent", (r1.json or {}).get("id")),
             "%s: accepted, then idempotent" % label, repr(r1), repr(r2))


# ---------------------------------------------------------------- Slack

COMMAND = ("token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&"
           "team_domain=example&channel_id=C2147483705&channel_name=test&"
           "user_id=U2147483697&user_name=Steve&command=%2Fdeploy&"
           "text=api+to+staging&response_url=https%3A%2F%2Fhooks.slack.com"
           "%2Fcommands%2F1234%2F5678&trigger_id=13345224609.738474920.8088")


def interaction():
    payload = {"type": "block_actions", "team": {"id": "T0001"},
               "user": {"id": "U0CA5", "name": "Amy McGee"},
               "trigger_id": "12466734323.1395872398",
               "actions": [{"action_id": "approve-deploy", "type": "button",
                            "value": "ok"}]}
    return "payload=" + urllib.parse.quote_plus(json.dumps(payload))


def t_slack_command(c):
    label = "slack slash command"
    r, body = c.slack(COMMAND)
    c.tap.eq((r.status, (r.json or {}).get("event_type"),
              (r.json or {}).get("status")), (200, "/deploy", "accepted"),
             "%s: 200 /deploy accepted" % label, repr(r))
    check_logged(c.tap, c.logged(r), label, "accepted", "enforced:verified",
                 body)
    runs = c.ctl_json("runs", "--workflow", "deploy")
    runs = runs if isinstance(runs, list) else [runs]
    got = [([r.get("id") if isinstance(r, dict) else r
             for r in x.get("recipients") or []], x.get("data"))
           for x in runs if isinstance(x, dict)]
    c.tap.has(got, (["U2147483697"], {"text": "api to staging",
                                      "channel": "C2147483705"}),
              "%s  ... its mapping ran deploy for the user, with the text "
              "decoded" % label)


def t_slack_interaction(c):
    label = "slack interactivity payload"
    r, body = c.slack(interaction())
    c.tap.eq((r.status, (r.json or {}).get("event_type")),
             (200, "block_actions"), "%s: 200 block_actions (payload.type)"
             % label, repr(r))
    user = c.ctl_json("users", "U0CA5") or {}
    c.tap.eq((user.get("name"), (user.get("properties") or {}).get("action")),
             ("Amy McGee", "approve-deploy"),
             "%s  ... its mapping read the JSON payload" % label, repr(user))


def t_slack_tampered(c):
    label = "slack field changed after signing"
    r, body = c.slack(COMMAND, tamper=("text=api", "text=db"))
    c.tap.eq((r.status, r.error_code()), (401, "invalid_signature"),
             "%s: 401 invalid_signature" % label, repr(r))
    check_logged(c.tap, c.logged(r), label, "rejected", "enforced:failed",
                 body)


def t_slack_json(c):
    """The Events API (JSON) still works beside the forms."""
    body = json.dumps({"type": "event_callback", "event_id": "EvF1",
                       "event": {"type": "app_mention",
                                 "text": "hi"}}).encode()
    r = c.srv.post(c.path("slack"), body, slack_headers(SLACK_SECRET, body))
    c.tap.eq((r.status, (r.json or {}).get("event_type")),
             (200, "app_mention"), "slack Events API JSON: 200 app_mention",
             repr(r))


# -------------------------------------------------- formats per source

def t_not_opted_in(c):
    before = len(c.srv.logs("--source", "tasks", "--limit", "1000"))
    r = c.srv.post(c.path("tasks"), "event=ping&user=u1", content_type=FORM)
    msg = (r.json or {}).get("message") or ""
    c.tap.eq((r.status, r.error_code()), (415, "unsupported_media_type"),
             "custom source without body_formats: a form is 415", repr(r))
    c.tap.ok("\"form\"" in msg and "body_formats" in msg,
             "  ... the message says how to opt in", msg)
    c.tap.eq(len(c.srv.logs("--source", "tasks", "--limit", "1000")), before,
             "  ... and it is not an event")
    r = c.srv.post(c.path("tasks"), {"type": "ping"})
    c.tap.eq(r.status, 200, "  ... JSON is still taken there", repr(r))


def t_form_only(c):
    r = c.srv.post(c.path("forms"), {"event": "ping", "user": "u1"})
    msg = (r.json or {}).get("message") or ""
    c.tap.eq((r.status, r.error_code()), (415, "unsupported_media_type"),
             "form-only source: JSON is 415", repr(r))
    c.tap.ok("form-encoded" in msg, "  ... the message says it takes forms",
             msg)
    r = c.srv.post(c.path("forms"), "event=ping&user=u-form&name=Zo%C3%A9+K",
                   content_type=FORM + "; charset=UTF-8")
    user = c.ctl_json("users", "u-form") or {}
    c.tap.eq((r.status, user.get("name")), (200, "Zo\u00e9 K"),
             "form-only source: a form reaches its mapping, decoded",
             repr(r), repr(user))


def t_bad_forms(c):
    for label, body, code in [
            ("a bad %-escape", b"event=ping&user=u%zz", "invalid_form"),
            ("invalid UTF-8 after decoding", b"event=ping&user=%FF%FE",
             "invalid_utf8")]:
        r = c.srv.post(c.path("forms"), body, content_type=FORM)
        c.tap.eq((r.status, r.error_code()), (400, code),
                 "form with %s: 400 %s" % (label, code), repr(r))
        rec = c.logged(r) or {}
        c.tap.eq((rec.get("status"), rec.get("error", {}).get("code")
                  if isinstance(rec.get("error"), dict) else
                  rec.get("error_code")), ("invalid", code),
                 "  ... logged invalid (%s)" % code, repr(rec))
        raw = rec.get("body_text")
        if raw is None and rec.get("body_base64"):
            raw = base64.b64decode(rec["body_base64"]).decode("latin-1")
        c.tap.eq(raw, body.decode("latin-1"),
                 "  ... with the body exactly as received")


# ------------------------------------------------ replay and rehearse

def t_replay(c):
    recs = c.srv.logs("--source", "twilio", "--type", "message.delivered",
                      "--limit", "1")
    evt = recs[0]["id"] if recs else None
    rc, out, err = c.srv.porterctl("replay", evt or "evt_none", "--json")
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    c.tap.eq((rc, j.get("event_type"), j.get("replay_of")),
             (0, "message.delivered", evt),
             "porterctl replay of a Twilio form event: typed from the "
             "logged form again", out, err)
    rec = c.srv.log(j.get("id")) if j.get("id") else {}
    c.tap.eq((rec or {}).get("body_format"), "form",
             "  ... the replay is logged as a form too", repr(rec))


def t_rehearse(c):
    fn = c.srv.path("command.txt")
    with open(fn, "w") as f:
        f.write(COMMAND)
    rc, out, err = c.srv.porterctl("rehearse", "--source", "slack", "--env",
                                   ENV, "--body", fn, "--json")
    try:
        j = json.loads(out)
    except ValueError:
        j = {}
    maps = j.get("mappings") or [{}]
    c.tap.eq((rc, j.get("event_type"), maps[0].get("status"),
              (maps[0].get("payload") or {}).get("data")),
             (0, "/deploy", "ok", {"text": "api to staging",
                                   "channel": "C2147483705"}),
             "porterctl rehearse: a form body is seen as a form", out, err)
    rc, out, err = c.srv.porterctl("rehearse", "--source", "slack", "--env",
                                   ENV, "--body", fn, "--content-type",
                                   "application/json")
    c.tap.ok(rc != 0 and "400 invalid_json" in err,
             "  ... --content-type application/json: the responder would "
             "answer 400", err)
    rc, out, err = c.srv.porterctl("rehearse", "--source", "tasks", "--env",
                                   ENV, "--body", fn)
    c.tap.ok(rc != 0 and "415" in err and "body_formats" in err,
             "  ... a form to a source without forms: 415", err)

    rc, token, err = c.srv.porterctl("token", "create", "viewer",
                                     "--read-only")
    token = token.strip()
    for label, payload in [
            ("payload.content_type", {"body": interaction(),
                                      "content_type": FORM}),
            ("detected", {"body": interaction()})]:
        r = c.srv.post(c.srv.url("/admin/api/sources/slack/rehearse"),
                       {"environment": ENV, "payload": payload},
                       {"Authorization": "Bearer " + token})
        j = r.json if isinstance(r.json, dict) else {}
        maps = j.get("mappings") or [{}]
        c.tap.eq((r.status, j.get("event_type"),
                  (maps[0].get("payload") or {}).get("name")),
                 (200, "block_actions", "Amy McGee"),
                 "admin rehearse of an interactivity form (%s)" % label,
                 repr(r))
    r = c.srv.post(c.srv.url("/admin/api/sources/slack/rehearse"),
                   {"environment": ENV, "payload": {
                       "body": "payload=%7Bnope", "content_type": FORM}},
                   {"Authorization": "Bearer " + token})
    c.tap.eq((r.status, r.error_code()), (400, "invalid_json"),
             "admin rehearse: a payload field that is not JSON is 400, as "
             "the responder answers", repr(r))


def main():
    tap = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    with h.Server(mount=MOUNT, max_procs=2) as srv:
        rc, out, err = srv.apply(config())
        tap.eq(rc, 0, "Twilio, Slack and two custom sources apply", err)
        if rc != 0:
            return tap.done()
        c = Ctx(tap, srv)
        for fn in (t_twilio_vector, t_twilio_status, t_twilio_call,
                   t_twilio_tampered, t_twilio_retry, t_slack_command,
                   t_slack_interaction, t_slack_tampered, t_slack_json,
                   t_not_opted_in, t_form_only, t_bad_forms, t_replay,
                   t_rehearse):
            tap.run(fn, c)
    return tap.done()


if __name__ == "__main__":
    # Stop lighttpd (by pid and group) if the watchdog fires.
    signal.signal(signal.SIGALRM, h._on_signal)
    signal.alarm(WATCHDOG)
    sys.exit(main())
