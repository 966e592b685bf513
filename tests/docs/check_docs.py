#!/usr/bin/python3
"""docs.reference_and_manpages: the API reference and the manual pages are
complete.

1. Doxygen (Debian's) builds the reference from include/scentience with
   every warning an error: an undocumented public function, type, field,
   macro or error code fails. Every public header has its page, and every
   SCN_API function is documented on its header's page. No page names the
   source directory (the packaged HTML must not depend on it).
   The generated scentience/version.h (build tree) is checked the same way.
2. Every app (apps/scn-*) has a manual page next to its source that groff
   formats without a warning, and that names every long option the app's
   --help lists (and its subcommands', for scn-record and scn-sim).
3. debian/changelog's upstream version is the CMake project version (the
   one source of the version, which version.h carries).

Usage: check_docs.py DOXYFILE SOURCE_DIR APPS_BIN_DIR
"""

import glob
import html
import os
import re
import subprocess
import sys
import tempfile

DOXYFILE, SRC, BIN = sys.argv[1:4]
# The build tree's generated public headers: BUILD/docs/Doxyfile -> BUILD.
GENERATED = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(DOXYFILE))), "include", "scentience")
SUBCOMMANDS = {"scn-record": ["record", "info", "export", "recover", "bench"],
               "scn-sim": ["uav", "cloud"]}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def check_reference():
    with tempfile.TemporaryDirectory() as out:
        with open(DOXYFILE) as f:
            conf = f.read() + "\nOUTPUT_DIRECTORY = %s\n" % out
        p = subprocess.run(["doxygen", "-"], input=conf, text=True,
                           capture_output=True)
        if p.returncode != 0 or p.stderr.strip():
            fail("doxygen: exit %d\n%s" % (p.returncode, p.stderr))
            return
        # libscentience-dev is Multi-Arch: same, so the HTML must be the
        # same whatever directory each architecture was built in.
        for page in glob.glob(os.path.join(out, "html", "*")):
            with open(page, "rb") as f:
                if os.path.realpath(SRC).encode() in f.read():
                    fail("%s names the source directory" %
                         os.path.basename(page))
        headers = sorted(glob.glob(os.path.join(SRC, "include/scentience/*.h")))
        headers.append(os.path.join(GENERATED, "version.h"))
        for h in headers:
            name = os.path.basename(h)
            page = os.path.join(out, "html", name.replace("_", "__")
                                .replace(".h", "_8h.html"))
            if not os.path.exists(page):
                fail("%s has no page in the reference (no @file?)" % name)
                continue
            with open(page) as f:
                text = html.unescape(re.sub(r"<[^>]+>", "", f.read()))
            with open(h) as f:
                decls = re.findall(r"SCN_API\b[^;(]*?\b(scn_\w+)\s*\(",
                                   f.read())
            for fn in decls:
                # Documented members get a "Detailed"/"Function
                # Documentation" entry: name followed by "(".
                if not re.search(r"\b%s\s*\(" % fn, text):
                    fail("%s: %s is not in the reference" % (name, fn))
        print("ok: reference, %d headers" % len(headers))


def check_version():
    with open(os.path.join(GENERATED, "version.h")) as f:
        m = re.search(r'#define SCN_VERSION_STRING "([^"]+)"', f.read())
    with open(os.path.join(SRC, "debian", "changelog")) as f:
        d = re.match(r"\S+ \(([^)-]+)", f.readline())
    if not m or not d or m.group(1) != d.group(1):
        fail("debian/changelog's version %s is not the project's %s" %
             (d and d.group(1), m and m.group(1)))
    else:
        print("ok: version %s in CMake and debian/changelog" % m.group(1))


def help_text(app, sub=None):
    argv = [os.path.join(BIN, app)] + ([sub] if sub else []) + ["--help"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return p.stdout + p.stderr


def check_manpages():
    apps = sorted(os.path.basename(d) for d in
                  glob.glob(os.path.join(SRC, "apps", "scn-*")))
    if not apps:
        fail("no apps found")
    for app in apps:
        page = os.path.join(SRC, "apps", app, app + ".1")
        if not os.path.exists(page):
            fail("%s has no manual page (%s)" % (app, page))
            continue
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page],
                           capture_output=True, text=True,
                           env=dict(os.environ, LC_ALL="C.UTF-8"))
        if p.returncode != 0 or p.stderr.strip():
            fail("%s: groff warnings:\n%s" % (page, p.stderr))
        with open(page) as f:
            roff = f.read().replace("\\-", "-")
        text = help_text(app) + "".join(help_text(app, s) for s in
                                        SUBCOMMANDS.get(app, []))
        opts = sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]+", text)))
        if not opts:
            fail("%s --help lists no option" % app)
        for o in opts:
            if o not in roff:
                fail("%s: %s is in --help but not in %s" % (app, o, page))
        print("ok: %s.1 (%d options)" % (app, len(opts)))


check_reference()
check_version()
check_manpages()
print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
sys.exit(1 if failures else 0)
