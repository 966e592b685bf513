"""The libraries' symbols (docs/ARCHITECTURE.md, "Versions and ABI"):
every symbol the shared libraries export is declared in a public header
(include/scentience), and every other symbol with external linkage in the
static libraries carries the private prefix scn__, so that it cannot
collide with a program's own names. Read with nm from the built
libraries: argv is SOURCE, NM (the toolchain's, for cross builds), then
pairs of SHARED STATIC."""
import os
import re
import subprocess
import sys
import unittest

SOURCE = sys.argv[1]
NM = sys.argv[2] if len(sys.argv) > 2 else "nm"
PAIRS = list(zip(sys.argv[3::2], sys.argv[4::2]))
PRIVATE = "scn__"


def nm(args, path):
    out = subprocess.run([NM] + args + ["--defined-only", path],
                         check=True, capture_output=True, text=True).stdout
    return {f[2] for f in (line.split() for line in out.splitlines())
            if len(f) == 3}


def public_text():
    inc = os.path.join(SOURCE, "include", "scentience")
    text = []
    for name in sorted(os.listdir(inc)):
        if name.endswith((".h", ".h.in")):
            with open(os.path.join(inc, name), encoding="utf-8") as f:
                text.append(f.read())
    return "\n".join(text)


def problems(exported, external, headers):
    """What breaks the rules: exported names no header declares, and
    external names neither exported nor under the private prefix."""
    found = []
    for s in sorted(exported):
        if not re.search(r"\b%s\s*(\(|\[|;)" % re.escape(s), headers):
            found.append("%s is exported but declared in no public header"
                         % s)
    for s in sorted(external - exported):
        if not s.startswith(PRIVATE):
            found.append("%s has external linkage but is neither public nor "
                         "%s-prefixed" % (s, PRIVATE))
    return found


class Symbols(unittest.TestCase):
    def test_exported_declared_and_the_rest_private(self):
        self.assertTrue(PAIRS)
        exported, external = set(), set()
        for shared, static in PAIRS:
            exported |= nm(["-D"], shared)
            external |= nm(["-g"], static)
        self.assertGreater(len(exported), 100)
        self.assertLessEqual(exported, external)  # same objects
        self.assertEqual(problems(exported, external, public_text()), [])

    def test_a_breach_is_found(self):
        headers = "SCN_API int scn_good(void);\n"
        found = problems({"scn_good", "scn_undeclared"},
                         {"scn_good", "scn_undeclared", "scn__fine",
                          "scn_internal", "mcap_bare"}, headers)
        self.assertEqual(len(found), 3, found)
        self.assertIn("scn_undeclared", found[0])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
