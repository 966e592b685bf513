#!/usr/bin/python3
"""scn-predict (scn_cloud_predict: lws's HTTP client in a context of its
own) given the cloud by host name. The name is resolved first, off lws,
and lws connects to the address with the name as its host: these check
what that must keep and what it fixes. scn-predict runs in a mount
namespace whose /etc/hosts or /etc/resolv.conf are this test's.

- https:// by name, the certificate holding the name but not the address
  (127.0.0.1): accepted, so the name is what is checked, and it is the
  SNI; a name the certificate lacks, though it points at the same
  address: sent as SNI and refused, the server never sees the request.
- A DNS server that does not answer: --timeout (2 s) is honoured, the
  answer is "timed out". Before the fix lws resolved with a blocking
  getaddrinfo() that ignored the timeout: scn-predict waited the
  resolver's 30 s and then reported a network error.
"""

import http.server
import json
import os
import ssl
import subprocess
import threading

import mosquitto_broker
import simproc
from fake_dns import FakeDns, in_mount_ns, loopback_addr
from simproc import BIN_DIR, scaled

FRAME = ('{"UID":"SCN001","TIMESTAMP":"2025-08-29T21:00:00Z",'
         '"NH3":270,"CO":10}')


INFERENCE = {"type": "inference", "model": "olfa-toy-1",
             "labels": [{"label": "NH3", "score": 0.9}]}


class Cloud(http.server.HTTPServer):
    """An HTTPS server on loopback answering every POST with INFERENCE,
    counting them (self.posts) and the server names asked (self.sni)."""

    def __init__(self, cert, key):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(h):
                h.rfile.read(int(h.headers.get("Content-Length", 0)))
                self.posts += 1
                body = json.dumps(INFERENCE).encode()
                h.send_response(200)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)

            def log_message(h, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.posts, self.sni = 0, []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.sni_callback = lambda obj, name, c: self.sni.append(name)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.thread = threading.Thread(target=self.serve_forever,
                                       daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        pass  # a refused handshake, as the test intends

    def close(self):
        self.shutdown()
        self.server_close()
        self.thread.join(10)


class PredictByNameTest(simproc.ProcCase):
    KEY = "SCN_TEST_predictbyname00000001"
    LOG_PREFIX = "predict-name"

    def predict(self, url, files, *extra, timeout=60):
        return subprocess.run(
            in_mount_ns(files) +
            [os.path.join(BIN_DIR, "scn-predict"), "--url", url] +
            list(extra), input=FRAME, capture_output=True, text=True,
            env=self.env, timeout=scaled(timeout))

    def test_https_checks_the_name_not_the_address(self):
        name = "cloud-%d.scentience.test" % os.getpid()
        other = "other-%d.scentience.test" % os.getpid()
        hosts = os.path.join(self.tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 localhost %s %s\n" % (name, other))
        ca, ca_key = mosquitto_broker.make_test_ca(self.tmp, "ca")
        # The address in the certificate is not 127.0.0.1.
        cert, key = mosquitto_broker.make_cert(
            self.tmp, "cloud", ca, ca_key, "192.0.2.1", dns_names=[name])
        cloud = Cloud(cert, key)
        self.addCleanup(cloud.close)
        port = cloud.server_address[1]
        p = self.predict("https://%s:%d/v1/predict" % (name, port),
                         {"/etc/hosts": hosts}, "--ca-file", ca)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0], "model olfa-toy-1")
        self.assertEqual((cloud.posts, cloud.sni), (1, [name]))
        p = self.predict("https://%s:%d/v1/predict" % (other, port),
                         {"/etc/hosts": hosts}, "--ca-file", ca)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertEqual((cloud.posts, cloud.sni), (1, [name, other]))

    def test_timeout_holds_while_dns_is_silent(self):
        name = "cloud-%d.scentience.test" % os.getpid()
        dns = FakeDns(loopback_addr(), name)
        self.addCleanup(dns.close)
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver %s\noptions timeout:30 attempts:1\n"
                    % dns.sock.getsockname()[0])
        # Within 20 s (scaled), far less than the resolver's 30 s.
        p = self.predict("http://%s:9/v1/predict" % name,
                         {"/etc/resolv.conf": resolv}, "--timeout", "2000",
                         timeout=20)
        self.assertTrue(dns.queries, "no query")
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("timed out", p.stderr)


if __name__ == "__main__":
    simproc.main()
