#!/usr/bin/env python3
"""test_debian.py - the Debian package builds and is lintian-clean (TAP).

Copies the sources (the files git knows, or the whole source tree of a
distribution) to a temporary directory, runs
"dpkg-buildpackage -us -uc -b" there (DEB_BUILD_OPTIONS=nocheck: make
check has run the unit tests already), checks the .deb's layout (binaries,
man pages, units, example configurations) and runs lintian, which must
report no error.

Skipped when dpkg-buildpackage or lintian is missing, when the build
dependencies are not installed, and in sanitizer builds (the package is
built once per CI run, with the ordinary build).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h                                     # noqa: E402

WATCHDOG = 600
BUILD_TIMEOUT = 500

WANT = [
    "./usr/sbin/porter.fcgi",
    "./usr/bin/porterctl",
    "./usr/share/man/man8/porter.fcgi.8.gz",
    "./usr/share/man/man1/porterctl.1.gz",
    "./usr/share/man/man5/porter.conf.5.gz",
    "./usr/libexec/porter/cgi-bin/porter.cgi",
    "./lib/systemd/system/porter.socket",
    "./lib/systemd/system/porter.service",
    "./usr/share/doc/porter/apache.conf.example",
    "./usr/share/doc/porter/apache-htaccess.example",
    "./usr/share/doc/porter/nginx.conf.example",
    "./usr/share/doc/porter/systemd/porter.service",
    "./usr/share/doc/porter/copyright",
]


def sanitizer_build():
    try:
        with open(os.path.join(h.TOP_BUILDDIR, "Makefile")) as f:
            return re.search(r"(?m)^SAN_CFLAGS = .*-fsanitize", f.read())
    except OSError:
        return False


def copy_sources(dest):
    """The files of the source tree a fresh checkout would have."""
    src = h.TOP_SRCDIR
    if os.path.isdir(os.path.join(src, ".git")) and h.which("git"):
        out = subprocess.run(
            ["git", "-C", src, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"], capture_output=True, check=True,
            timeout=h.CMD_TIMEOUT).stdout
        names = [n for n in out.decode().split("\0") if n]
        for n in names:
            p = os.path.join(src, n)
            if not os.path.isfile(p) or os.path.islink(p):
                continue
            os.makedirs(os.path.dirname(os.path.join(dest, n)),
                        exist_ok=True)
            shutil.copy2(p, os.path.join(dest, n))
    else:
        # A distribution's tree: pristine, but for a build made in it.
        built = shutil.ignore_patterns("*.o", "*.a", ".deps", "*.log",
                                       "*.trs", "config.status", "Makefile",
                                       "config.h", "stamp-h1", "autom4te.cache")

        def ignore(d, names):
            out = set(built(d, names))
            for n in names:
                try:
                    with open(os.path.join(d, n), "rb") as f:
                        if f.read(4) == b"\x7fELF":
                            out.add(n)
                except OSError:
                    pass
            return out
        shutil.copytree(src, dest, symlinks=True, ignore=ignore)


def main():
    tap = h.Tap()

    h.watchdog(tap, WATCHDOG)
    for tool in ("dpkg-buildpackage", "dpkg-checkbuilddeps", "lintian",
                 "dpkg-deb"):
        if h.which(tool) is None:
            h.skip_all("%s not installed (dpkg-dev, debhelper, lintian)" %
                       tool)
    if sanitizer_build():
        h.skip_all("sanitizer build: the package is built by the ordinary "
                   "build's make check")
    if not os.path.isdir(os.path.join(h.TOP_SRCDIR, "debian")):
        h.bail_out("no debian/ directory in %s" % h.TOP_SRCDIR)
    p = subprocess.run(["dpkg-checkbuilddeps", "-B",
                        os.path.join(h.TOP_SRCDIR, "debian", "control")],
                       capture_output=True, timeout=60, cwd=h.TOP_SRCDIR)
    if p.returncode != 0:
        h.skip_all("build dependencies missing: %s" %
                   p.stderr.decode("utf-8", "replace").strip()[:300])

    tmp = tempfile.mkdtemp(prefix="porter-deb-")
    try:
        srcdir = os.path.join(tmp, "porter")
        copy_sources(srcdir)
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=2",
                   LC_ALL="C.UTF-8")
        for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "MAKEFLAGS",
                     "MFLAGS", "MAKELEVEL"):
            env.pop(name, None)
        with open(os.path.join(tmp, "build.log"), "wb") as log:
            p = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"],
                               cwd=srcdir, env=env, stdout=log,
                               stderr=subprocess.STDOUT,
                               timeout=BUILD_TIMEOUT)
        with open(os.path.join(tmp, "build.log"), errors="replace") as f:
            tail = "".join(f.readlines()[-40:])
        if not tap.ok(p.returncode == 0, "dpkg-buildpackage -us -uc -b",
                      tail):
            return tap.done()
        debs = [f for f in os.listdir(tmp) if re.match(
            r"porter_.*\.deb$", f)]
        tap.eq(len(debs), 1, "one porter .deb", repr(os.listdir(tmp)))
        if not debs:
            return tap.done()
        deb = os.path.join(tmp, debs[0])
        rc, out, err = h.run(["dpkg-deb", "-c", deb])
        files = set(line.split()[-1] for line in out.splitlines()
                    if line.strip())
        missing = [w for w in WANT if w not in files]
        tap.eq(missing, [], "the .deb lays out binaries, man pages, units "
               "and example configurations", out)
        rc, out, err = h.run(["dpkg-deb", "-f", deb, "Depends"])
        tap.ok("adduser" in out and "libseccomp" in out,
               "Depends: adduser and the shared libraries (libseccomp)",
               out)
        changes = [f for f in os.listdir(tmp) if f.endswith(".changes")]
        p = subprocess.run(["lintian", "--fail-on", "error",
                            os.path.join(tmp, changes[0])],
                           capture_output=True, timeout=300, env=env)
        report = p.stdout.decode("utf-8", "replace")
        tap.ok(p.returncode == 0 and not re.search(r"(?m)^E: ", report),
               "lintian: no error", report,
               p.stderr.decode("utf-8", "replace"))
        tap.diag(*(report.splitlines() or ["lintian: no tag"]))
    finally:
        if not h.KEEP:
            shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
