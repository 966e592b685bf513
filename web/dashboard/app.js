// The built-in dashboard: what the companion publishes on /live, shown
// live. Messages only update the model (cheap, at any rate); the screen
// is drawn from the model once per display frame (requestAnimationFrame),
// so 100 Hz of frames costs 100 small updates and 60 draws a second, and
// a hidden tab draws nothing.
//
// Streams (docs/PROTOCOL.md 10.2, 10.7): olfaction (device frames),
// uav.state (drone state), inference, events, status (the companion's
// links and spool, once a second). Units are those of docs/PROTOCOL.md
// 3.3 (compounds in ppb) and 8.1.1 (drone: cm, cm/s, degrees).

import { Chart, Series } from "./chart.js";
import { chosenDrone, drawFleet, fleetStreams, pageStream } from "./fleet.js";
import { LiveLink } from "./live.js";

// On scn-fleet, /?drone=ID shows that drone (fleet.js).
const DRONE = chosenDrone();
const STREAMS = fleetStreams(["olfaction", "uav.state", "inference", "events",
  "status"], DRONE);
const STALE_MS = 3000; // no olfaction frame this long: the banner says so
const EVENTS_KEPT = 100;
const DEFAULT_SHOWN = 6; // compounds ticked by themselves, first come
const TEXT_EVERY_MS = 100; // text is rewritten at most this often
// Line colours, told apart by people with the common colour-vision
// deficiencies as far as 14 can be (Okabe-Ito first); one set for each
// theme so that every line keeps at least 3:1 against the plot.
const PALETTES = {
  dark: ["#e69f00", "#56b4e9", "#2ec27e", "#f0e442", "#ff7b72", "#cc79a7",
    "#a5a5ff", "#ffffff", "#ffa94d", "#63e6be", "#d0bfff", "#ff8787",
    "#94d82d", "#74c0fc"],
  light: ["#b35c00", "#0072b2", "#007a5a", "#7a6c00", "#c0392b", "#a8327d",
    "#5b4fd6", "#333333", "#d9480f", "#087f5b", "#7048e8", "#c92a2a",
    "#5c940d", "#1864ab"],
};

const $ = (id) => document.getElementById(id);

// Text is set only when it changed: each change costs layout work.
function setText(el, s) {
  if (el.textContent !== s) el.textContent = s;
}

function num(v) {
  return typeof v === "number" && Number.isFinite(v);
}

function fmt(v, digits, unit) {
  if (!num(v)) return "–";
  // Degrees stick to the number; other units take a space (SI style).
  return v.toFixed(digits) + (unit === "°" ? unit : unit ? " " + unit : "");
}

function ago(ms) {
  if (ms < 1000) return (ms / 1000).toFixed(1) + " s";
  if (ms < 120000) return Math.round(ms / 1000) + " s";
  return Math.round(ms / 60000) + " min";
}

function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour12: false });
}

const lightScheme = window.matchMedia("(prefers-color-scheme: light)");

function themeColors() {
  const cs = getComputedStyle(document.documentElement);
  const v = (n, d) => cs.getPropertyValue(n).trim() || d;
  return { bg: v("--chart-bg", "#0b1016"), grid: v("--grid", "#2a3440"),
    muted: v("--muted", "#a9b4c0"),
    palette: lightScheme.matches ? PALETTES.light : PALETTES.dark };
}

// Compound values in ppb as a person reads them: three significant
// figures or the whole number.
function ppb(v) {
  const a = Math.abs(v);
  return v.toFixed(a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : 2);
}

// ---- the model ------------------------------------------------------

const m = {
  compounds: new Map(), // name -> {series, shown, value element}
  env: {
    ENV_temperatureC: new Series("temperature", "°C", 0),
    ENV_humidity: new Series("humidity", "%RH", 1),
    ENV_pressureHpa: new Series("pressure", "hPa", 2),
  },
  battDevice: new Series("device", "%", 4),
  battDrone: new Series("drone", "%", 1),
  frame: null, frameAt: 0, frames: 0,
  drone: null, droneAt: 0,
  inference: null, infAt: 0,
  links: { device: null, drone: null, cloud: null },
  spool: null,
  events: [], eventsVersion: 0,
  dropped: 0,
  offset: null, // device clock to this page's clock, ms
  dataVersion: 0, // bumps on every sample: charts redraw when it moves
  pickerDirty: false,
};

// Frames carry the device's TIMESTAMP. Plotted on this page's clock: the
// smallest recent (arrival - TIMESTAMP) is taken as the offset, so a
// batch of frames keeps its spacing, a device clock that is off does not
// push the data out of the window, and a replayed recording plays now.
function plotTime(ts, arrival) {
  const t = Date.parse(ts);
  if (!Number.isFinite(t)) return arrival;
  const lat = arrival - t;
  if (m.offset === null || lat < m.offset || lat - m.offset > 5000) m.offset = lat;
  else m.offset += (lat - m.offset) * 0.002;
  return t + m.offset;
}

function compound(name) {
  let c = m.compounds.get(name);
  if (!c) {
    c = { series: new Series(name, "ppb", m.compounds.size), shown: m.compounds.size < DEFAULT_SHOWN,
      value: null };
    m.compounds.set(name, c);
    m.pickerDirty = true;
  }
  return c;
}

function isCompoundKey(k) {
  return !(k === "UID" || k === "TIMESTAMP" || k === "SEQ" || k.startsWith("_") ||
    k.startsWith("ENV_") || k.startsWith("BATT_") || k.startsWith("STATUS_"));
}

function onFrame(f, arrival) {
  if (!f || typeof f !== "object") return;
  const t = plotTime(f.TIMESTAMP, arrival);
  for (const k in f) {
    const v = f[k];
    if (!num(v)) continue;
    if (m.env[k]) m.env[k].push(t, v);
    else if (k === "BATT_charge") m.battDevice.push(t, v);
    else if (isCompoundKey(k)) compound(k).series.push(t, v);
  }
  // A compound that is not above zero is left out of the frame: absent
  // means zero (docs/PROTOCOL.md 3.1), so the line drops to zero.
  for (const [k, c] of m.compounds) if (!(k in f)) c.series.push(t, 0);
  m.frame = f;
  m.frameAt = arrival;
  m.frames++;
  m.dataVersion++;
}

function onDroneState(s, arrival) {
  if (!s || typeof s !== "object") return;
  m.drone = s;
  m.droneAt = arrival;
  if (num(s.bat)) {
    m.battDrone.push(arrival, s.bat);
    m.dataVersion++;
  }
}

function onInference(r, arrival) {
  if (!r || typeof r !== "object") return;
  m.inference = r;
  m.infAt = arrival;
}

function link(name) {
  if (!m.links[name]) m.links[name] = { state: "idle", reconnects: 0 };
  return m.links[name];
}

function describeEvent(e) {
  if (typeof e.command === "string") {
    if (!("answer" in e) && !("error" in e)) return ["drone", "> " + e.command, ""];
    const ans = e.error ? "error: " + e.error : String(e.answer);
    return ["drone", "< " + e.command + ": " + ans, e.error ? "warn" : ""];
  }
  const src = typeof e.source === "string" ? e.source : "";
  const what = typeof e.event === "string" ? e.event : "event";
  if (what === "connection") {
    let s = "link " + e.state;
    if (e.reason) s += ": " + e.reason;
    if (e.state === "reconnecting" && num(e.delay_ms)) s += ", retry in " + e.delay_ms + " ms";
    const kind = e.state === "failed" ? "bad" : e.state === "reconnecting" ? "warn" : "";
    return [src, s, kind];
  }
  let s = what.replace(/_/g, " ");
  if (typeof e.detail === "string") s += ": " + e.detail;
  const kind = /error|fail|lost|stale|refused/.test(what) ? "warn" : "";
  return [src, s, kind];
}

function onEvent(e, arrival) {
  if (!e || typeof e !== "object") return;
  // Connection events move a link at once; the status that follows
  // within a second confirms it.
  if (e.event === "connection" && m.links.hasOwnProperty(e.source)) {
    const l = link(e.source);
    l.state = e.state;
    l.reason = e.state === "open" ? undefined : e.reason || l.reason;
    l.attempt = e.attempt;
    l.retry_ms = e.delay_ms;
    l.at = arrival;
    if (e.state === "open") {
      if (l.openedBefore) l.reconnects++;
      l.openedBefore = true;
    }
  }
  const [src, text, kind] = describeEvent(e);
  m.events.push({ t: arrival, src, text, kind });
  if (m.events.length > EVENTS_KEPT) m.events.splice(0, m.events.length - EVENTS_KEPT);
  m.eventsVersion++;
}

function onStatus(s, arrival) {
  if (!s || typeof s !== "object") return;
  if (s.links && typeof s.links === "object") {
    for (const name of Object.keys(m.links)) {
      const x = s.links[name];
      if (!x || typeof x !== "object") continue;
      const l = link(name);
      Object.assign(l, { state: x.state, reason: x.reason, attempt: x.attempt,
        retry_ms: x.retry_ms, reconnects: x.reconnects, sdk_active: x.sdk_active,
        at: arrival, fromStatus: true });
      l.openedBefore = l.openedBefore || x.state === "open";
    }
  }
  m.spool = s.spool && typeof s.spool === "object" ? s.spool : null;
}

const handlers = {
  olfaction: onFrame,
  "uav.state": onDroneState,
  inference: onInference,
  events: onEvent,
  status: onStatus,
};

// ---- drawing ----------------------------------------------------------

const ui = {
  windowMs: 60000,
  theme: themeColors(),
  charts: null,
  lastText: 0,
  eventsShown: -1,
  // For tests and benchmarks (window.scnDashboard).
  stats: { frames: 0, drawMs: 0, drawMsMax: 0, messages: 0, droppedBySlowPage: 0 },
};

function chartsInit() {
  ui.charts = [
    { chart: new Chart($("chart-compounds"), { minSpan: 10 }),
      series: () => [...m.compounds.values()].filter((c) => c.shown).map((c) => c.series) },
    { chart: new Chart($("chart-temp"), { minSpan: 1 }), series: () => [m.env.ENV_temperatureC] },
    { chart: new Chart($("chart-hum"), { minSpan: 2 }), series: () => [m.env.ENV_humidity] },
    { chart: new Chart($("chart-press"), { minSpan: 2 }), series: () => [m.env.ENV_pressureHpa] },
    { chart: new Chart($("chart-batt"), { minSpan: 5 }), series: () => [m.battDevice, m.battDrone] },
  ];
  for (const c of ui.charts) {
    c.drawnVersion = -1;
    c.drawnAt = 0;
    c.drawnWindow = 0;
  }
}

function drawCharts(now) {
  for (const c of ui.charts) {
    const w = c.chart.canvas.clientWidth || 1;
    // Redrawn when data came, the window changed, the size changed, or
    // time moved on by a pixel's worth.
    const due = c.drawnVersion !== m.dataVersion || c.drawnWindow !== ui.windowMs ||
      c.chart.w !== c.chart.canvas.clientWidth || c.chart.h !== c.chart.canvas.clientHeight ||
      now - c.drawnAt >= ui.windowMs / w;
    if (!due) continue;
    c.chart.draw(c.series(), now, ui.windowMs, ui.theme, colorOf);
    c.drawnVersion = m.dataVersion;
    c.drawnAt = now;
    c.drawnWindow = ui.windowMs;
  }
}

function colorOf(series) {
  const p = ui.theme.palette;
  return p[series.color % p.length];
}

function buildPicker() {
  const ul = $("picker");
  const names = [...m.compounds.keys()].sort();
  ul.replaceChildren();
  for (const name of names) {
    const c = m.compounds.get(name);
    const li = document.createElement("li");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = c.shown;
    box.dataset.compound = name;
    box.addEventListener("change", () => {
      c.shown = box.checked;
      m.dataVersion++;
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.backgroundColor = colorOf(c.series);
    const nm = document.createElement("span");
    nm.className = "name";
    nm.textContent = name;
    const val = document.createElement("span");
    val.className = "val";
    c.value = val;
    label.append(box, swatch, nm, val);
    li.append(label);
    ul.append(li);
  }
  m.pickerDirty = false;
}

const LINK_WORDS = { open: "connected", connecting: "connecting", reconnecting: "reconnecting",
  failed: "failed", closing: "closing", closed: "closed", idle: "not started" };

function linkRow(id, l, now) {
  const row = $(id);
  const st = row.querySelector(".state");
  const n = row.querySelector(".n");
  if (!l) {
    setText(st, "not configured");
    row.className = "none";
    setText(n, "–");
    return;
  }
  let s = LINK_WORDS[l.state] || String(l.state);
  if (l.state !== "open" && l.reason) s += ": " + l.reason;
  if (l.state === "reconnecting" && num(l.attempt)) s += " (attempt " + l.attempt + ")";
  setText(st, s);
  row.className = l.state === "open" ? "up" : l.state === "failed" ? "bad" : "warn";
  setText(n, num(l.reconnects) ? String(l.reconnects) : "–");
}

function drawLinks(now) {
  const page = live;
  let s = LINK_WORDS[page.state] || page.state;
  if (page.state === "reconnecting") {
    const left = Math.max(0, page.retryAt - now);
    s += " in " + ago(left) + " (attempt " + page.attempt + ")";
  }
  if (m.dropped) s += "; " + m.dropped + " messages dropped (page too slow)";
  setText($("l-page").querySelector(".state"), s);
  $("l-page").className = page.state === "open" ? "up" : "warn";
  setText($("l-page").querySelector(".n"), String(Math.max(0, page.connects - 1)));
  const configured = !!m.spool || Object.values(m.links).some((l) => l && l.fromStatus);
  for (const name of ["device", "drone", "cloud"]) {
    const l = m.links[name];
    // Before the first status, an unknown link is just unknown.
    if (!l && !configured) {
      setText($("l-" + name).querySelector(".state"), "–");
      $("l-" + name).className = "";
      continue;
    }
    linkRow("l-" + name, l, now);
  }
  setText($("spool"), m.spool && num(m.spool.backlog)
    ? m.spool.backlog + (m.spool.backlog === 1 ? " record" : " records") +
      (m.spool.dropped_full ? ", " + m.spool.dropped_full + " lost to the size cap" : "")
    : "–");
}

function drawEvents() {
  if (ui.eventsShown === m.eventsVersion) return;
  ui.eventsShown = m.eventsVersion;
  const ol = $("events");
  const items = [];
  for (let i = m.events.length - 1; i >= 0 && items.length < 30; i--) {
    const e = m.events[i];
    const li = document.createElement("li");
    if (e.kind) li.className = e.kind;
    const time = document.createElement("time");
    time.textContent = clock(e.t);
    const src = document.createElement("span");
    src.className = "src";
    src.textContent = e.src;
    const text = document.createElement("span");
    text.textContent = e.text;
    li.append(time, src, text);
    items.push(li);
  }
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "none since this page was opened";
    items.push(li);
  }
  ol.replaceChildren(...items);
}

function drawValues(now) {
  setText($("clock"), clock(now));
  const f = m.frame;
  if (f) {
    setText($("o-uid"), typeof f.UID === "string" ? f.UID : "–");
    setText($("o-seq"), num(f.SEQ) ? String(f.SEQ) : "–");
    setText($("o-age"), ago(now - m.frameAt) + " ago");
    for (const [k, c] of m.compounds) if (c.value) setText(c.value, num(f[k]) ? ppb(f[k]) : "0");
    setText($("e-temp"), fmt(f.ENV_temperatureC, 1, "°C"));
    setText($("e-hum"), fmt(f.ENV_humidity, 1, "%RH"));
    setText($("e-press"), fmt(f.ENV_pressureHpa, 1, "hPa"));
    setText($("b-dev"), fmt(f.BATT_charge, 0, "%"));
    setText($("b-volt"), fmt(f.BATT_v, 2, "V"));
    setText($("b-health"), fmt(f.BATT_health, 0, "%"));
    setText($("b-time"), fmt(f.BATT_time, 1, "h"));
  }
  const d = m.drone;
  if (d) {
    setText($("d-bat"), fmt(d.bat, 0, "%"));
    setText($("b-drone"), fmt(d.bat, 0, "%"));
    setText($("d-height"), num(d.h) ? (d.h / 100).toFixed(2) + " m" : "–");
    const v = [d.vgx, d.vgy, d.vgz];
    setText($("d-speed"), v.every(num) ? Math.hypot(...v).toFixed(0) + " cm/s" : "–");
    setText($("d-att"), fmt(d.pitch, 0, "°") + " / " + fmt(d.roll, 0, "°"));
    setText($("d-yaw"), fmt(d.yaw, 0, "°"));
    setText($("d-pos"), [d.x, d.y, d.z].every(num) ? d.x + ", " + d.y + ", " + d.z + " cm" : "–");
    const age = now - m.droneAt;
    setText($("d-age"), ago(age));
    $("d-age").className = age > 1000 ? "warn" : "";
  }
  const dl = m.links.drone;
  setText($("d-sdk"), dl && typeof dl.sdk_active === "boolean"
    ? (dl.sdk_active ? "active" : "not active") : "–");
  const r = m.inference;
  if (r) {
    const top = Array.isArray(r.labels) && r.labels.length ? r.labels[0] : null;
    setText($("i-label"), top && typeof top.label === "string" ? top.label : "(no label)");
    setText($("i-prob"), top && num(top.score) ? (top.score * 100).toFixed(1) + " %" : "–");
    setText($("i-model"), typeof r.model === "string" ? r.model : "–");
    const has = num(r.bearing_deg);
    const target = typeof r.target === "string" ? r.target + " at " : "";
    setText($("i-bearing"), has ? target + r.bearing_deg.toFixed(0) + "° from the heading"
      : "none (no position)");
    setText($("i-age"), ago(now - m.infAt) + " ago" +
      (num(r.age_ms) ? ", " + r.age_ms + " ms after its frame" : ""));
    const arrow = $("bearing-arrow");
    arrow.classList.toggle("off", !has);
    if (has) arrow.setAttribute("transform", "rotate(" + r.bearing_deg.toFixed(1) + " 50 50)");
  }
}

function drawBanner(now) {
  const b = $("banner");
  let text = "";
  let kind = "";
  if (live.state !== "open") {
    kind = "down";
    text = "Disconnected from the companion since " + clock(live.since) +
      ": reconnecting" + (live.attempt ? " (attempt " + live.attempt + ")" : "") +
      ". Everything below is as it was then.";
  } else if (!m.frame && now - live.since > STALE_MS) {
    kind = "stale";
    text = "Connected, but no olfaction data has arrived yet.";
  } else if (m.frame && now - m.frameAt > STALE_MS) {
    kind = "stale";
    const dev = m.links.device;
    text = "Stale: no olfaction data for " + ago(now - m.frameAt) +
      (dev && dev.state !== "open" ? " (device link " + (LINK_WORDS[dev.state] || dev.state) +
        (dev.reason ? ": " + dev.reason : "") + ")" : "") + ".";
  }
  b.hidden = !text;
  b.className = "banner " + kind;
  setText(b, text);
  document.body.classList.toggle("is-down", kind === "down");
  document.body.classList.toggle("is-stale", kind === "stale");
  const conn = $("conn");
  setText(conn, kind === "down" ? "disconnected" : kind === "stale" ? "stale" : "live");
  conn.className = "badge " + (kind || "up");
  document.title = (kind ? "(" + (kind === "down" ? "disconnected" : "stale") + ") " : "") +
    "scentience live";
}

function render() {
  requestAnimationFrame(render);
  const t0 = performance.now();
  const now = Date.now();
  if (m.pickerDirty) buildPicker();
  drawCharts(now);
  if (now - ui.lastText >= TEXT_EVERY_MS) {
    ui.lastText = now;
    drawValues(now);
    drawLinks(now);
    drawEvents();
    drawBanner(now);
  }
  const dt = performance.now() - t0;
  ui.stats.frames++;
  ui.stats.drawMs += dt;
  if (dt > ui.stats.drawMsMax) ui.stats.drawMsMax = dt;
}

// ---- start ----------------------------------------------------------

const live = new LiveLink(STREAMS, {
  message(stream, data, arrival) {
    ui.stats.messages++;
    if (stream === "fleet") {
      drawFleet(data, DRONE);
      return;
    }
    const h = handlers[pageStream(stream, DRONE)];
    if (h) h(data, arrival);
  },
  state() {
    ui.lastText = 0; // shown at the next frame, not up to 100 ms later
  },
  dropped(count) {
    m.dropped += count;
    ui.stats.droppedBySlowPage = m.dropped;
  },
});

// For tests and benchmarks: counters only, nothing to steer the page.
window.scnDashboard = {
  stats: ui.stats,
  link: () => ({ state: live.state, connects: live.connects, received: live.received }),
  // Each series' bucket count and the span it covers (ms), and now.
  history: () => {
    const out = { now: Date.now(), series: {} };
    const all = [...[...m.compounds.values()].map((c) => c.series), ...Object.values(m.env),
      m.battDevice, m.battDrone];
    for (const s of all) {
      out.series[s.label] = { count: s.count, capacity: s.t.length,
        oldest: s.count ? s.t[s.slot(0)] : null, newest: s.count ? s.t[s.slot(s.count - 1)] : null };
    }
    return out;
  },
};

$("window").addEventListener("change", (e) => {
  ui.windowMs = Number(e.target.value) || 60000;
});
ui.windowMs = Number($("window").value) || 60000;
function themeChanged() {
  ui.theme = themeColors();
  for (const c of ui.charts) c.drawnVersion = -1;
  $("sw-dev").style.backgroundColor = colorOf(m.battDevice);
  $("sw-drone").style.backgroundColor = colorOf(m.battDrone);
  m.pickerDirty = m.compounds.size > 0;
}
chartsInit();
lightScheme.addEventListener("change", themeChanged);
themeChanged();
live.start();
requestAnimationFrame(render);
