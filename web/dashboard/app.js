// Placeholder: subscribes to every /live stream on this page's own origin
// and shows the latest message of each. The dashboard replaces it.
"use strict";
(function () {
  const link = document.getElementById("link");
  const out = document.getElementById("latest");
  const latest = {};
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(proto + "//" + location.host + "/live",
                             "scentience.live.v1");
    ws.onopen = function () {
      link.textContent = "connected";
      link.className = "up";
      ws.send(JSON.stringify({ type: "subscribe", streams: ["*"] }));
    };
    ws.onmessage = function (ev) {
      const m = JSON.parse(ev.data);
      if (m.type === "message") {
        latest[m.stream] = m.data;
        out.textContent = JSON.stringify(latest, null, 1);
      }
    };
    ws.onclose = function () {
      link.textContent = "disconnected";
      link.className = "down";
      setTimeout(connect, 1000);
    };
  }
  connect();
})();
