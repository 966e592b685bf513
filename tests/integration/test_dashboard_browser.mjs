// A real browser for test_dashboard_browser.py (and bench/dashboard):
// Debian's chromium, headless, driven by puppeteer-core from npm (no
// browser is downloaded). Line-driven: one JSON command a line on stdin,
// one JSON answer a line on stdout, so the Python test keeps control of
// the processes (it stops and restarts the companion between commands).
//
//   node test_dashboard_browser.mjs
//
// Commands ({"cmd": ...}):
//   open {url, width?, height?, scheme?}
//                                a fresh page at url (scheme: "dark" or
//                                "light" emulated); answers the HTTP
//                                status of the document, the redirect
//                                chain and the final URL
//   snapshot                     what the page shows now (see snapshot())
//   select {selector, value}     picks an option of a <select>
//   screenshot {path, fullPage?} a PNG of the page
//   cookies                      the page's cookies (name, httpOnly, ...)
//   requests                     every request the pages made since the
//                                browser started (HTTP and WebSocket),
//                                console errors and page errors
//   frames {seconds}             frame times over that long (rAF deltas,
//                                long tasks), for the benchmark
//   metrics                      Chromium's page metrics (CPU time spent
//                                in script, layout, style; JS heap)
//   quit
// Every answer is {"ok": true, ...} or {"ok": false, "error": "..."}.
// Environment: SCN_PEERS_DIR (default: tests/peers next to this folder),
// SCN_CHROMIUM (default /usr/bin/chromium).
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const peers = process.env.SCN_PEERS_DIR ?? path.join(here, "..", "peers");
const require = createRequire(path.join(peers, "package.json"));
const chromium = process.env.SCN_CHROMIUM ?? "/usr/bin/chromium";

function say(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

let puppeteer;
try {
  puppeteer = require("puppeteer-core");
} catch (e) {
  say({ ok: false, error: `puppeteer-core is not installed in ${peers}: ` +
    `run scripts/install-test-peers (${e.message})` });
  process.exit(1);
}
if (!fs.existsSync(chromium)) {
  say({ ok: false, error: `${chromium} not found: scripts/install-deps ` +
    "installs Debian's chromium" });
  process.exit(1);
}

// The machine has no network: without these Chromium waits on lookups
// and update checks. A fresh profile each run: no cache, no cookie.
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "scn-chromium-"));
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  userDataDir: profile,
  protocolTimeout: 60000,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage"],
});

const requests = []; // {url, type}
const problems = []; // console errors, page errors, failed requests
let page = null;

async function newPage(width, height) {
  if (page) await page.close();
  page = await browser.newPage();
  await page.setViewport({ width, height });
  page.on("request", (r) => requests.push({ url: r.url(), type: r.resourceType() }));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push("console: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  // WebSockets do not go through the request event: the DevTools
  // protocol tells of each one created.
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketCreated", (e) => requests.push({ url: e.url, type: "websocket" }));
  return page;
}

async function open(cmd) {
  const p = await newPage(cmd.width ?? 1280, cmd.height ?? 900);
  if (cmd.scheme) {
    await p.emulateMediaFeatures([{ name: "prefers-color-scheme", value: cmd.scheme }]);
  }
  const resp = await p.goto(cmd.url, { waitUntil: "load", timeout: 30000 });
  const chain = resp ? resp.request().redirectChain().map((r) => ({
    url: r.url(), status: r.response()?.status() ?? null,
  })) : [];
  return { status: resp ? resp.status() : null, url: p.url(), chain };
}

// What the page shows: the text of the value fields, the banner, the
// arrow, the link rows; a hash of the main plot's pixels and how many of
// them have a ticked compound's colour (the lines' "ink").
function snapshot() {
  return page.evaluate(() => {
    const ids = ["conn", "o-uid", "o-seq", "o-age", "e-temp", "e-hum", "e-press",
      "b-dev", "b-drone", "d-bat", "d-height", "d-speed", "d-att", "d-yaw",
      "d-pos", "d-age", "d-sdk", "i-label", "i-prob", "i-model", "i-bearing",
      "i-age", "spool"];
    const values = {};
    for (const id of ids) values[id] = document.getElementById(id)?.textContent ?? null;
    values.picker = [...document.querySelectorAll("#picker label")].map((l) => l.textContent).join(" ");
    const links = {};
    for (const l of ["page", "device", "drone", "cloud"]) {
      const row = document.getElementById("l-" + l);
      links[l] = { state: row.querySelector(".state").textContent,
        reconnects: row.querySelector(".n").textContent, cls: row.className };
    }
    const canvas = document.getElementById("chart-compounds");
    const ctx = canvas.getContext("2d");
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const colors = [];
    for (const box of document.querySelectorAll("#picker input:checked")) {
      const c = getComputedStyle(box.parentElement.querySelector(".swatch")).backgroundColor;
      const m = c.match(/\d+/g);
      if (m) colors.push(m.slice(0, 3).map(Number));
    }
    let hash = 2166136261;
    let ink = 0;
    for (let i = 0; i < px.length; i += 4) {
      hash = Math.imul(hash ^ px[i] ^ (px[i + 1] << 8) ^ (px[i + 2] << 16), 16777619) >>> 0;
      for (const c of colors) {
        if (Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) + Math.abs(px[i + 2] - c[2]) < 60) {
          ink++;
          break;
        }
      }
    }
    const banner = document.getElementById("banner");
    const arrow = document.getElementById("bearing-arrow");
    return {
      values, links,
      plot: { hash, ink, width: canvas.width, height: canvas.height },
      compounds: document.querySelectorAll("#picker input").length,
      shown: colors.length,
      banner: { visible: !banner.hidden && getComputedStyle(banner).display !== "none",
        text: banner.textContent, cls: banner.className },
      arrow: { visible: getComputedStyle(arrow).display !== "none",
        transform: arrow.getAttribute("transform") },
      events: document.querySelectorAll("#events li:not(.muted)").length,
      // scn-fleet's table (web/dashboard/fleet.js): each row's cells.
      fleet: { visible: !document.getElementById("fleet").hidden,
        rows: [...document.querySelectorAll("#fleet-rows tr")].map(
          (tr) => [...tr.children].map((c) => c.textContent)) },
      title: document.title,
      overflowX: document.documentElement.scrollWidth - window.innerWidth,
      stats: window.scnDashboard ? { ...window.scnDashboard.stats, ...window.scnDashboard.link() } : null,
    };
  });
}

// Frame pacing as the page sees it: requestAnimationFrame deltas and
// long tasks (over 50 ms) while the page runs for `seconds`.
function frames(seconds) {
  return page.evaluate((ms) => new Promise((resolve) => {
    const deltas = [];
    const longTasks = [];
    let obs = null;
    try {
      obs = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) longTasks.push(e.duration);
      });
      obs.observe({ type: "longtask", buffered: false });
    } catch (e) { /* not supported: reported as null */ }
    const s0 = { ...window.scnDashboard.stats };
    const start = performance.now();
    let last = start;
    function tick(t) {
      deltas.push(t - last);
      last = t;
      if (t - start < ms) requestAnimationFrame(tick);
      else {
        if (obs) obs.disconnect();
        const s1 = window.scnDashboard.stats;
        resolve({ deltas: deltas.slice(1), longTasks: obs ? longTasks : null,
          renderFrames: s1.frames - s0.frames, renderMs: s1.drawMs - s0.drawMs,
          renderMsMax: s1.drawMsMax, messages: s1.messages - s0.messages,
          droppedBySlowPage: s1.droppedBySlowPage - s0.droppedBySlowPage,
          elapsedMs: performance.now() - start });
      }
    }
    requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
  }), seconds * 1000);
}

async function run(cmd) {
  switch (cmd.cmd) {
  case "open":
    return open(cmd);
  case "snapshot":
    return snapshot();
  case "select":
    await page.select(cmd.selector, cmd.value);
    return {};
  case "screenshot":
    await page.screenshot({ path: cmd.path, fullPage: !!cmd.fullPage });
    return {};
  case "cookies":
    return { cookies: (await page.cookies()).map((c) => ({ name: c.name,
      httpOnly: c.httpOnly, sameSite: c.sameSite ?? null, path: c.path })) };
  case "metrics":
    return { metrics: await page.metrics() };
  case "requests":
    return { requests, problems };
  case "frames":
    return frames(cmd.seconds ?? 5);
  case "quit":
    return null;
  default:
    throw new Error("unknown command " + cmd.cmd);
  }
}

async function quit(code) {
  try {
    await browser.close();
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(code);
  }
}

say({ ok: true, ready: true, version: await browser.version() });
const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let cmd;
  try {
    cmd = JSON.parse(line);
    const out = await run(cmd);
    if (out === null) break;
    say({ ok: true, ...out });
  } catch (e) {
    say({ ok: false, error: String(e && e.stack ? e.stack : e) });
  }
}
await quit(0);
