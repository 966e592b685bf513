#!/usr/bin/python3
"""scn-record keeps every /events record whole: a device's typed message
of about 550 KB (a "notice", a type the client does not know, whose text
mixes escapes and multi-byte characters) is recorded on /events with its
"message" member, byte for byte what the device sent (read back by
`scn-record export`; @mcap/core reads the file too), and a device URL
with a 700-byte path is recorded whole, its query still left out (the
session refuses user info and fragments).
Before the fix each /events record was built in a stack buffer (4 KiB for
a message): the message was recorded without its "message" member, and
the URL cut at 511 bytes, without a word either time.

Env: SCN_BIN_DIR, SCN_LOG_DIR, SCN_SOURCE_DIR."""

import json
import os
import sys

import simproc
from frame_peer import notice_text
from simproc import RECORD, SOURCE_DIR

KEY = "SCN_TEST_recordlongmessage01"
PEER = os.path.join(SOURCE_DIR, "tests", "integration", "frame_peer.py")
NOTICE_CHARS = 300000
PATH = "/" + "p" * 700


def data(m):
    return json.loads(m["data"]) if isinstance(m["data"], str) else m["data"]


class RecordLongMessageTest(simproc.ProcCase):
    KEY = KEY
    LOG_PREFIX = "recordlongmsg"

    def test_long_message_and_url_recorded_whole(self):
        dev = simproc.Server([sys.executable, PEER, "3", str(NOTICE_CHARS)],
                             name="frame_peer")
        self.addCleanup(dev.kill)
        port = dev.port
        url = "ws://127.0.0.1:%d%s?token=hidden" % (port, PATH)
        mcap = os.path.join(self.tmp, "long.mcap")
        p = self.start([RECORD, "record", "--url", url, "--count", "5", mcap],
                       stderr="record.stderr")
        rc, _ = self.finish(p, 60)
        err = self.text(p.err_path)
        self.assertEqual(rc, 0, err)
        simproc.check_stderr(err, "scn-record")
        self.assertNotIn("/events", err)

        messages = self.export(mcap)
        events = [data(m) for m in messages if m["topic"] == "/events"]
        # The independent reader (@mcap/core) reads the long record too.
        verdict = simproc.mcap_check(self, mcap)
        self.assertEqual(verdict["topics"]["/events"], len(events))
        self.assertEqual(verdict["topics"]["/olfaction"], 5)
        notices = [e for e in events if e.get("type") == "notice"]
        self.assertEqual(len(notices), 1, [e.get("event") for e in events])
        self.assertNotIn("left_out", notices[0])
        self.assertEqual(notices[0]["message"],
                         {"type": "notice", "seq": 1,
                          "text": notice_text(NOTICE_CHARS)})
        # Longer than any fixed buffer it could have gone through.
        raw = json.dumps(notices[0]["message"], ensure_ascii=False)
        self.assertGreater(len(raw.encode()), 500000)

        start = [e for e in events if e["event"] == "start"]
        self.assertEqual(len(start), 1)
        self.assertEqual(start[0]["url"], "ws://127.0.0.1:%d%s" % (port, PATH))
        states = [e for e in events if e["event"] == "state"]
        self.assertTrue(states)
        for e in states:
            self.assertEqual(e["url"], start[0]["url"])
        stop = [e for e in events if e["event"] == "stop"]
        self.assertEqual(len(stop), 1)
        self.assertNotIn("events_incomplete", stop[0])
        self.assertNotIn("hidden", json.dumps(events))


if __name__ == "__main__":
    simproc.main()
