#!/usr/bin/env python3
"""test_ctl.py - porterctl's command line as a whole (TAP).  The built
binary runs directly (no shell, no web server; plain CGI runs of
porter.fcgi make the data).

  - Every command of the table (`porterctl --help-man`) answers -h and
    --help with its usage on stdout and exit 0, without a store, and
    `porterctl help COMMAND` prints the same.  An unknown option, a
    missing or extra argument and a bad value exit 2 with a message and
    the usage on stderr, nothing on stdout, before any store is opened.
  - porterctl(1) lists exactly the commands of the table, in its order
    and under its headings: its .Ss and ".It Cm" lines are the ones
    --help-man prints, so the page cannot leave a command out.
  - --json has one shape per command, the one porterctl(1) JSON OUTPUT
    gives: NDJSON (one compact JSON object a line) for a stream of
    records, one pretty-printed document otherwise.  Every command that
    takes --json is in SHAPES.
"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 240
EP = "src_ctl_e2e_development"
EVT = "evt_000SGEH1F0KHPSA1ZE6V3EDRED"      # well formed, never logged
MAN = os.path.join(h.TOP_SRCDIR, "man", "porterctl.1")

# Mistakes, each with what the message names and whose usage follows.
BAD = (
    (["logs", "--bogus"], "unknown option --bogus", "porterctl logs"),
    (["logs", "-x"], "unknown option -x", "porterctl logs"),
    (["logs", "--s", "x"], "ambiguous option --s", "porterctl logs"),
    (["logs", "--json=yes"], "--json takes no value", "porterctl logs"),
    (["logs", "--limit"], "--limit needs a value", "porterctl logs"),
    (["logs", "--limit", "0"], "--limit 0: want a whole number from 1 to "
     "100000", "porterctl logs"),
    (["logs", "--limit", "10x"], "--limit 10x", "porterctl logs"),
    (["logs", "--since", "yesterday"], "--since yesterday: want a duration",
     "porterctl logs"),
    (["logs", "--before", "nope"], "--before nope: not an event id",
     "porterctl logs"),
    (["logs", "tasks"], "unexpected argument tasks", "porterctl logs"),
    (["log"], "missing EVT_ID", "porterctl log"),
    (["log", "nope"], "nope: not an event id", "porterctl log"),
    (["log", EVT, EVT], "unexpected argument", "porterctl log"),
    (["log", "--help-me", EVT], "unknown option --help-me",
     "porterctl log"),
    (["replay", "nope"], "nope: not an event id", "porterctl replay"),
    (["events", "--source", "app"], "missing --env E", "porterctl events"),
    (["apply"], "missing FILE", "porterctl apply"),
    (["apply", "a.json", "b.json"], "unexpected argument b.json",
     "porterctl apply"),
    (["export", "--json"], "unknown option --json", "porterctl export"),
    (["export", "--with-secrets", "x"], "unexpected argument x",
     "porterctl export"),
    (["sources", "--all"], "unknown option --all", "porterctl sources"),
    (["sign", "body.json"], "missing --source S", "porterctl sign"),
    (["send", "--source", "app", "--env", "dev", "--method", "get", "f"],
     "--method get: want an upper-case HTTP method", "porterctl send"),
    (["send", "--source", "app", "--env", "dev", "--header", "no colon",
      "f"], "want 'Name: value'", "porterctl send"),
    (["send", "--source", "app", "--env", "dev", "--header", "X-A: 1\r\nX",
      "f"], "want 'Name: value'", "porterctl send"),
    (["send", "--source", "app", "--env", "dev", "--path", "v1", "f"],
     "--path v1: want a path starting with /", "porterctl send"),
    (["rehearse", "--source", "app", "--env", "dev"], "missing --body FILE",
     "porterctl rehearse"),
    (["rehearse", "--source", "app", "--env", "dev", "--body", "f",
      "--header", ": x"], "want 'Name: value'", "porterctl rehearse"),
    (["users", "u1", "u2"], "unexpected argument u2", "porterctl users"),
    (["objects"], "missing COLLECTION", "porterctl objects"),
    (["tenants", "--limit", "3"], "unknown option --limit",
     "porterctl tenants"),
    (["subscriptions", "projects"], "missing ID",
     "porterctl subscriptions"),
    (["audiences", "a", "b"], "unexpected argument b",
     "porterctl audiences"),
    (["runs", "--limit", "100001"], "--limit 100001", "porterctl runs"),
    (["runs", "--follow=1"], "--follow takes no value", "porterctl runs"),
    (["status", "--verbose"], "unknown option --verbose",
     "porterctl status"),
    (["check", "now"], "unexpected argument now", "porterctl check"),
    (["load", "--source", "app", "--env", "dev"], "missing --count N",
     "porterctl load"),
    (["load", "--source", "app", "--env", "dev", "--count", "5",
      "--body-bytes", "10"], "--body-bytes 10: want a whole number from 64 "
     "to 65536", "porterctl load"),
    (["prune", "--all"], "unknown option --all", "porterctl prune"),
    (["recover", "now"], "unexpected argument now", "porterctl recover"),
    (["token", "create"], "missing NAME", "porterctl token create"),
    (["token", "create", "bad name"], "token name is 1 to 64",
     "porterctl token create"),
    (["token", "revoke"], "missing NAME", "porterctl token revoke"),
    (["token", "list", "--all"], "unknown option --all",
     "porterctl token list"),
    (["token"], "token: missing subcommand", "  token create NAME"),
    (["token", "mint"], "token: unknown subcommand mint",
     "  token create NAME"),
    (["help", "nosuch"], "unknown command nosuch", "usage: porterctl [--db"),
    (["nosuch"], "unknown command nosuch", "usage: porterctl [--db"),
    (["--bogus", "status"], "unknown option --bogus",
     "usage: porterctl [--db"),
    ([], "no command", "usage: porterctl [--db"),
)

# --json: (arguments, "lines" with at least N records, or "document" of a
# type).  {evt} is a logged event, {body} a payload file.
LINES, DOC = "lines", "document"
SHAPES = (
    (["logs"], LINES, 3),
    (["actions"], LINES, 3),
    (["runs"], LINES, 3),
    (["users"], LINES, 2),
    (["objects", "projects"], LINES, 2),
    (["tenants"], LINES, 2),
    (["subscriptions", "projects", "p1"], LINES, 2),
    (["audiences"], LINES, 1),
    (["audiences", "beta"], LINES, 2),
    (["log", "{evt}"], DOC, dict),
    (["events", "--source", "app", "--env", "development"], DOC, list),
    (["sources"], DOC, list),
    (["sources", "--types"], DOC, list),
    (["status"], DOC, dict),
    (["token", "list"], DOC, list),
    (["users", "u1"], DOC, dict),
    (["objects", "projects", "p1"], DOC, dict),
    (["tenants", "t1"], DOC, dict),
    (["rehearse", "--source", "app", "--env", "development", "--body",
      "{body}"], DOC, dict),
    (["replay", "{evt}"], DOC, dict),
)

MAPPINGS = [
    {"event_type": "thing.done", "action": "users_identify",
     "params": {"id": "data.user", "name": "data.name"}},
    {"event_type": "thing.done", "action": "objects_set",
     "params": {"collection": {"value": "projects"}, "id": "data.project",
                "name": "data.name"}},
    {"event_type": "thing.done", "action": "tenants_set",
     "params": {"id": "data.tenant", "name": "data.name"}},
    {"event_type": "thing.done", "action": "objects_subscribe",
     "params": {"collection": {"value": "projects"}, "id": {"value": "p1"},
                "recipients": "data.user"}},
    {"event_type": "thing.done", "action": "audiences_add_member",
     "params": {"key": "beta", "users": "data.user"}},
    {"event_type": "thing.done", "action": "workflows_trigger",
     "params": {"key": "noop", "recipients": "data.user"}},
]


def config():
    return {"workflows": {"noop": {}},
            "sources": [{"key": "app", "type": "custom", "environments": {
                "development": {"endpoint_id": EP, "verify": False,
                                "event_type_path": "body.type",
                                "mappings": MAPPINGS}}}]}


def ctl(*args, db=None):
    """porterctl ARGS with no store unless "db": (rc, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "PORTER_DB"}
    pre = ["--db", db] if db else []
    return h.run([h.PORTERCTL] + pre + list(args), env=env)


def page_lines():
    """The .Ss and .It Cm lines of porterctl(1)'s DESCRIPTION."""
    with open(MAN) as f:
        text = f.read()
    m = re.search(r"^\.Sh DESCRIPTION\n(.*?)^\.Sh ", text, re.S | re.M)
    body = m.group(1) if m else ""
    return [ln for ln in body.splitlines()
            if ln.startswith(".Ss ") or ln.startswith(".It Cm ")]


def table_lines(t):
    rc, out, err = ctl("--help-man")
    t.ok(rc == 0 and out.startswith(".Ss ") and err == "",
         "porterctl --help-man prints the page's command lines", out[:300],
         err)
    return out.splitlines() if rc == 0 else []


def command_names(lines):
    """"token create", "logs", ... from .It Cm lines (up to the first
    macro after Cm)."""
    names = []
    for ln in lines:
        if ln.startswith(".It Cm "):
            words = []
            for w in ln.split()[2:]:
                if w in ("Ar", "Fl", "Op", "Oo"):
                    break
                words.append(w)
            names.append(" ".join(words))
    return names


def t_man(t, table):
    page = page_lines()
    t.eq(page, table, "porterctl(1) lists the commands of the table, with "
         "their options, in order and under its headings")
    t.ok(len(command_names(table)) >= 25, "the table has every command "
         "(%d)" % len(command_names(table)), command_names(table))


def t_help(t, names):
    for name in names:
        words = name.split()
        outs = []
        for args in (words + ["--help"], words + ["-h"], ["help"] + words):
            rc, out, err = ctl(*args)
            t.ok(rc == 0 and err == "" and
                 out.startswith("usage: porterctl %s" % name),
                 "porterctl %s: exit 0, usage on stdout" % " ".join(args),
                 repr((rc, out[:300], err[:300])))
            outs.append(out)
        t.ok(outs[0] == outs[1] == outs[2], "%s: --help, -h and help %s "
             "print the same" % (name, name))
    for args in (["--help"], ["-h"], ["help"]):
        rc, out, err = ctl(*args)
        missing = [n for n in names if "\n  %s " % n not in out and
                   "\n  %s\n" % n not in out]
        t.ok(rc == 0 and err == "" and not missing,
             "porterctl %s lists every command" % " ".join(args),
             "missing: %r" % missing, err)
    rc, out, err = ctl("token", "--help")
    t.ok(rc == 0 and all("  token %s" % s in out
                         for s in ("create", "revoke", "list")),
         "porterctl token --help: the token commands, exit 0", out, err)


def t_help_lists_options(t, table):
    """Each option the page names is explained by the command's --help."""
    for ln in table:
        if not ln.startswith(".It Cm "):
            continue
        name = command_names([ln])[0]
        opts = re.findall(r"Fl (-[a-z-]+)", ln)
        rc, out, err = ctl(*(name.split() + ["--help"]))
        missing = [o for o in opts if "\n  -%s" % o not in out]
        t.ok(rc == 0 and not missing and "-h, --help" in out,
             "%s --help explains %s" % (name, ", ".join("-" + o for o in opts) or
                                        "-h, --help"),
             "missing: %r" % missing, out)


def t_bad(t, db):
    for args, says, usage in BAD:
        rc, out, err = ctl(*args, db=db)
        first = err.split("\n", 1)[0]
        t.ok(rc == 2 and out == "" and first.startswith("porterctl: ") and
             says in first and usage in err,
             "porterctl %s: exit 2, \"%s\" and the usage on stderr" %
             (" ".join(repr(a) if " " in a or not a else a for a in args),
              says), repr((rc, out[:200], err[:600])))
    # Refused before anything ran: not even a store was made.
    t.ok(not os.path.exists(os.path.join(db, "data.mdb")),
         "the mistakes touched nothing (no store was made)")
    # Neither --db nor PORTER_DB: the installed state directory, which
    # porterctl names and never makes.
    rc, out, help_ = ctl("--help")
    dflt = re.search(r"else (/\S+/lib/porter)", out)
    if dflt and not os.path.exists(dflt.group(1)):
        rc, out, err = ctl("status")
        t.ok(rc != 0 and ("no store at %s (the default)" % dflt.group(1))
             in err and not os.path.exists(dflt.group(1)),
             "without --db or PORTER_DB the default store is named, not "
             "made", err)
    else:
        t.skip("without --db or PORTER_DB the default store is named",
               "the default store exists here" if dflt else
               "--help names no default")


def t_json(t, wd, table):
    rc, out, err = wd.apply(config())
    t.eq(rc, 0, "a configuration with every kind of action applies", err)
    t.eq(wd.porterctl("token", "create", "ops")[0], 0, "a token")
    for user, project, tenant in (("u1", "p1", "t1"), ("u2", "p2", "t2")):
        body = json.dumps({"type": "thing.done", "data": {
            "user": user, "name": user.upper(), "project": project,
            "tenant": tenant}}).encode()
        env = h.cgi_environ("POST", "/receive/" + EP, wd.db, len(body),
                            "application/json",
                            path_info="/receive/" + EP)
        r, rc, err = h.run_cgi(env, body)
        t.eq(r.status, 200, "CGI: event for %s accepted" % user, repr(r),
             err)
    logs = wd.logs()
    evt = logs[0]["id"] if logs else EVT
    rc, out, err = wd.porterctl("replay", evt)
    t.eq(rc, 0, "a replay, for a third event and run", out, err)
    body = wd.path("body.json")
    with open(body, "w") as f:
        json.dump({"type": "thing.done", "data": {"user": "u9"}}, f)

    covered = set()
    for args, shape, want in SHAPES:
        args = [a.format(evt=evt, body=body) for a in args]
        name = " ".join(args[:2]) if args[0] == "token" else args[0]
        covered.add(name)
        rc, out, err = wd.porterctl(*(args + ["--json"]))
        label = "porterctl %s --json" % " ".join(args)
        if shape == LINES:
            recs = []
            try:
                recs = [json.loads(ln) for ln in out.splitlines()]
            except ValueError:
                recs = None
            t.ok(rc == 0 and recs is not None and len(recs) >= want and
                 all(isinstance(r, dict) for r in recs) and
                 out.endswith("\n"),
                 "%s: NDJSON, one object a line (%d or more)" %
                 (label, want), repr((rc, out[:400], err)))
            continue
        try:
            doc = json.loads(out)
        except ValueError:
            doc = None
        t.ok(rc == 0 and isinstance(doc, want) and len(doc) > 0 and
             out.endswith("\n") and out.count("\n") > 1 and
             "\n" in out.strip(),
             "%s: one %s document, pretty-printed" %
             (label, "object" if want is dict else "array"),
             repr((rc, out[:400], err)))
    rc, out, err = wd.porterctl("export")
    try:
        doc = json.loads(out)
    except ValueError:
        doc = None
    t.ok(rc == 0 and isinstance(doc, dict) and out.count("\n") > 1,
         "porterctl export: one pretty-printed document", out[:300], err)
    takes = set(n for n, ln in zip(command_names(table),
                                   [x for x in table
                                    if x.startswith(".It Cm ")])
                if "Fl -json" in ln)
    t.eq(sorted(takes - covered), [], "every command with --json has its "
         "shape tested here")


def t_store(t, wd):
    """The store's upkeep on the store t_json filled: nothing to do, said
    so, in a write transaction each."""
    for args, want in ((["check"], "events checked, 0 problems"),
                       (["prune"], "0 expired idempotency records removed"),
                       (["recover"], "0 interrupted executions marked")):
        rc, out, err = wd.porterctl(*args)
        t.ok(rc == 0 and want in out and err == "",
             "porterctl %s: %s" % (" ".join(args), want), out, err)


def main():
    h.require_binaries()
    t = h.Tap()
    h.watchdog(t, WATCHDOG)
    table = table_lines(t)
    t.run(t_man, t, table)
    names = command_names(table) or command_names(page_lines())
    t.run(t_help, t, names)
    t.run(t_help_lists_options, t, table or page_lines())
    wd = h.Workdir()
    try:
        t.run(t_bad, t, wd.db)
        t.run(t_json, t, wd, table)
        t.run(t_store, t, wd)
    finally:
        wd.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
