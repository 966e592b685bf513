// The page's link to the companion: scentience.live.v1 on /live of the
// origin that served the page (docs/PROTOCOL.md 10), reconnected by
// itself with a growing, jittered pause. A dashboard token, when the
// listener wants one, travels as the cookie the server set when the page
// was opened with ?token= (docs/PROTOCOL.md 11): the browser sends it
// with the WebSocket handshake, so nothing here handles it.

const SUBPROTOCOL = "scentience.live.v1";
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;
// A companion publishes its status every second: this long without any
// message on a link that had them means the link is dead even if TCP has
// not noticed yet (a Wi-Fi drop leaves no FIN).
const SILENT_MS = 5000;

export class LiveLink {
  // streams: names to subscribe to; on: {message(stream, data, arrivalMs),
  // state(link), dropped(count, total)}.
  constructor(streams, on) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = scheme + "//" + location.host + "/live";
    this.streams = streams;
    this.on = on;
    this.ws = null;
    this.state = "connecting"; // connecting | open | reconnecting
    this.attempt = 0;
    this.retryAt = 0;
    this.since = Date.now(); // when the state last changed
    this.lastMessage = 0;
    this.heardStatus = false;
    this.connects = 0;
    this.received = 0;
    this.timer = 0;
    this.watchdog = setInterval(() => this.checkSilence(), 1000);
  }

  start() {
    this.connect();
  }

  setState(state) {
    if (state !== this.state) this.since = Date.now();
    this.state = state;
    this.on.state(this);
  }

  connect() {
    this.timer = 0;
    let ws;
    try {
      ws = new WebSocket(this.url, SUBPROTOCOL);
    } catch (e) {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.connects++;
      this.lastMessage = Date.now();
      this.heardStatus = false;
      ws.send(JSON.stringify({ type: "subscribe", streams: this.streams }));
      this.setState("open");
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.retry();
    };
    // An error is always followed by a close, which retries.
    ws.onerror = () => {};
  }

  retry() {
    // 250 ms, 500 ms, 1 s ... 5 s, each between half and all of it, so
    // that many pages do not come back at the same instant.
    const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * Math.pow(2, this.attempt));
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt++;
    this.retryAt = Date.now() + delay;
    this.setState("reconnecting");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  checkSilence() {
    if (this.ws && this.state === "open" && this.heardStatus &&
        Date.now() - this.lastMessage > SILENT_MS) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
      this.retry();
    }
  }

  receive(text) {
    const now = Date.now();
    let m;
    this.lastMessage = now;
    this.received++;
    try {
      m = JSON.parse(text);
    } catch (e) {
      return; // the server sends JSON only; nothing to do with the rest
    }
    if (m === null || typeof m !== "object") return;
    if (m.type === "message" && typeof m.stream === "string") {
      // Both come every second (a companion's status, scn-fleet's table).
      if (m.stream === "status" || m.stream === "fleet") this.heardStatus = true;
      this.on.message(m.stream, m.data, now);
    } else if (m.type === "dropped") {
      this.on.dropped(Number(m.count) || 0, Number(m.total) || 0);
    }
    // "subscribed", "error" and types of later versions: nothing to show.
  }
}
