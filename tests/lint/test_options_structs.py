"""Every public options struct can grow (docs/ARCHITECTURE.md, "SOVERSION
and ABI"; scentience/options.h): it starts with size_t struct_size, its
_options_init() is inline over an exported _options_init_sized(), it holds
no other options struct by value, and the library names the last field of
its first version (SCN_OPTIONS_END), the smallest size _new() accepts."""
import os
import re
import sys
import unittest

SOURCE = sys.argv[1]
STRUCT = re.compile(r"typedef struct (scn_\w+_options) \{(.*?)\} \1;", re.S)
COMMENT = re.compile(r"/\*.*?\*/", re.S)


def header_problems(name, text):
    found = []
    for t, body in STRUCT.findall(text):
        members = [m.strip() for m in COMMENT.sub("", body).split(";")
                   if m.strip()]
        if not members or members[0] != "size_t struct_size":
            found.append("%s: %s does not start with size_t struct_size"
                         % (name, t))
        for m in members:
            if re.match(r"(const\s+)?scn_\w+_options\s+\w+$", m):
                found.append("%s: %s holds %s by value (use a pointer)"
                             % (name, t, m))
        if not re.search(r"SCN_API void\s+%s_init_sized\(%s \*\w+,\s*size_t"
                         % (t, t), text):
            found.append("%s: no SCN_API %s_init_sized(%s *, size_t)"
                         % (name, t, t))
        if not re.search(r"static inline void\s+%s_init\(%s \*(\w+)\)\s*\{"
                         r"\s*%s_init_sized\(\1, sizeof\(\*\1\)\);\s*\}"
                         % (t, t, t), text):
            found.append("%s: %s_init() is not the inline sized call"
                         % (name, t))
    return [t for t, _ in STRUCT.findall(text)], found


def source_text():
    out = []
    for top in ("lib", "uav"):
        for d, _, files in os.walk(os.path.join(SOURCE, top)):
            for f in files:
                if f.endswith(".c"):
                    with open(os.path.join(d, f), encoding="utf-8") as fh:
                        out.append(fh.read())
    return "\n".join(out)


class OptionsStructs(unittest.TestCase):
    def test_every_public_options_struct_can_grow(self):
        inc = os.path.join(SOURCE, "include", "scentience")
        src = source_text()
        structs, found = [], []
        for name in sorted(os.listdir(inc)):
            if not name.endswith(".h"):
                continue
            with open(os.path.join(inc, name), encoding="utf-8") as f:
                ts, problems = header_problems(name, f.read())
            structs += ts
            found += problems
            for t in ts:
                if not re.search(r"SCN_OPTIONS_END\(\s*%s\s*," % t, src):
                    found.append("%s: lib/ and uav/ never name %s's first "
                                 "version (SCN_OPTIONS_END)" % (name, t))
        self.assertGreaterEqual(len(structs), 11)
        self.assertEqual(found, [])

    def test_a_struct_that_cannot_grow_is_found(self):
        bad = """
typedef struct scn_x_options {
    const char *url; /**< size_t struct_size; */
    scn_session_options session;
} scn_x_options;
SCN_API void scn_x_options_init(scn_x_options *o);
"""
        _, found = header_problems("x.h", bad)
        self.assertEqual(len(found), 4, found)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
