#!/usr/bin/env python3
"""make-seeds.py - write the seed inputs of the fuzz targets.

    tests/fuzz/make-seeds.py [OUTDIR]     (default: tests/fuzz/corpus)

Seeds come from the test fixtures: the shared signature vectors
(tests/vectors/signature-vectors.json), the JSON written in the unit tests
(string literals of tests/unit/*.c that parse as JSON), the examples and the
catalogue's payload shapes, put into each target's input framing (see the
comment at the top of tests/fuzz/fuzz-<target>.c).  Files are named
seed-<target>-<sha1 prefix>, so running the script again only adds what is
new.  The committed corpus is these seeds merged with what the fuzzers
found (libFuzzer -merge=1, see tests/fuzz/README), plus regress-* inputs
that once crashed a target.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", ".."))


def c_literals(path):
    """Adjacent C string literals of a file, joined and unescaped."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    # Drop comments so that their quotes do not confuse the scan.
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    lit = r'"((?:[^"\\\n]|\\.)*)"'
    run = re.compile(r'(?:%s\s*)+' % lit)
    for m in run.finditer(text):
        parts = re.findall(lit, m.group(0))
        raw = "".join(parts)
        try:
            yield unescape_c(raw)
        except ValueError:
            continue


def unescape_c(s):
    out = bytearray()
    i = 0
    b = s.encode("utf-8", errors="surrogateescape")
    simple = {ord("n"): 10, ord("t"): 9, ord("r"): 13, ord("0"): 0,
              ord("\\"): 92, ord('"'): 34, ord("'"): 39, ord("a"): 7,
              ord("b"): 8, ord("f"): 12, ord("v"): 11}
    while i < len(b):
        c = b[i]
        if c != 92:
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= len(b):
            raise ValueError("dangling backslash")
        c = b[i]
        if c == ord("x"):
            j = i + 1
            while j < len(b) and j < i + 3 and chr(b[j]) in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(b[i + 1:j], 16))
            i = j
        elif c in simple:
            out.append(simple[c])
            i += 1
        else:
            raise ValueError("escape")
    return bytes(out)


def unit_json():
    """JSON texts written in the unit tests (objects and arrays only)."""
    found = []
    d = os.path.join(TOP, "tests", "unit")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".c"):
            continue
        for raw in c_literals(os.path.join(d, name)):
            if not raw[:1] in (b"{", b"["):
                continue
            try:
                v = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            found.append((raw, v))
    return found


def vectors():
    with open(os.path.join(TOP, "tests", "vectors",
                           "signature-vectors.json")) as f:
        return json.load(f)


PRESET_OF = {"hmac-sha256-hex": "knock", "x-webhook-secret": "shared-header"}

# Descriptions in the vocabulary of pt_scheme_from_json (scheme.h).
SCHEMES = [
    '"stripe"', '"svix"', '"nope"',
    '{"preset":"stripe","tolerance_seconds":600,"tolerance_direction":"both"}',
    '{"preset":"svix","secret_encoding":"raw"}',
    '{"kind":"hmac","mac":"hmac-sha512","encoding":"base64",'
    '"signature_header":["x-sig","x-sig-2"],"separator":",","prefix":"s=",'
    '"signed":"{timestamp}:{id}:{body}","timestamp":{"element":"ts","unit":"ms"},'
    '"id":{"header":"x-id"},"tolerance_seconds":60,"tolerance_direction":"past",'
    '"secret_encoding":"whsec"}',
    '{"kind":"hmac","mac":"hmac-sha1","signature_header":"x-hub-signature",'
    '"prefix":"sha1=","signed":"{body}"}',
    '{"kind":"hmac","mac":"hmac-sha256","signature_header":"x-twilio-signature",'
    '"encoding":"base64","signed":"{url}{params}"}',
    '{"kind":"hmac","mac":"hmac-sha256","signature_header":"x-sig",'
    '"separator":" ","prefix":"v1,","signed":"{id}.{timestamp}.{body}",'
    '"timestamp":{"header":"x-ts"},"id":{"header":"x-id"},'
    '"secret_encoding":"v1,whsec"}',
    '{"kind":"bearer"}', '{"kind":"basic","header":"proxy-authorization"}',
    '{"kind":"header","header":"x-token"}',
    '{"preset":"workos","timestamp":{"element":"t","unit":"s"}}',
]


def scheme_seeds():
    seeds = []
    for v in vectors():
        preset = PRESET_OF.get(v["scheme"], v["scheme"])
        head = "".join("%s: %s\n" % (k, val) for k, val in v["headers"].items())
        now = "%d" % v["now"]
        if "url" in v:
            now += " " + v["url"]
        seeds.append("%s\n%s\n%s\n%s\n%s" % (preset, v["secret"], now, head,
                                             v["body"]))
    body = '{"type":"user.created","data":{"id":"u1"}}'
    for d in SCHEMES:
        seeds.append("%s\nwhsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n1800000000 "
                     "https://example.com/hook?a=1\nx-sig: s=00\n\n%s" % (d, body))
    seeds.append("*\nsecret\n1800000000\nauthorization: Bearer secret\n"
                 "x-webhook-secret: secret\n\n%s" % body)
    return seeds


def request(line, headers, body):
    return "%s\n%s\n%s" % (line, "".join("%s: %s\n" % h for h in headers), body)


def handler_seeds(payloads):
    j = [("Content-Type", "application/json")]
    open_ = "POST /receive/src_open_0001"
    ev = {
        "user": {"id": "u1", "name": "Ann", "email": "a@example.com",
                 "phone": "+1555", "plan": "pro", "a": 1},
        "user.deleted": {"id": "u1"},
        "object": {"collection": "projects", "id": "p1", "name": "P",
                   "props": {"k": 1}},
        "object.deleted": {"id": "p1"},
        "tenant": {"id": "t1", "name": "Acme", "branding": {"c": "red"},
                   "props": {"tier": 1}},
        "tenant.deleted": {"id": "t1"},
        "sub": {"collection": "projects", "id": "p1", "recipients": ["u1", "u2"],
                "role": "owner"},
        "unsub": {"collection": "projects", "id": "p1", "recipients": "u1"},
        "aud.add": {"users": ["u1", {"id": "u2"}], "tenant": "t1"},
        "aud.remove": {"key": "vip", "users": "u1"},
        "task.assigned": {"task_id": "t9", "assigned_to": "u1",
                          "assigned_by": "u2", "title": "Do it"},
        "task.cancelled": {"task_id": "t9", "recipients": ["u1"]},
        "dyn": {"workflow": "welcome", "recipients": ["u1"]},
        "off": {"id": "u1"},
    }
    seeds = []
    for i, (t, data) in enumerate(sorted(ev.items())):
        body = json.dumps({"type": t, "id": "e%d" % i,
                           "ts": "2026-11-23T10:15:00Z", "data": data})
        seeds.append(request(open_, j + [("X-Tz", "Europe/Paris")], body))
    # The same key twice, then a replay.
    b = json.dumps({"type": "user", "id": "dup", "data": {"id": "u7"}})
    seeds.append(request(open_, j, b) + "\n====\n" + request(open_, j, b) +
                 "\n====\n" + request(open_ + " replay", j, b))
    # Signed sources.
    seeds.append(request("POST /receive/src_signed_0001 sign",
                         j + [("X-Sub", "assigned"), ("X-Id", "k1")],
                         '{"kind":"task","occurred_at":1800000000,'
                         '"data":{"to":"u1"}}'))
    seeds.append(request("POST /receive/src_signed_0001",
                         j + [("X-Knock-Signature", "00" * 32)], '{"kind":"x"}'))
    seeds.append(request("POST /receive/src_clerk_0001 sign=msg_1", j,
                         '{"type":"user.created","timestamp":1800000000000,'
                         '"data":{"id":"user_1","email_addresses":'
                         '[{"email_address":"a@example.com"}]}}'))
    seeds.append(request("POST /receive/src_slack_0001 sign", j,
                         '{"type":"url_verification","challenge":"abc"}'))
    seeds.append(request("POST /receive/src_tw_0001 uri sign",
                         [("Content-Type", "application/json")],
                         '{"CallSid":"CA1"}'))
    # Form bodies: Twilio, Slack commands and interactivity, a custom
    # source that opted in, and the refusals.
    f = [("Content-Type", "application/x-www-form-urlencoded")]
    seeds.append(request("POST /receive/src_tw_0001 uri sign", f,
                         "MessageSid=SM1&MessageStatus=delivered&"
                         "SmsStatus=delivered&To=%2B15558675310"))
    seeds.append(request("POST /receive/src_slack_0001 sign", f,
                         "team_id=T1&user_id=U1&command=%2Fdeploy&text=now"))
    seeds.append(request("POST /receive/src_slack_0001 sign", f,
                         "payload=%7B%22type%22%3A%22block_actions%22%2C"
                         "%22user%22%3A%7B%22id%22%3A%22U1%22%7D%7D"))
    seeds.append(request(open_, f, "type=user&id=f1&data=%7B%22id%22%3A"
                         "%22u8%22%2C%22name%22%3A%22Fay%22%7D"))
    seeds.append(request(open_ + " replay", f, "type=user&id=f2&data="
                         "%7B%22id%22%3A%22u9%22%7D&data=%7B%7D"))
    seeds.append(request(open_, f, "type=user&data=%zz"))
    seeds.append(request(open_, f, "type=%FF"))
    seeds.append(request("POST /receive/src_signed_0001", f, "kind=x"))
    # CDPs: single calls and batches.
    seg = [{"type": "identify", "userId": "u1", "messageId": "m1",
            "traits": {"email": "a@example.com", "name": "Ann"},
            "timestamp": "2026-11-23T10:15:00.123Z"},
           {"type": "track", "event": "Order Completed", "userId": "u1",
            "messageId": "m2", "properties": {"total": 9.5}},
           {"type": "group", "groupId": "g1", "traits": {"name": "Acme"},
            "messageId": "m3"},
           {"type": "page", "name": "Home"}, 42]
    for src in ("src_seg_0001", "src_rudder_0001"):
        seeds.append(request("POST /receive/%s sign" % src, j,
                             json.dumps(seg[0])))
        seeds.append(request("POST /receive/%s sign" % src, j,
                             json.dumps({"batch": seg})))
    seeds.append(request("POST /receive/src_seg_0001", j, '{"batch":[]}'))
    # Supabase's database webhooks.
    seeds.append(request("POST /receive/src_supa_0001",
                         j + [("X-Webhook-Secret", "supa-secret")],
                         json.dumps({"type": "INSERT", "table": "users",
                                     "schema": "auth", "record": {
                                         "id": "u1", "email": "a@example.com",
                                         "raw_user_meta_data": {"n": 1}},
                                     "old_record": None})))
    # Reverse ETL calls.
    auth = j + [("Authorization", "Bearer ht-token")]
    ht = "/receive/src_ht_0001"
    for line, body in [
            ("PUT %s/v1/users/u%%201" % ht, '{"name":"Ann","email":"a@x"}'),
            ("DELETE %s/v1/users/u1" % ht, ""),
            ("POST %s/v1/users/bulk/identify" % ht,
             '{"users":[{"id":"u1","name":"A"},{"id":2}]}'),
            ("PUT %s/v1/objects/projects/p1" % ht, '{"name":"P","x":1}'),
            ("DELETE %s/v1/objects/projects/p1" % ht, ""),
            ("POST %s/v1/audiences/vip/members" % ht,
             '{"members":[{"user":{"id":"u1"},"tenant":"t1"},{"user":"u2"}]}'),
            ("DELETE %s/v1/audiences/vip/members" % ht,
             '{"members":[{"user":"u2"}]}'),
            ("GET %s/v1/users/u1" % ht, "")]:
        hs = auth if body else [("Authorization", "Bearer ht-token")]
        seeds.append(request(line + (" nolen" if not body else ""), hs, body))
    # Routing and bounds.
    good = '{"type":"user","data":{"id":"u1"}}'
    for line, hs, body in [
            ("GET /healthz", [], ""),
            ("POST /healthz", j, good),
            ("GET /receive/src_open_0001", j, good),
            ("POST /receive/", j, good),
            ("POST /nope", j, good),
            ("POST /porter/receive/src_open_0001 mount=/porter", j, good),
            ("POST /receive/src_open_0001?x=1 uri script=/cgi-bin/porter.cgi",
             j, good),
            ("POST /receive/src_open_0001 nolen", j, good),
            ("POST /receive/src_open_0001", j + [("Content-Length", "-1")],
             good),
            ("POST /receive/src_open_0001", j + [("Content-Length", "99999999")],
             good),
            ("POST /receive/src_open_0001 short", j, good),
            ("POST /receive/src_open_0001 chunk=3", j, good),
            ("POST /receive/src_open_0001", [("Content-Type", "text/plain")],
             good),
            ("POST /receive/src_open_0001 oom=40", j, good),
            ("POST /receive/src_open_0001", j, '{"type":"user","type":"x"}'),
            ("POST /receive/src_open_0001", j, '[1,2]'),
            ("POST /receive/src_open_0001", j, "")]:
        seeds.append(request(line, hs, body))
    # The admin API: query strings, logs, rehearsal, config (admin*.c).
    api = "/admin/api/"
    for line, body in [
            ("GET %swhoami admin" % api, ""),
            ("GET %sstatus admin-ro" % api, ""),
            ("GET %ssources admin" % api, ""),
            ("GET %ssources/open admin" % api, ""),
            ("GET %ssources/open/status admin" % api, ""),
            ("GET %ssources/open/events?environment=prod admin" % api, ""),
            ("GET %ssources/seg/logs?limit=2&status=accepted admin" % api, ""),
            ("GET %sevent_types?source=open&environment=prod admin" % api, ""),
            ("GET %slogs?source=open&environment=prod&event_type=user&"
             "status=accepted&verification=not_enforced:unsigned&"
             "idempotency_key=e1&since=2h&until=2026-11-23T10:15:00Z&limit=5"
             " admin" % api, ""),
            ("GET %slogs?before=evt_000SJHEA4S5Z4D9HDD86TJ1W2S&limit=1 admin"
             % api, ""),
            ("GET %slogs?after=evt_000SJHEA4S5Z4D9HDD86TJ1W2S admin" % api, ""),
            ("GET %slogs?a%%3Db=c+d&&x= admin" % api, ""),
            ("GET %slogs/evt_000SJHEA4S5Z4D9HDD86TJ1W2S admin" % api, ""),
            ("POST %slogs/evt_000SJHEA4S5Z4D9HDD86TJ1W2S/replay admin" % api,
             ""),
            ("POST %ssources/open/rehearse admin" % api,
             '{"environment":"prod","payload":{"body":{"type":"user",'
             '"data":{"id":"u1"}},"headers":{"X-Tz":"UTC"}}}'),
            ("GET %sconfig admin-ro" % api, ""),
            ("PUT %sconfig?dry_run=1 admin" % api,
             '{"sources":[{"key":"open","environments":{"prod":{'
             '"endpoint_id":"src_open_0001","verify":false}}}]}'),
            ("PUT %sconfig admin-ro" % api, '{}'),
            ("GET /metrics admin", ""),
            ("GET /admin", ""),
            ("GET /admin/ admin", ""),
            ("DELETE %slogs admin" % api, "")]:
        first = request(open_, j, '{"type":"user","id":"adm","data":{"id":"u1"}}')
        seeds.append(first + "\n====\n" + request(line, j if body else [], body))
    # Payloads written in the unit tests, to the open endpoint.
    for raw, v in payloads:
        if isinstance(v, dict) and not ({"sources", "workflows", "settings",
                                         "action", "kind", "preset",
                                         "mac"} & set(v)):
            seeds.append(request(open_, j, raw.decode("utf-8")))
    return seeds


def path_seeds(payloads):
    paths = ["body.data.id", "data.assigned_to[1].email", "headers.X-Id",
             "headers", "body", "data.items[1][1][0]", "batch[0].event",
             "data.", "a..b", "a[01]", "a[999999999999]", "headers.a.b",
             "data.traits", "n", "z.q", "t[0]", "data.\xc3\xa9"]
    maps = [
        '{"event_type":"x","action":"users_identify","params":{"id":"data.id",'
        '"name":{"path":["data.name","data.traits.name"]},"email":{"path":'
        '"data.email","default":"none"},"properties":{"path":"data.traits",'
        '"omit":["name"]}}}',
        '{"event_type":"x","action":"workflows_trigger","params":{"key":'
        '"k","recipients":"data.assigned_to","data":{"a":"data.task_id",'
        '"b":{"value":[1]},"c":{"d":"n"}}}}',
        '{"event_type":"x","action":"audiences_add_member","params":{"key":'
        '{"path":"data.tenant"},"users":"data.assigned_to"}}',
        '{"event_type":"x","action":"tenants_set","params":{"id":"data.tenant",'
        '"settings":{},"properties":{"path":"z","default":null}}}',
    ]
    seeds = []
    for i, p in enumerate(paths):
        seeds.append("%s\n%s\n" % (p, maps[i % len(maps)]))
    for raw, v in payloads:
        if isinstance(v, dict) and "action" in v:
            seeds.append("data.id\n%s\n" % raw.decode("utf-8"))
    seeds.append("items[0].id\n%s\n{\"items\":[{\"id\":1}]}" % maps[0])
    return seeds


def filter_seeds():
    """Filters of test-filter.c, each with the JSON literal after it (the
    body it is tested on, in the table) and as a whole-event filter."""
    docs = []
    for raw in c_literals(os.path.join(TOP, "tests", "unit",
                                       "test-filter.c")):
        try:
            json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if b"\n" not in raw:
            docs.append(raw.decode("utf-8"))
    event = ('{"body":{"type":"order.created","amount":12.5},"headers":'
             '{"x-event":"order"},"preprocess":{"tier":"gold"}}')
    seeds = []
    for i, d in enumerate(docs):
        seeds.append("%s\n%s" % (d, docs[i + 1] if i + 1 < len(docs) else
                                 event))
        seeds.append("%s\n%s" % (d, event))
    return seeds


def config_seeds(payloads):
    seeds = []
    for raw, v in payloads:
        if isinstance(v, dict) and ({"sources", "workflows", "settings"} & set(v)):
            seeds.append(raw.decode("utf-8"))
    with open(os.path.join(TOP, "examples", "tasks.json")) as f:
        seeds.append(f.read())
    types = ["custom", "stripe", "clerk", "workos", "supabase", "posthog",
             "github", "shopify", "slack", "segment", "rudderstack",
             "freshpaint", "jitsu", "hightouch", "census", "polytomic"]
    for t in types:
        seeds.append(json.dumps({"sources": [{"key": "s", "type": t,
                                              "environments": {"prod": {}}}]}))
    seeds.append(json.dumps({"sources": [{"key": "s", "environments": {"p": {
        "signing_keys": [{"secret": {"file": "/etc/porter/key"}},
                         {"secret": {"env": "HOME"}},
                         {"secret": {"redacted": "sha256:000000000000"}},
                         {"secret": "k", "expires_at": 1800000000}],
        "signature": {"preset": "stripe", "tolerance_seconds": 10},
        "event_type_template": "{body.a}:{headers.x-b}",
        "event_type_rule": "segment", "batch_path": "body.batch",
        "public_url": "https://example.com/p"}}}],
        "workflows": {"w": {"exec": ["/bin/true"], "timeout_ms": 100,
                            "max_output_bytes": 10}},
        "settings": {"durability": "relaxed", "log_retention_days": 7}}))
    # Preprocess scripts and the variables they read (conf_vars.c).
    seeds.append(json.dumps({
        "variables": {"A": "secret-value", "B": {"env": "HOME"},
                      "C": {"file": "/etc/porter/c"},
                      "D": {"redacted": "hmac:0000000000000000"}},
        "sources": [{"key": "s", "environments": {"p": {
            "verify": True,
            "preprocess": {"script": "function main(c) { return "
                           "{verified: true}; }", "timeout_ms": 10,
                           "memory_kb": 64},
            "event_type_path": "preprocess.t",
            "mappings": [{"event_type": "x", "action": "users_identify",
                          "params": {"id": "preprocess.id"},
                          "filter": {"preprocess": {"n": {"$gt": 1}}}}]},
            "q": {"preprocess": {"file": "/etc/porter/p.js"}}}}]}))
    return seeds


def json_seeds(payloads):
    seeds = [raw.decode("utf-8", errors="surrogateescape") for raw, _ in payloads]
    for v in vectors():
        seeds.append(v["body"])
    seeds += ['1e400', '-0.0e-5', '123456789012345678901234567890',
              '"\\ud83d\\ude00\\u0000"', '[[[[[]]]]]', 'null', ' true ']
    return seeds


def time_seeds():
    return ["2026-11-23T10:15:00Z", "2026-11-23T10:15:00.123456789+05:30",
            "1970-01-01t00:00:00z", "0000-01-01T00:00:00+23:59",
            "9999-12-31T23:59:60-00:00", "2024-02-29 12:00:00Z",
            "1800000000", "1800000000000", "9999999999999999", "1.5e9",
            "-5", "90s", "15m", "2h", "7d", "1w", "9223372036854775807s",
            '"2026-11-23T10:15:00Z"', "[]",
            # Byte sizes (PORTER_MAP_SIZE): suffixes, overflow, junk.
            "4G", "512m", "1048576", "16777215T", "16777216T",
            "99999999999G", "18446744073709551616", "0", "4", "4GB"]


def http_seeds():
    return ["123\napplication/json; charset=utf-8\n/receive/x\n-\n-\n-",
            "0\napplication/cloudevents+json\n-\n/porter/receive/x?y=1\n-\n/porter",
            "18446744073709551615\ntext/plain\n-\n/cgi-bin/porter.cgi/receive/x"
            "\n/cgi-bin/porter.cgi\n-",
            "007\n APPLICATION/JSON\n-\n-\n/receive/x\n-",
            "-1\n+json\n\nreceive\n-\n/",
            # Headers: one name twice (CGI's "svix-id"/"svix_id"), and
            # what a log line must escape.
            "12\napplication/json\n/receive/x\n-\n-\n-\nsvix-id:msg_1\n"
            "svix-timestamp:1700000000\nsvix-id:msg_2\nsvix-id:msg_1",
            "1\ntext/plain\r\nporter[1]: 200 FORGED\n/admin/api/x\n-\n-\n-"
            "\nx-a:\x1b[31m\x7f\\n\nx-a:\xc2\x85\xe2\x80\xa8\xff\xc0\xaf"]


def httpc_seeds():
    # Header lines first (the whole input), then secret, id and body for
    # signing, split at "\n--\n".
    sec = "whsec_cG9ydGVyLWh0dHBjLXRlc3Qta2V5LTAxMjM0NTY3ODk="
    return [sec + "\n--\nrun_01JD8X4S\n--\n{\"run\":{\"id\":\"run_1\"}}",
            "cG9ydGVyLWh0dHBjLXRlc3Qta2V5LTAxMjM0NTY3ODk=\n--\nmsg_x\n--\n",
            "whsec_!!!\n--\nrun_1\n--\n{}",
            sec + "\n--\nrun\x01bad\n--\n{}",
            "Authorization: Bearer t0k\nX-Empty:\n\nContent-Type: text/plain",
            "X-A: a\rInjected: b\n--\n",
            "Bad Name: x\n: empty\nNoColon",
            "X-Tab:\ta\tb\nX-Del: \x7f\nX-Nul: a\x00b",
            "A" * 70 + ": x\n" + "B: " + "v" * 8200]


def retl_seeds():
    return ["PUT /v1/users/u%201\n{\"name\":\"Ann\"}",
            "DELETE /v1/users/u1\n",
            "POST /v1/users/bulk/identify\n{\"users\":[{\"id\":\"u1\",\"a\":1},"
            "{\"id\":2}]}",
            "PUT /v1/objects/projects/p%2F1\n{\"name\":\"P\"}",
            "DELETE /v1/objects/projects/p1\n",
            "POST /v1/audiences/vip/members\n{\"members\":[{\"user\":{\"id\":"
            "\"u1\"},\"tenant\":\"t1\"},{\"user\":\"u2\"},{\"user\":\"u3\","
            "\"tenant\":\"t1\"}]}",
            "DELETE /v1/audiences/vip/members\n{\"members\":[{\"user\":\"u2\"}]}",
            "GET /v1/users/u1\n", "PUT /v1/users/%zz\n{}",
            "PUT //v1//users//a/\n{}"]


def admin_seeds():
    """Request lines of fuzz-admin: paths, queries, flags ("@N": ids)."""
    lines = [
        "whoami", "status", "sources", "sources/open", "sources/open/status",
        "sources/open/events?environment=prod", "sources/nope",
        "sources/seg/logs?limit=2&status=accepted",
        "event_types?source=open&environment=prod", "event_types?source=%6Fpen",
        "logs", "logs?limit=1", "logs?limit=200", "logs?limit=0",
        "logs?limit=201", "logs?limit=+5", "logs?limit=1e2",
        "logs?source=open&environment=prod&event_type=task.assigned",
        "logs?source=open&status=idempotent", "logs?status=rejected",
        "logs?verification=not_enforced:unsigned",
        "logs?idempotency_key=e1&source=open",
        "logs?since=2h&until=0s", "logs?since=2026-11-23T10:15:00Z",
        "logs?until=2026-11-23T10:15:00.5+01:00&limit=3",
        "logs?since=99999999999d", "logs?since=9223372036854775807s",
        "logs?before=@3&limit=1", "logs?after=@0", "logs?after=@8",
        "logs?after=@1&since=1h", "logs?before=@2&until=1m",
        "logs?before=@1&after=@2", "logs?before=evt_x",
        "logs?environment=prod", "logs?a%3Db=c+d&&x=", "logs?x",
        "logs?%", "logs?a=%4", "logs?a=%00", "logs?a=%zz", "logs?=",
        "logs?&&&", "logs?source=open&source=seg",
        "logs?" + "&".join("p%d=1" % i for i in range(17)),
        "logs/@0", "logs/@4", "logs/@8", "logs/evt_", "logs/@0/x",
        "sources/open/logs?source=open", "sources/open/logs?environment=dev",
        "sources//logs", "sources/open/", "/admin/api", "/admin/api/",
        "a/b/c/d/e", "HEAD logs?limit=2", "DELETE logs", "POST logs",
        "POST logs/@0/replay", "POST logs/@0/replay ro",
        "POST logs/@9/replay", "GET config", "GET config ro",
        "PUT config ro body={}", "PUT config body=[]",
        "POST sources/open/rehearse?environment=prod body={\"payload\":"
        "{\"body\":{\"type\":\"task.assigned\",\"data\":{\"to\":"
        "\"u1\"}},\"headers\":{\"X-A\":\"1\"}}}",
        "POST sources/open/rehearse body={\"environment\":\"dev\","
        "\"payload\":{\"body\":\"{\\\"a\\\":1}\"}}",
        "POST sources/open/rehearse body={", "logs anon", "status anon",
        "logs?limit=5 uri mount=/porter", "logs?limit=5 uri",
        "/cgi-bin/porter.cgi/admin/api/logs script=/cgi-bin/porter.cgi",
        "logs?since=2h oom=5", "logs/@0 oom=12", "/metrics", "/metrics anon",
        "/admin", "/admin/", "/admin/app.js", "/admin/../x", "POST /admin/",
    ]
    seeds = list(lines)
    # A few sessions of several calls each.
    seeds.append("\n".join(lines[:8]))
    seeds.append("\n".join(["logs?limit=1", "logs?before=@0&limit=1",
                            "logs?after=@6", "POST logs/@0/replay",
                            "logs?status=accepted&limit=2"]))
    return seeds


def form_seeds():
    """fuzz-form: a byte (odd: "payload" and "p" are JSON fields), then a
    form body: what Twilio and Slack post, the signature vectors' forms, and
    the edges of the encoding."""
    bodies = [
        "AccountSid=AC1&ApiVersion=2010-04-01&From=%2B15017250604&"
        "MessageSid=SM1&MessageStatus=delivered&SmsSid=SM1&"
        "SmsStatus=delivered&To=%2B15558675310",
        "CallSid=CA1&CallStatus=completed&CallDuration=42",
        "token=x&team_id=T1&command=%2Fweather&text=94070+now&"
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1",
        "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234",
        "a=&=b", "a", "a=1;b=2", "&&a=1&&", "a+b=c+d", "a=%2B%20",
        "k=%C3%A9t%C3%A9", "a=%", "a=%4", "a=%zz", "a=%FF", "a=%ED%A0%80",
        "a%00b=1", "a=x%00y", "a=1&a=2&a=3", "",
    ]
    with open(os.path.join(TOP, "tests", "vectors",
                           "signature-vectors.json")) as f:
        for v in json.load(f):
            ct = {k.lower(): x for k, x in v["headers"].items()}
            if "form" in ct.get("content-type", "") or v["scheme"] == "slack":
                bodies.append(v["body"])
    seeds = ["0" + b for b in bodies]
    seeds += ["1payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A"
              "%7B%22id%22%3A%22U1%22%7D%7D",
              "1payload=1&payload=%5B2%5D&p=null", "1payload=nope",
              "1payload=", "1p=%7B%22a%22%3A1%2C%22a%22%3A2%7D"]
    return seeds


def leb128(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7f | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def compress_seeds(payloads):
    """Packed records (src/compress.h) in fuzz-compress.c's framing.

    The frames come from the zstd command (Debian package zstd), an
    encoder that is not ours: content size (file input), checksum, no
    dictionary id, the magic cut off; the dictionary is trained by it on
    bench/bodies.  Without the command only the round-trip seeds are
    written."""
    bodies = [raw for raw, _ in payloads[:20]]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([os.path.join(TOP, "bench", "bodies"), "-n", "300",
                        "-d", os.path.join(tmp, "b")], check=True)
        names = sorted(os.listdir(os.path.join(tmp, "b")))
        samples = []
        for n in names:
            with open(os.path.join(tmp, "b", n), "rb") as f:
                samples.append(f.read())
        bodies += samples[:12]
        # op 2: bytes to round-trip without a dictionary.
        seeds = [b"\x02" + b for b in bodies]
        seeds += [b"\x02", b"\x02{}", b"\x02" + bytes(range(256)),
                  b"\x02" + b"\0" * 300]
        # op 0: records without a dictionary; raw ones; broken ones.
        seeds += [b"\x00\x00" + leb128(len(b)) + b for b in bodies[:4]]
        seeds += [b"\x00", b"\x00\x00\x00", b"\x00\x01\x81\x80\xc0\x08\x24",
                  b"\x00\x02\x05\x00\x24"]
        # Records of parts (PT_Z_CAT): two raw parts, a part in parts.
        def raw(b):
            return b"\x00" + leb128(len(b)) + b
        for b in bodies[:3]:
            h = len(b) // 3
            seeds.append(b"\x00\x03" + leb128(len(b)) +
                         leb128(len(raw(b[:h]))) + raw(b[:h]) +
                         leb128(len(raw(b[h:]))) + raw(b[h:]))
        seeds += [b"\x00\x03\x02\x03\x00\x01{\x03\x00\x01}",
                  b"\x00\x03\x03\x03\x00\x01{\x0a\x03\x02\x03\x00\x01{"
                  b"\x03\x00\x01}"]
        if shutil.which("zstd") is None:
            print("compress: no zstd command (Debian package zstd): "
                  "round-trip seeds only", file=sys.stderr)
            return seeds
        dict_path = os.path.join(tmp, "dict")
        subprocess.run(["zstd", "-q", "--train", "--maxdict=4096",
                        "--dictID=7", "-o", dict_path] +
                       [os.path.join(tmp, "b", n) for n in names[12:]],
                       check=True)
        with open(dict_path, "rb") as f:
            zdict = f.read()
        dict_part = len(zdict).to_bytes(2, "big") + zdict

        def frame(data, with_dict):
            path = os.path.join(tmp, "in")
            with open(path, "wb") as f:
                f.write(data)
            cmd = ["zstd", "-q", "-c", "--check", "--no-dictID", path]
            if with_dict:
                cmd[1:1] = ["-D", dict_path]
            out = subprocess.run(cmd, check=True,
                                 stdout=subprocess.PIPE).stdout
            assert out[:4] == b"\x28\xb5\x2f\xfd"
            return out[4:]
        for b in bodies[:6] + samples[12:16]:
            seeds.append(b"\x00\x01" + leb128(len(b)) + frame(b, False))
            # op 1: the dictionary, then a record made with it.
            seeds.append(b"\x01" + dict_part + b"\x02" + leb128(len(b)) +
                         b"\x07" + frame(b, True))
        # op 3: the dictionary, then bytes to pack with it.
        seeds += [b"\x03" + dict_part + b for b in samples[:6]]
        seeds.append(b"\x03" + dict_part)
    return seeds


def write(outdir, target, seeds):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    n = 0
    for s in seeds:
        data = s if isinstance(s, bytes) else s.encode("utf-8",
                                                         errors="surrogateescape")
        name = "seed-%s-%s" % (target, hashlib.sha1(data).hexdigest()[:12])
        path = os.path.join(d, name)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)
            n += 1
    print("%s: %d seeds (%d new)" % (target, len(seeds), n))


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        TOP, "tests", "fuzz", "corpus")
    payloads = unit_json()
    write(outdir, "handler", handler_seeds(payloads))
    write(outdir, "scheme", scheme_seeds())
    write(outdir, "path", path_seeds(payloads))
    write(outdir, "filter", filter_seeds())
    write(outdir, "time", time_seeds())
    write(outdir, "json", json_seeds(payloads))
    write(outdir, "config", config_seeds(payloads))
    write(outdir, "retl", retl_seeds())
    write(outdir, "http", http_seeds())
    write(outdir, "admin", admin_seeds())
    write(outdir, "form", form_seeds())
    write(outdir, "compress", compress_seeds(payloads))
    write(outdir, "httpc", httpc_seeds())


if __name__ == "__main__":
    main()
