// Node.js peer for bench/stream-jsonl: what `scn-stream --format jsonl`
// does, written as a Node user would: the `ws` package, JSON.parse of
// every frame, one JSON line out (JSON.stringify) per frame, stop after
// --count frames.
'use strict';

const WebSocket = require('ws');

const argv = process.argv;
const url = argv[argv.indexOf('--url') + 1];
const count = Number(argv[argv.indexOf('--count') + 1]);
let n = 0;
const ws = new WebSocket(url, 'scentience.v1');
ws.on('message', (data) => {
  process.stdout.write(JSON.stringify(JSON.parse(data)) + '\n');
  // Frames already read may still arrive after terminate().
  if (++n === count) {
    ws.terminate();
  }
});
ws.on('close', () => process.exit(n >= count ? 0 : 1));
ws.on('error', (e) => {
  process.stderr.write(`node_jsonl: ${e.message}\n`);
  process.exit(1);
});
