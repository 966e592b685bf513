"""The off-board side of test_live_offboard.py: run inside the test's
network namespace (so the companion sees a peer that is not on loopback),
it tries each way in and prints one JSON object with what happened.

Usage: offboard_peer.py HOST PORT TOKEN [CA_FILE]
With CA_FILE, everything goes over TLS trusting that CA only, and one
more attempt is made with the system's CAs only (which must fail)."""

import json
import ssl
import sys

import rawws


def ws_status(port, path, host, ctx, **kw):
    try:
        c = rawws.RawWS.connect(port, path, host=host, ssl_ctx=ctx, **kw)
    except ssl.SSLError as e:
        return "tls: %s" % e.reason
    status = c.status
    got = None
    if status == 101 and path.startswith("/live"):
        c.send_frame(0x1, json.dumps({"type": "subscribe",
                                      "streams": ["olfaction"]}))
        while True:
            m = json.loads(c.recv_message()[1])
            if m.get("type") == "message":
                got = m["stream"]
                break
    elif status == 101:
        got = json.loads(c.recv_message()[1])["op"]
    c.close()
    return [status, got]


def main():
    host, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ctx = rawws.client_ssl_context(sys.argv[4]) if len(sys.argv) > 4 else None
    scheme = "https" if ctx else "http"
    own = "%s://%s:%d" % (scheme, host, port)
    live = ["scentience.live.v1"]
    out = {}

    def get(path, headers=None):
        st, h, body = rawws.http(host, port, path, headers=headers,
                                 ssl_ctx=ctx)
        return [st, h.get("set-cookie"), h.get("location"),
                body[:15].decode(errors="replace")]

    out["page_no_token"] = get("/")
    out["page_query_token"] = get("/?token=" + token)
    cookie = (out["page_query_token"][1] or "").split(";")[0]
    out["page_cookie"] = get("/", {"Cookie": cookie})
    out["page_wrong_token"] = get("/", {"Authorization": "Bearer x" * 4})
    out["live_no_token"] = ws_status(port, "/live", host, ctx,
                                     subprotocols=live)
    out["live_query_token"] = ws_status(port, "/live?token=" + token, host,
                                        ctx, subprotocols=live)
    out["live_cookie_own_origin"] = ws_status(
        port, "/live", host, ctx, subprotocols=live,
        headers={"Cookie": cookie, "Origin": own})
    out["live_token_evil_origin"] = ws_status(
        port, "/live?token=" + token, host, ctx, subprotocols=live,
        headers={"Origin": "http://evil.example"})
    out["foxglove_bearer"] = ws_status(
        port, "/", host, ctx, subprotocols=["foxglove.websocket.v1"],
        headers={"Authorization": "Bearer " + token})
    if ctx:
        try:
            rawws.http(host, port, "/", ssl_ctx=ssl.create_default_context())
            out["untrusted"] = "accepted"
        except ssl.SSLCertVerificationError as e:
            out["untrusted"] = "refused: %s" % e.verify_message
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
