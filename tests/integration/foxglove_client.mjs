// A Foxglove client we did not write: @foxglove/ws-protocol's
// FoxgloveClient over the `ws` package (both from npm, installed in
// tests/peers by scripts/install-test-peers). It connects to URL,
// subscribes to every channel the server advertises, and validates every
// payload against that channel's JSON Schema with ajv (draft 2020-12, the
// recorder's).
//
//   node foxglove_client.mjs URL [--subprotocol P] [--want N] [--topic T]
//
// It prints "READY" once every advertised channel (or each --topic given)
// has delivered at least N messages (default 1), keeps counting, and when the server closes the
// connection prints one JSON object with what it saw:
//   {"subprotocol", "serverInfo", "channels": [...advertised...],
//    "topics": {topic: {"count", "invalid", "firstError", "schemaName"}},
//    "unadvertised": [ids], "statuses": [...], "closeCode"}
// Exit 1 on a protocol error the library reports. Environment:
// SCN_PEERS_DIR (default: tests/peers next to this folder).
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const peers = process.env.SCN_PEERS_DIR ?? path.join(here, "..", "peers");
const require = createRequire(path.join(peers, "package.json"));

function fail(msg) {
  process.stderr.write(`foxglove_client: ${msg}\n`);
  process.exit(1);
}

let FoxgloveClient, WebSocket, Ajv2020;
try {
  FoxgloveClient = require("@foxglove/ws-protocol").FoxgloveClient;
  WebSocket = require("ws");
  Ajv2020 = require("ajv/dist/2020").default;
} catch (e) {
  fail(`the npm peers are not installed in ${peers}: run ` +
    `scripts/install-test-peers (${e.message})`);
}

const args = process.argv.slice(2);
const url = args[0];
let subprotocol = FoxgloveClient.SUPPORTED_SUBPROTOCOL;
let want = 1;
const readyTopics = [];
for (let i = 1; i < args.length; i += 2) {
  if (args[i] === "--subprotocol") subprotocol = args[i + 1];
  else if (args[i] === "--want") want = Number(args[i + 1]);
  else if (args[i] === "--topic") readyTopics.push(args[i + 1]);
  else fail(`unknown argument ${args[i]}`);
}
if (!url) fail("usage: foxglove_client.mjs URL [--subprotocol P] [--want N]");

const ajv = new Ajv2020({ strict: false, allErrors: true });
// RFC 3339 date-time, the format the recorder's schemas name for
// timestamps (ajv knows no formats by itself).
ajv.addFormat("date-time",
  /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/);
const decoder = new TextDecoder("utf-8", { fatal: true });
const seen = {
  subprotocol: null, serverInfo: null, channels: [], topics: {},
  unadvertised: [], statuses: [], closeCode: null,
};
const byChannel = new Map(); // channel id -> {topic, validate}
const bySub = new Map();     // subscription id -> channel id
let ready = false;

const ws = new WebSocket(url, [subprotocol]);
const client = new FoxgloveClient({ ws });

client.on("open", () => { seen.subprotocol = ws.protocol; });
client.on("error", (e) => fail(`client error: ${e?.message ?? e}`));
client.on("serverInfo", (info) => { seen.serverInfo = info; });
client.on("status", (s) => { seen.statuses.push(s); });
client.on("advertise", (channels) => {
  for (const ch of channels) {
    seen.channels.push(ch);
    let validate = null, compileError = null;
    try {
      validate = ajv.compile(JSON.parse(ch.schema));
    } catch (e) {
      compileError = String(e.message ?? e);
    }
    byChannel.set(ch.id, { topic: ch.topic, validate });
    seen.topics[ch.topic] = {
      count: 0, invalid: 0, firstError: compileError,
      schemaName: ch.schemaName, encoding: ch.encoding,
      schemaEncoding: ch.schemaEncoding ?? null,
    };
    bySub.set(client.subscribe(ch.id), ch.id);
  }
});
client.on("unadvertise", (ids) => { seen.unadvertised.push(...ids); });
client.on("message", ({ subscriptionId, timestamp, data }) => {
  const chId = bySub.get(subscriptionId);
  const ch = byChannel.get(chId);
  if (!ch) {
    fail(`message for unknown subscription ${subscriptionId}`);
  }
  const t = seen.topics[ch.topic];
  t.count++;
  if (typeof timestamp !== "bigint" || timestamp <= 0n) {
    t.invalid++;
    t.firstError ??= `bad receive time ${timestamp}`;
    return;
  }
  let value;
  try {
    const bytes = new Uint8Array(data.buffer, data.byteOffset,
                                 data.byteLength);
    value = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    t.invalid++;
    t.firstError ??= `not JSON: ${e.message}`;
    return;
  }
  if (!ch.validate || !ch.validate(value)) {
    t.invalid++;
    t.firstError ??= ch.validate
      ? ajv.errorsText(ch.validate.errors) + ": " +
        JSON.stringify(value).slice(0, 200)
      : "schema did not compile";
  }
  const counted = readyTopics.length
    ? readyTopics.map((t) => seen.topics[t] ?? { count: 0 })
    : Object.values(seen.topics);
  if (!ready && seen.channels.length && counted.every((x) => x.count >= want)) {
    ready = true;
    process.stdout.write("READY\n");
  }
});
ws.on("close", (code) => {
  seen.closeCode = code;
  process.stdout.write(JSON.stringify(seen) + "\n");
  process.exit(0);
});
ws.on("unexpected-response", (req, res) => {
  process.stdout.write(JSON.stringify({ status: res.statusCode }) + "\n");
  process.exit(2);
});
