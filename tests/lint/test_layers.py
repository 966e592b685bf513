"""lib/'s folders are layers: a folder includes the private headers of the
folders listed after it in lib/CMakeLists.txt (SCN_LIB_SOURCES), never of
those before it. lws/, the adapter, is exempt: it calls back up into the
folders it serves (docs/ARCHITECTURE.md, "Layers")."""
import os
import re
import sys
import unittest

SOURCE = sys.argv[1]
EXEMPT = {"lws"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def layer_order(cmake_text):
    """The folders in the order SCN_LIB_SOURCES lists their variables."""
    m = re.search(r"set\(SCN_LIB_SOURCES(.*?)\)", cmake_text, re.S)
    return [v.lower() for v in re.findall(r"\$\{SCN_LIB_([A-Z]+)\}", m.group(1))]


def violations(lib):
    with open(os.path.join(lib, "CMakeLists.txt"), encoding="utf-8") as f:
        order = layer_order(f.read())
    home = {}
    for d in order:
        for name in os.listdir(os.path.join(lib, d)):
            home[name] = d
    found = []
    for d in order:
        if d in EXEMPT:
            continue
        for name in sorted(os.listdir(os.path.join(lib, d))):
            with open(os.path.join(lib, d, name), encoding="utf-8") as f:
                for inc in INCLUDE.findall(f.read()):
                    other = home.get(os.path.basename(inc))
                    if other and order.index(other) < order.index(d):
                        found.append("lib/%s/%s includes %s from %s/, a "
                                     "layer above" % (d, name, inc, other))
    return order, found


class Layers(unittest.TestCase):
    def test_order_names_every_folder(self):
        lib = os.path.join(SOURCE, "lib")
        order, _ = violations(lib)
        folders = sorted(e for e in os.listdir(lib)
                         if os.path.isdir(os.path.join(lib, e)))
        self.assertEqual(sorted(order), folders)

    def test_no_folder_includes_a_layer_above(self):
        _, found = violations(os.path.join(SOURCE, "lib"))
        self.assertEqual(found, [])

    def test_a_wrong_include_is_found(self):
        d = os.path.join(os.environ.get("TMPDIR", "/tmp"), "layers-%d" % os.getpid())
        for sub in ("top", "low", "lws"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        with open(os.path.join(d, "CMakeLists.txt"), "w") as f:
            f.write("set(SCN_LIB_SOURCES\n  ${SCN_LIB_TOP}\n  ${SCN_LIB_LOW}\n"
                    "  ${SCN_LIB_LWS})\n")
        files = {"top/a.h": "", "top/a.c": '#include "b.h"\n',
                 "low/b.h": "", "low/b.c": '#include "a.h"\n',
                 "lws/c.c": '#include "a.h"\n'}
        for path, text in files.items():
            with open(os.path.join(d, path), "w") as f:
                f.write(text)
        _, found = violations(d)
        self.assertEqual(found, ["lib/low/b.c includes a.h from top/, a "
                                 "layer above"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
