#!/usr/bin/env python3
"""test_filters.py - filters on mappings through a real lighttpd (TAP).

One lighttpd (lighttpd.conf.example, Porter over FastCGI under /porter)
with one custom source whose "order.paid" event has four mappings, each
with a filter (Hookdeck's syntax, porter.conf(5) "Filters"):

  big      objects_set "big"    body.amount >= 100
  europe   objects_set "europe" header x-region in ["eu", "uk"]
  vip      users_identify       $or: customer.tier is "gold", or
                                customer.tags contains "vip"
  nottest  objects_set "live"   $not: body.livemode is false

Checked: a mapping whose filter matches runs (its effect is in the
store); one that does not is not run, and the event's action log says so
with status "filtered" and the condition that failed (its JSON pointer
and reason, never a value); the event is still accepted with 200;
rehearse (porterctl and POST /admin/api/sources/<key>/rehearse) shows the
same verdicts; apply refuses a bad operator naming its JSON pointer, and
the store keeps the configuration it had.

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_filters.py
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 900 if h.VALGRIND else 180   # seconds for the whole file
MOUNT = "/porter"
ENV = "production"


def mappings():
    def obj(coll, flt):
        return {"event_type": "order.paid", "action": "objects_set",
                "params": {"collection": {"value": coll}, "id": "id",
                           "properties": {"amount": "amount"}},
                "filter": flt}
    return [
        obj("big", {"body": {"amount": {"$gte": 100}}}),
        obj("europe", {"headers": {"x-region": {"$in": ["eu", "uk"]}}}),
        {"event_type": "order.paid", "action": "users_identify",
         "params": {"id": "customer.id"},
         "filter": {"$or": [{"body": {"customer": {"tier": "gold"}}},
                            {"body": {"customer": {"tags": "vip"}}}]}},
        obj("live", {"$not": {"body": {"livemode": False}}}),
    ]


def config(extra=None):
    env = {"verify": False, "mappings": mappings()}
    env.update(extra or {})
    return {"sources": [{"key": "shop", "type": "custom",
                         "environments": {ENV: env}}]}


class Ctx:
    def __init__(self, tap, srv):
        self.tap = tap
        self.srv = srv
        self.path = srv.url("/receive/%s" % srv.sources()[("shop", ENV)])

    def send(self, body, headers=None):
        r = self.srv.post(self.path, json.dumps(body).encode(), headers)
        rec = self.srv.log((r.json or {}).get("id", "")) or {}
        return r, rec

    def object(self, coll, oid):
        rc, out, err = self.srv.porterctl("objects", coll, oid, "--json")
        return json.loads(out) if rc == 0 and out.strip() else None


def statuses(rec):
    """[(mapping, status)] of an event's action logs, in mapping order."""
    acts = sorted(rec.get("action_logs") or [], key=lambda a: a.get("mapping"))
    return [(a.get("mapping"), a.get("status")) for a in acts]


def order(oid, amount, **kw):
    body = {"type": "order.paid", "id": oid, "amount": amount,
            "livemode": True, "customer": {"id": "cus_" + oid}}
    body.update(kw)
    return body


def t_all_match(c):
    r, rec = c.send(order("o1", 250, customer={"id": "cus_o1",
                                               "tier": "gold"}),
                    {"X-Region": "eu"})
    c.tap.eq((r.status, rec.get("status")), (200, "accepted"),
             "an event every filter matches is accepted", repr(r))
    c.tap.eq(statuses(rec), [(0, "success"), (1, "success"), (2, "success"),
                             (3, "success")],
             "... and all four mappings ran", rec.get("action_logs"))
    for coll in ("big", "europe", "live"):
        o = c.object(coll, "o1")
        c.tap.eq((o or {}).get("properties", o or {}).get("amount"), 250,
                 "... the %s object was set" % coll, o)


def t_none_match(c):
    r, rec = c.send(order("o2", 5, livemode=False,
                          customer={"id": "cus_o2", "tags": ["new"]}),
                    {"X-Region": "us"})
    c.tap.eq((r.status, rec.get("status")), (200, "accepted"),
             "an event no filter matches is still accepted", repr(r))
    c.tap.eq(statuses(rec), [(0, "filtered"), (1, "filtered"),
                             (2, "filtered"), (3, "filtered")],
             "... and its action log says every mapping was filtered out",
             rec.get("action_logs"))
    acts = sorted(rec.get("action_logs") or [], key=lambda a: a.get("mapping"))
    errs = [a.get("error") or {} for a in acts]
    c.tap.eq([e.get("field") for e in errs],
             ["/body/amount/$gte", "/headers/x-region/$in", "/$or", "/$not"],
             "... each naming the condition that failed", errs)
    c.tap.ok(all(e.get("message") for e in errs) and
             not any("us" in (e.get("message") or "").split() or
                     "5" in (e.get("message") or "").split() for e in errs),
             "... with a reason that quotes no value", errs)
    for coll in ("big", "europe", "live"):
        c.tap.eq(c.object(coll, "o2"), None,
                 "... no %s object was set" % coll)


def t_some_match(c):
    r, rec = c.send(order("o3", 100, customer={"id": "cus_o3",
                                               "tags": ["vip", "x"]}),
                    {"X-Region": "uk"})
    c.tap.eq(statuses(rec), [(0, "success"), (1, "success"), (2, "success"),
                             (3, "success")],
             "$gte is inclusive, $in matches uk, an array contains vip",
             rec.get("action_logs"))
    r, rec = c.send(order("o4", 99.5), {"X-Region": "EU"})
    c.tap.eq(statuses(rec), [(0, "filtered"), (1, "filtered"),
                             (2, "filtered"), (3, "success")],
             "99.5 < 100; values are case-sensitive (EU is not eu); no tier "
             "or tags; livemode true passes $not", rec.get("action_logs"))
    r, rec = c.send({"type": "order.paid", "id": "o5", "amount": "500",
                     "customer": {"id": "cus_o5"}})
    c.tap.eq(statuses(rec)[0], (0, "filtered"),
             "a string amount does not match a numeric $gte",
             rec.get("action_logs"))
    c.tap.eq(statuses(rec)[3], (3, "success"),
             "a missing livemode is not false: $not matches",
             rec.get("action_logs"))


def t_rehearse(c):
    fn = c.srv.path("o2.json")
    with open(fn, "w") as f:
        json.dump(order("o2", 5, livemode=False), f)
    rc, out, err = c.srv.porterctl("rehearse", "--source", "shop",
                                   "--env", ENV, "--body", fn,
                                   "--header", "X-Region: eu", "--json")
    j = json.loads(out) if rc == 0 else {}
    maps = sorted(j.get("mappings") or [], key=lambda m: m.get("mapping"))
    c.tap.eq(([m.get("status") for m in maps], j.get("filtered")),
             (["filtered", "ok", "filtered", "filtered"], 3),
             "porterctl rehearse shows which mappings are filtered out",
             out, err)
    c.tap.eq((maps[0].get("filter") or {}).get("pointer") if maps else None,
             "/body/amount/$gte", "... and the condition that failed")
    rc, tok, err = c.srv.porterctl("token", "create", "filters")
    token = tok.strip()
    r = c.srv.post(c.srv.url("/admin/api/sources/shop/rehearse"),
                   {"environment": ENV,
                    "payload": {"body": order("o9", 300),
                                "headers": {"x-region": "us"}}},
                   {"Authorization": "Bearer " + token})
    j = r.json if isinstance(r.json, dict) else {}
    maps = sorted(j.get("mappings") or [], key=lambda m: m.get("mapping"))
    c.tap.eq(([m.get("status") for m in maps], j.get("filtered")),
             (["ok", "filtered", "filtered", "ok"], 2),
             "admin rehearse shows the same verdicts", repr(r))


def t_apply_refuses(c):
    bad = config()
    bad["sources"][0]["environments"][ENV]["mappings"][1]["filter"] = {
        "headers": {"x-region": {"$inn": ["eu"]}}}
    rc, out, err = c.srv.apply(bad)
    c.tap.ok(rc != 0 and "/sources/0/environments/production/mappings/1/"
             "filter/headers/x-region/$inn: unknown operator" in err,
             "apply refuses an unknown operator, naming its JSON pointer",
             err)
    bad["sources"][0]["environments"][ENV]["mappings"][1]["filter"] = {
        "body": {"a": {"$ref": "b"}}}
    rc, out, err = c.srv.apply(bad)
    c.tap.ok(rc != 0 and "mappings/1/filter/body/a/$ref" in err,
             "apply refuses Hookdeck's $ref (not supported)", err)
    r, rec = c.send(order("o6", 150), {"X-Region": "eu"})
    c.tap.eq(statuses(rec)[:2], [(0, "success"), (1, "success")],
             "the configuration in force is the one applied before", rec)


def main():
    tap = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    with h.Server(mount=MOUNT, max_procs=2) as srv:
        rc, out, err = srv.apply(config())
        tap.eq(rc, 0, "a source with filtered mappings applies", err)
        if rc != 0:
            return tap.done()
        c = Ctx(tap, srv)
        for fn in (t_all_match, t_none_match, t_some_match, t_rehearse,
                   t_apply_refuses):
            tap.run(fn, c)
    return tap.done()


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, h._on_signal)
    signal.alarm(WATCHDOG)
    sys.exit(main())
