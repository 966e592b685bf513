// Checks an MCAP file with an independent reader, @mcap/core (installed in
// tests/peers by scripts/install-test-peers), and prints what it found as
// one JSON object on stdout. Exit 1 with the reason on stderr when the file
// is not valid.
//
//   node mcap_check.mjs FILE           a finished file: every record, the
//                                      chunk, data section and summary CRCs,
//                                      schemas, channels, indexed reading
//   node mcap_check.mjs --prefix FILE  a killed recording: every complete
//                                      record up to where the file stops
//
// Environment: SCN_PEERS_DIR (default: tests/peers next to this folder).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

const here = path.dirname(fileURLToPath(import.meta.url));
const peers = process.env.SCN_PEERS_DIR ?? path.join(here, "..", "peers");
const require = createRequire(path.join(peers, "package.json"));

function fail(msg) {
  process.stderr.write(`mcap_check: ${msg}\n`);
  process.exit(1);
}

let mcap;
try {
  mcap = require("@mcap/core");
} catch (e) {
  fail(`@mcap/core is not installed in ${peers}: run ` +
    `scripts/install-test-peers (${e.message})`);
}
// CRC-32 as zlib computes it: Node's own when it has one, else the one
// @mcap/core itself uses.
const crc32 = zlib.crc32 ?? require("@foxglove/crc").crc32;

const args = process.argv.slice(2);
const prefixMode = args[0] === "--prefix";
const file = prefixMode ? args[1] : args[0];
if (!file) fail("usage: mcap_check.mjs [--prefix] FILE");
const bytes = new Uint8Array(fs.readFileSync(file));

function assert(cond, msg) {
  if (!cond) fail(msg);
}

function parseJson(what, text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`${what} is not JSON: ${e.message}`);
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

// Pass 1: the stream reader sees every record in file order, chunks
// included, and checks each chunk's CRC.
function streamPass() {
  const reader = new mcap.McapStreamReader({ includeChunks: true,
    validateCrcs: true });
  const records = {};
  const channels = new Map();
  const topics = {};
  let messages = 0;
  let lastType = null;
  try {
    reader.append(bytes);
    for (let r; (r = reader.nextRecord());) {
      records[r.type] = (records[r.type] ?? 0) + 1;
      lastType = r.type;
      if (r.type === "Channel") channels.set(r.id, r);
      if (r.type === "Message") {
        const ch = channels.get(r.channelId);
        assert(ch, `message on unknown channel ${r.channelId}`);
        parseJson(`message ${messages} on ${ch.topic}`,
          decoder.decode(r.data));
        topics[ch.topic] = (topics[ch.topic] ?? 0) + 1;
        messages++;
      }
    }
  } catch (e) {
    fail(`stream reader: ${e.message}`);
  }
  return { records, topics, messages, done: reader.done(), lastType,
    unparsed: reader.bytesRemaining() };
}

function readable() {
  return {
    size: async () => BigInt(bytes.length),
    read: async (offset, size) => {
      const end = Number(offset + size);
      assert(end <= bytes.length, "read past the end of the file");
      return bytes.subarray(Number(offset), end);
    },
  };
}

// Pass 2: the indexed reader starts from the footer and summary (checking
// the summary CRC), then reads messages through the chunk and message
// indexes.
async function indexedPass() {
  let reader;
  try {
    reader = await mcap.McapIndexedReader.Initialize({ readable: readable() });
  } catch (e) {
    fail(`indexed reader: ${e.message}`);
  }
  const schemas = [];
  for (const s of reader.schemasById.values()) {
    assert(s.encoding === "jsonschema",
      `schema ${s.name} has encoding ${s.encoding}`);
    const doc = parseJson(`schema ${s.name}`, decoder.decode(s.data));
    assert(typeof doc === "object" && doc !== null,
      `schema ${s.name} is not an object`);
    schemas.push(s.name);
  }
  const channels = {};
  for (const c of reader.channelsById.values()) {
    assert(c.messageEncoding === "json",
      `channel ${c.topic} has encoding ${c.messageEncoding}`);
    assert(c.schemaId === 0 || reader.schemasById.has(c.schemaId),
      `channel ${c.topic} names a missing schema`);
    channels[c.topic] = {
      id: c.id,
      schema: c.schemaId ? reader.schemasById.get(c.schemaId).name : "",
    };
  }
  const topics = {};
  let messages = 0;
  let last = -1n;
  let start = null;
  let end = null;
  try {
    for await (const m of reader.readMessages({ validateCrcs: true })) {
      assert(m.logTime >= last, "messages out of log time order");
      last = m.logTime;
      start ??= m.logTime;
      end = m.logTime;
      const topic = reader.channelsById.get(m.channelId).topic;
      topics[topic] = (topics[topic] ?? 0) + 1;
      messages++;
    }
  } catch (e) {
    fail(`indexed reader messages: ${e.message}`);
  }
  const st = reader.statistics;
  assert(st, "no Statistics record in the summary");
  assert(st.messageCount === BigInt(messages),
    `statistics say ${st.messageCount} messages, read ${messages}`);
  for (const [id, n] of st.channelMessageCounts) {
    const topic = reader.channelsById.get(id).topic;
    assert(BigInt(topics[topic] ?? 0) === n,
      `statistics say ${n} messages on ${topic}`);
  }
  assert(st.chunkCount === reader.chunkIndexes.length,
    "statistics chunk count differs from the chunk indexes");
  // @mcap/core reads the data section CRC but does not check it.
  if (reader.dataSectionCrc !== undefined) {
    const crc = crc32(bytes.subarray(0, Number(reader.dataEndOffset))) >>> 0;
    assert(crc === reader.dataSectionCrc,
      `data section CRC ${crc} != ${reader.dataSectionCrc}`);
  }
  return {
    schemas, channels, topics, messages,
    chunks: reader.chunkIndexes.length,
    start_ns: start === null ? null : start.toString(),
    end_ns: end === null ? null : end.toString(),
    data_crc_checked: reader.dataSectionCrc !== undefined,
    library: reader.header.library,
  };
}

const stream = streamPass();
if (prefixMode) {
  process.stdout.write(JSON.stringify({ mode: "prefix", ...stream }) + "\n");
} else {
  assert(stream.done, "the stream reader did not reach a valid footer");
  const indexed = await indexedPass();
  assert(JSON.stringify(Object.entries(stream.topics).sort()) ===
    JSON.stringify(Object.entries(indexed.topics).sort()),
  "stream and indexed readers disagree on message counts");
  process.stdout.write(JSON.stringify({ mode: "full",
    records: stream.records, ...indexed }) + "\n");
}
