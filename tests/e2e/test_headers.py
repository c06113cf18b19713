#!/usr/bin/env python3
"""test_headers.py - request headers and what the log makes of them,
through a real lighttpd (TAP).

  twice        lighttpd hands "svix-id" and "svix_id" to the responder
               under one name (HTTP_SVIX_ID): a signed Clerk request
               replayed with an extra "svix_id: other" is refused 400
               ambiguous_header (either order) and runs no second time;
               the same value twice is accepted; the original replayed
               as it was is idempotent
  credentials  a shared-header source's "x-hook-key" is "[redacted]" in
               the event log, the admin API and porterctl log, whatever
               its name
  fingerprints the masked secret shown to a read-only token and by
               porterctl export is keyed per store: the same in one store,
               different in another, not the unkeyed SHA-256; applying an
               export back changes nothing
  unverified   a rejected request whose body names its type shows it,
               marked unverified, in porterctl logs/log and the API; it is
               not a received event type and runs nothing
  signatures   upper-case hex verifies; a request signed with an expired
               key is refused with the reason key_expired
"""

import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 300
SVIX_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HOOK_KEY = "hook-e2e-credential-7d1f"
WEAK = "hunter2"
KNOCK_KEY = "knock-e2e-current-key"
OLD_KEY = "knock-e2e-retired-key"
CLERK = "src_clerk_headers_e2e_1"
HOOKS = "src_hooks_headers_e2e_1"
KNOCK = "src_knock_headers_e2e_1"

CONFIG = {"sources": [
    {"key": "clerk", "type": "clerk", "environments": {"production": {
        "endpoint_id": CLERK,
        "signing_keys": [{"secret": SVIX_SECRET}]}}},
    {"key": "hooks", "type": "custom", "environments": {
        "production": {
            "endpoint_id": HOOKS, "verify": True,
            "signature": {"kind": "header", "header": "x-hook-key"},
            "signing_keys": [{"secret": HOOK_KEY}],
            "mappings": [{"event_type": "task.assigned",
                          "action": "users_identify",
                          "params": {"id": "data.user"}}]},
        "knock": {
            "endpoint_id": KNOCK, "verify": True,
            "signing_keys": [
                {"secret": OLD_KEY, "expires_at": "2001-01-01T00:00:00Z"},
                {"secret": KNOCK_KEY}, {"secret": WEAK}]}}}]}

USER = {"type": "user.created", "object": "event",
        "data": {"id": "user_e2e_1", "email_addresses": [
            {"email_address": "ann@example.com"}]}}
USER_BODY = json.dumps(USER).encode()


def newest_record(s):
    """The newest event with everything porterctl log shows, or {}."""
    return s.log((s.logs("--limit", "1") or [{}])[0].get("id", "")) or {}


def clerk_post(s, headers):
    return s.post(s.url("/receive/" + CLERK), USER_BODY, headers)


def accepted_user_events(s):
    return [e for e in s.logs("--source", "clerk")
            if e.get("status") == "accepted"]


def t_twice(tap, s):
    signed = h.svix_headers(SVIX_SECRET, "msg_e2e_original", USER_BODY)
    r = clerk_post(s, signed)
    tap.eq((r.status, (r.json or {}).get("status")), (200, "accepted"),
           "twice: the signed Clerk request is accepted", repr(r), s.tail())
    nlogged = len(s.logs())

    for desc, hdrs in (
            ("after", dict(signed, svix_id="msg_e2e_forged")),
            ("before", dict([("svix_id", "msg_e2e_forged")] +
                            list(signed.items())))):
        r = clerk_post(s, hdrs)
        tap.eq((r.status, r.error_code()), (400, "ambiguous_header"),
               "twice: replayed with svix_id %s svix-id: 400 "
               "ambiguous_header" % desc, repr(r), s.tail())
        tap.ok("svix-id" in ((r.json or {}).get("message") or ""),
               "twice: ... the message names the header", repr(r))
    tap.eq(len(s.logs()), nlogged, "twice: the refused requests are no "
           "events")
    tap.has(s.tail(), "400 ambiguous_header", "twice: ... each has a line "
            "in the error log")

    r = clerk_post(s, signed)
    tap.eq((r.status, (r.json or {}).get("idempotent")), (200, True),
           "twice: the original again is idempotent", repr(r))
    tap.eq(len(accepted_user_events(s)), 1, "twice: one execution in all")

    again = h.svix_headers(SVIX_SECRET, "msg_e2e_second", USER_BODY)
    r = clerk_post(s, dict(again, svix_id="msg_e2e_second"))
    tap.eq((r.status, (r.json or {}).get("status")), (200, "accepted"),
           "twice: the same value under both spellings is accepted",
           repr(r), s.tail())
    rec = s.log((r.json or {}).get("id", "")) or {}
    tap.eq(((rec.get("headers") or {}).get("svix-id"),
            (rec.get("idempotency") or {}).get("key")),
           ("msg_e2e_second", "msg_e2e_second"),
           "twice: ... logged and keyed with that value", repr(rec))


def token(s, name, *flags):
    rc, out, err = s.porterctl("token", "create", name, *flags)
    return out.strip() if rc == 0 else None


def api(s, path, tok):
    return s.get(s.url("/admin/api/" + path),
                 {"Authorization": "Bearer " + tok})


def t_credentials(tap, s, ro):
    task = {"type": "task.assigned", "data": {"user": "u_cred"}}
    r = s.post(s.url("/receive/" + HOOKS), task, {"X-Hook-Key": HOOK_KEY})
    tap.eq(r.status, 200, "credentials: the shared header key is accepted",
           repr(r), s.tail())
    evt = (r.json or {}).get("id", "")
    rec = s.log(evt) or {}
    tap.eq((rec.get("headers") or {}).get("x-hook-key"), "[redacted]",
           "credentials: porterctl log --json shows x-hook-key [redacted]",
           repr(rec.get("headers")))
    rc, out, err = s.porterctl("log", evt)
    tap.ok(rc == 0 and "[redacted]" in out and HOOK_KEY not in out,
           "credentials: porterctl log (text): redacted, the key nowhere",
           out[:600], err)
    r = api(s, "logs/" + evt, ro)
    tap.ok(r.status == 200 and ((r.json or {}).get("headers") or {}).get(
        "x-hook-key") == "[redacted]" and HOOK_KEY.encode() not in r.raw,
        "credentials: the admin API (read-only token): redacted, the key "
        "nowhere", repr(r))
    r = api(s, "logs?source=hooks", ro)
    tap.ok(r.status == 200 and HOOK_KEY.encode() not in r.raw,
           "credentials: the log listing shows the key nowhere", repr(r))
    r = s.post(s.url("/receive/" + HOOKS), task, {"X-Hook-Key": "guess"})
    rec = newest_record(s)
    tap.eq((r.status, (rec.get("headers") or {}).get("x-hook-key")),
           (401, "[redacted]"), "credentials: a wrong key is redacted too",
           repr(rec.get("headers")))


def redacted_of(doc, source, env, i=0):
    for src in doc.get("sources", []):
        if src.get("key") == source:
            keys = src["environments"][env]["signing_keys"]
            return (keys[i].get("secret") or {}).get("redacted")
    return None


def t_fingerprints(tap, s, ro):
    r = api(s, "sources", ro)
    tap.eq(r.status, 200, "fingerprints: GET sources with a read-only token",
           repr(r))
    data = (r.json or {}).get("data") or []
    shown = redacted_of({"sources": data}, "hooks", "knock", 2)
    unkeyed = "sha256:" + hashlib.sha256(WEAK.encode()).hexdigest()[:12]
    tap.ok(isinstance(shown, str) and shown.startswith("hmac:") and
           len(shown) == 21 and unkeyed[7:] not in shown,
           "fingerprints: the weak key shows as hmac:<16 hex>, not its "
           "unkeyed hash", shown, unkeyed)
    tap.ok(WEAK.encode() not in r.raw and HOOK_KEY.encode() not in r.raw,
           "fingerprints: no secret in the answer")
    rc, out, err = s.porterctl("export")
    exported = json.loads(out) if rc == 0 else {}
    tap.eq(redacted_of(exported, "hooks", "knock", 2), shown,
           "fingerprints: porterctl export shows the same fingerprint", err)
    rc, out2, err = s.porterctl("export")
    tap.eq(out2, out, "fingerprints: a second export is identical")
    rc, out, err = s.apply(exported)
    tap.ok(rc == 0 and "no changes" in out.lower(),
           "fingerprints: applying the export back changes nothing",
           out, err)
    r = s.post(s.url("/receive/" + KNOCK), USER_BODY,
               {"X-Knock-Signature": h.sign(WEAK, USER_BODY)})
    tap.eq(r.status, 200, "fingerprints: ... and the secret still works",
           repr(r))

    other = h.Workdir()
    try:
        other.apply(CONFIG)
        rc, out, err = other.porterctl("export")
        tap.ok(rc == 0 and redacted_of(json.loads(out), "hooks", "knock", 2)
               not in (None, shown), "fingerprints: the same secret in "
               "another store: another fingerprint", out[:300], err)
    finally:
        other.close()


def t_unverified(tap, s, ro):
    before = json.loads(s.porterctl("events", "--source", "hooks", "--env",
                                    "production", "--json")[1] or "[]")
    task = {"type": "task.assigned", "data": {"user": "u_forged"}}
    r = s.post(s.url("/receive/" + HOOKS), task, {"X-Hook-Key": "forged"})
    tap.eq((r.status, r.error_code()), (401, "invalid_signature"),
           "unverified: a forged typed request: 401", repr(r))
    rc, out, err = s.porterctl("logs", "--limit", "1")
    tap.ok(rc == 0 and "task.assigned (unverified)" in out and
           "rejected" in out, "unverified: porterctl logs shows "
           "\"task.assigned (unverified)\"", out, err)
    evt = out.split()[1] if rc == 0 and len(out.split()) > 1 else ""
    rc, out, err = s.porterctl("log", evt)
    tap.ok(rc == 0 and "event_type: task.assigned (unverified" in out,
           "unverified: porterctl log says so", out[:500], err)
    r = api(s, "logs/" + evt, ro)
    j = r.json or {}
    tap.eq((j.get("event_type"), j.get("event_type_unverified"),
            j.get("status")), ("task.assigned", True, "rejected"),
           "unverified: the API gives the type, marked unverified", repr(r))
    r = api(s, "logs?source=hooks&environment=production&"
            "event_type=task.assigned", ro)
    ids = [e.get("id") for e in (r.json or {}).get("data", [])]
    tap.has(ids, evt, "unverified: found by its type", repr(r))
    after = json.loads(s.porterctl("events", "--source", "hooks", "--env",
                                   "production", "--json")[1] or "[]")
    tap.eq(after, before, "unverified: not a received event type "
           "(porterctl events unchanged)")
    rc, out, err = s.porterctl("users", "u_forged")
    tap.ok(rc != 0 or "u_forged" not in out, "unverified: nothing ran",
           out, err)
    rc, out, err = s.porterctl("check")
    tap.eq(rc, 0, "unverified: porterctl check: the indexes agree", out,
           err)


def t_signatures(tap, s):
    body = json.dumps({"type": "task.created"}).encode()
    r = s.post(s.url("/receive/" + KNOCK), body,
               {"X-Knock-Signature": h.sign(KNOCK_KEY, body).upper()})
    tap.eq(r.status, 200, "signatures: upper-case hex verifies", repr(r),
           s.tail())
    r = s.post(s.url("/receive/" + KNOCK), body,
               {"X-Knock-Signature": h.sign(OLD_KEY, body)})
    rec = newest_record(s)
    tap.eq((r.status, rec.get("verification")),
           (401, {"status": "enforced:failed", "reason": "key_expired"}),
           "signatures: signed with the expired key: 401, key_expired",
           repr(r), repr(rec))
    r = s.post(s.url("/receive/" + KNOCK), body,
               {"X-Knock-Signature": h.sign("never-a-key", body)})
    rec = newest_record(s)
    tap.eq((rec.get("verification") or {}).get("reason"), "no_matching_key",
           "signatures: an unknown key: still no_matching_key", repr(rec))


def main():
    tap = h.Tap()
    h.watchdog(tap, WATCHDOG)
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    h.require_binaries()
    with h.Server(mount="/") as s:
        rc, out, err = s.apply(CONFIG)
        if rc != 0:
            h.bail_out("apply: " + err)
        ro = token(s, "viewer", "--read-only")
        tap.ok(ro is not None, "a read-only token")
        tap.run(t_twice, tap, s)
        tap.run(t_credentials, tap, s, ro)
        tap.run(t_fingerprints, tap, s, ro)
        tap.run(t_unverified, tap, s, ro)
        tap.run(t_signatures, tap, s)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
