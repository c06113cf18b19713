#!/usr/bin/env python3
"""test_samples.py - porterctl send --sample, like `stripe trigger`, for
every source type, through a real lighttpd (TAP).

One environment per source type of the catalogue (`porterctl sources
--types`), each verifying with a key in its provider's format and the
type's default mappings.  Every sample of every type (samples/<type>.json,
PORTER_SAMPLES_DIR pointing at the source tree) is signed and sent with
`porterctl send --sample TYPE:NAME`: each must be accepted (2xx) and
verified, and logged with a type; `sources --types` lists the samples;
a sample of another type, an unknown sample and FILE with --sample are
refused with a message.

Run by "make check" (automake tap-driver) or by hand:
	top_builddir=$PWD top_srcdir=$PWD python3 tests/e2e/test_samples.py
"""

import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402
import test_sources as ts                               # noqa: E402

WATCHDOG = 900 if h.VALGRIND else 240   # seconds for the whole file
MOUNT = "/porter"
SAMPLES = os.path.join(h.TOP_SRCDIR, "samples")
ENV = "production"


def main():
    t = h.Tap()
    h.require_binaries()
    if h.which("lighttpd") is None:
        h.skip_all("lighttpd not installed")
    os.environ["PORTER_SAMPLES_DIR"] = SAMPLES
    types = ts.source_types()
    with h.Server(mount=MOUNT, max_procs=1) as srv:
        cfg = {"sources": [
            {"key": ty, "type": ty, "environments": {ENV: {
                "verify": True, "public_url": ts.PUBLIC_URL,
                "signing_keys": [{"secret": ts.secrets(ty)[0]}]}}}
            for ty in types]}
        rc, out, err = srv.apply(cfg)
        t.eq(rc, 0, "one verifying environment per source type", err)
        rc, out, err = srv.porterctl("sources", "--types", "--json")
        listed = {d["type"]: d.get("samples") or [] for d in json.loads(out)}
        t.ok(all(listed.get(ty) for ty in types),
             "sources --types lists samples for every type",
             {ty: listed.get(ty) for ty in types})
        base = "http://127.0.0.1:%d%s" % (srv.port, MOUNT)
        for ty in types:
            for name in listed.get(ty) or []:
                before = {e["id"] for e in srv.logs("--source", ty,
                                                    "--limit", "1000")}
                rc, out, err = srv.porterctl(
                    "send", "--source", ty, "--env", ENV, "--url", base,
                    "--sample", "%s:%s" % (ty, name))
                new = [e for e in srv.logs("--source", ty, "--limit",
                                           "1000") if e["id"] not in before]
                statuses = sorted({(e.get("verification") or {})
                                   .get("status") for e in new})
                t.ok(rc == 0 and out.startswith("HTTP/1.1 2") and new and
                     statuses == ["enforced:verified"],
                     "send --sample %s:%s: 2xx, logged and verified" %
                     (ty, name), out[:300], err, statuses)
        rc, out, err = srv.porterctl("send", "--source", "custom", "--env",
                                     ENV, "--url", base, "--sample",
                                     "stripe:invoice.paid")
        t.ok(rc != 0 and "type custom" in err,
             "a sample of another type is refused", err)
        rc, out, err = srv.porterctl("send", "--source", "stripe", "--env",
                                     ENV, "--url", base, "--sample",
                                     "stripe:nope")
        t.ok(rc != 0 and "invoice.paid" in err,
             "an unknown sample names the ones there are", err)
        fn = srv.path("b.json")
        with open(fn, "w") as f:
            f.write("{}")
        rc, out, err = srv.porterctl("send", "--source", "stripe", "--env",
                                     ENV, "--sample", "stripe:invoice.paid",
                                     fn)
        t.ok(rc == 2 and "FILE or --sample" in err,
             "FILE and --sample together are a usage error", err)
    return t.done()


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, h._on_signal)
    signal.alarm(WATCHDOG)
    sys.exit(main())
