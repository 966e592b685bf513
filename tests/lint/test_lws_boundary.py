"""scripts/check-lws-boundary: the tree keeps libwebsockets.h in lib/lws/
and mosquitto.h in lib/mqtt/mqtt_mosq.c, and the check itself catches a
direct include, one through an adapter header, one of mosquitto.h
elsewhere, and lets the named exceptions through."""
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT, SOURCE = sys.argv[1], sys.argv[2]


def check(root):
    return subprocess.run(["/bin/sh", SCRIPT, root], capture_output=True,
                          text=True, timeout=60)


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w", encoding="utf-8") as f:
        f.write(text)


class Boundary(unittest.TestCase):
    def test_tree_keeps_the_boundary(self):
        r = check(SOURCE)
        self.assertEqual(r.returncode, 0, r.stderr)

    def tree(self):
        d = tempfile.mkdtemp(dir=os.environ.get("TMPDIR"))
        write(d, "lib/lws/adapter.c", "#include <libwebsockets.h>\n")
        write(d, "lib/lws/glue.h", "#include <libwebsockets.h>\n")
        write(d, "lib/lws/more.h", '#include "glue.h"\n')
        write(d, "lib/lws/plain.h", "#include <stdint.h>\n")
        write(d, "lib/core/loop.c", '#include "plain.h"\n')
        write(d, "bench/bench_lws_client.c", "#include <libwebsockets.h>\n")
        write(d, "apps/scn-sim/main.c", "#  include <libwebsockets.h>\n")
        write(d, "lib/mqtt/mqtt_mosq.c", "#include <mosquitto.h>\n")
        return d

    def test_allowed_tree_passes(self):
        r = check(self.tree())
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_direct_include_fails(self):
        d = self.tree()
        write(d, "lib/policy/fsm.c", '#include "libwebsockets.h"\n')
        write(d, "uav/x.h", "# include <libwebsockets.h>\n")
        r = check(d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lib/policy/fsm.c", r.stderr)
        self.assertIn("uav/x.h", r.stderr)
        self.assertNotIn("lib/core/loop.c", r.stderr)

    def test_include_through_adapter_header_fails(self):
        d = self.tree()
        write(d, "lib/live/fanout.c", '#include "more.h"\n')
        r = check(d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lib/live/fanout.c", r.stderr)

    def test_mosquitto_outside_its_adapter_fails(self):
        d = self.tree()
        write(d, "lib/mqtt/mqtt.c", "#include <mosquitto.h>\n")
        write(d, "apps/scn-fleet/main.c", '#include "mosquitto.h"\n')
        r = check(d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lib/mqtt/mqtt.c", r.stderr)
        self.assertIn("apps/scn-fleet/main.c", r.stderr)
        self.assertNotIn("lib/mqtt/mqtt_mosq.c:", r.stderr)

    def test_other_bench_file_fails(self):
        d = self.tree()
        write(d, "bench/bench_new.c", "#include <libwebsockets.h>\n")
        r = check(d)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bench/bench_new.c", r.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
