// Node.js peer for bench/: the `ws` package with JSON.parse.
//
// What a Node user would write: a ws client whose 'message' handler parses
// every frame into an object and reads one field. Same command line and
// result line as the C clients (bench/bench_common.h). ws is installed by
// bench/install-peers into bench/peers/node_modules.
'use strict';

const fs = require('fs');
const WebSocket = require('ws');

const SENT_KEY = '_bench_sent_ns';
const CHECK_EVERY = 64;

function parseArgs(argv) {
  const a = { mode: 'ingest', seconds: 3, reconnects: 50, sleepUs: 1000 };
  for (let i = 2; i < argv.length; i += 2) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--url': a.url = v; break;
      case '--mode': a.mode = v; break;
      case '--seconds': a.seconds = Number(v); break;
      case '--reconnects': a.reconnects = Number(v); break;
      case '--sleep-us': a.sleepUs = Number(v); break;
      default:
        process.stderr.write(`node_client: unknown option ${argv[i]}\n`);
        process.exit(64);
    }
  }
  if (!a.url || !['ingest', 'latency', 'slow'].includes(a.mode)) {
    process.stderr.write('usage: node_client.js --url URL ' +
      '[--mode ingest|latency|slow] [--seconds S] [--sleep-us U]\n');
    process.exit(64);
  }
  return a;
}

function statusKib(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8')
    .match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
  return m ? Number(m[1]) : -1;
}

function cpuS() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

// Nearest rank, as bench_common.c.
function dist(samples, unit) {
  const out = { n: samples.length };
  if (samples.length) {
    const s = Float64Array.from(samples).sort();
    const pct = (p) => {
      const rank = Math.min(s.length, Math.max(1,
        Math.ceil(s.length * p / 100)));
      return s[rank - 1] / unit;
    };
    out.p50 = pct(50);
    out.p90 = pct(90);
    out.p99 = pct(99);
    out.max = s[s.length - 1] / unit;
  }
  return out;
}

const a = parseArgs(process.argv);
const window = BigInt(Math.round(a.seconds * 1e9));
// A synchronous sleep blocks the event loop like a slow callback blocks
// libscentience's loop thread: the socket is not read meanwhile.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const st = { frames: 0, t0: 0n, t1: 0n, cpu0: 0, cpu1: 0, rss0: -1 };
const lat = [];
let touched = 0;
let done = false;

function finish(ws) {
  if (done) return;
  done = true;
  st.t1 = process.hrtime.bigint();
  st.cpu1 = cpuS();
  const r = {
    client: 'node',
    mode: a.mode,
    frames: st.frames,
    seconds: st.frames ? Number(st.t1 - st.t0) / 1e9 : 0,
    cpu_s: st.frames ? st.cpu1 - st.cpu0 : 0,
    rss_start_kib: st.rss0,
    peak_rss_kib: statusKib('VmHWM'),
    connections: 0,
    node: process.versions.node,
    ws: require('ws/package.json').version,
  };
  if (a.mode === 'latency') r.latency_us = dist(lat, 1e3);
  process.stdout.write(JSON.stringify(r) + '\n', () => process.exit(
    st.frames ? 0 : 1));
  if (ws) ws.terminate();
}

const ws = new WebSocket(a.url, ['scentience.v1'], {
  perMessageDeflate: false,
  maxPayload: 1 << 20,
});
ws.on('message', (data) => {
  if (done) return;
  const obj = JSON.parse(data.toString());
  touched += obj.NH3 || 0;
  if (st.frames++ === 0) {
    st.t0 = process.hrtime.bigint();
    st.cpu0 = cpuS();
    st.rss0 = statusKib('VmRSS');
  }
  if (a.mode === 'latency') {
    const now = process.hrtime.bigint();
    // The stamp is below 2^53, so the double JSON.parse made is exact.
    lat.push(Number(now) - obj[SENT_KEY]);
    if (now - st.t0 >= window) finish(ws);
    return;
  }
  if (a.mode === 'slow' && a.sleepUs) {
    Atomics.wait(sleepCell, 0, 0, a.sleepUs / 1000);
  }
  if (st.frames % CHECK_EVERY === 0 &&
      process.hrtime.bigint() - st.t0 >= window) {
    finish(ws);
  }
});
ws.on('close', () => finish(null));
ws.on('error', () => finish(null));
setTimeout(() => finish(ws), (a.seconds + 10) * 1000).unref();
process.on('exit', () => { void touched; });
