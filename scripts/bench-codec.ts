/**
 * Codec benchmark (`npm run bench:codec`): validated JSON and binary paths of
 * the wire layer beside the floor of raw JSON.stringify / JSON.parse of the
 * same plain payload object, for a heartbeat and for an AppendEntriesRequest
 * with 64 entries of ~256-byte commands.
 */
import { decode, encode } from '../src/binary/index.js';
import type { Message } from '../src/core/types.js';
import { fromPayload, toPayload } from '../src/wire/index.js';

const RUN_MS = 1000;
const WARMUP_MS = 300;

function measure(run: () => number): { opsPerSec: number; bytesPerOp: number } {
  let bytes = 0;
  const warmEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmEnd) run();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < RUN_MS) {
    for (let i = 0; i < 50; i++) bytes += run();
    ops += 50;
    now = performance.now();
  }
  return { opsPerSec: (ops * 1000) / (now - start), bytesPerOp: bytes / ops };
}

const heartbeat: Message = {
  from: 'node-1', to: 'node-2', term: 42,
  body: { type: 'AppendEntriesRequest', prevLogIndex: 1_000_000, prevLogTerm: 42, entries: [], leaderCommit: 999_998, readRound: 7 },
};
const appendEntries64: Message = {
  from: 'node-1', to: 'node-2', term: 42,
  body: {
    type: 'AppendEntriesRequest', prevLogIndex: 1_000_000, prevLogTerm: 42, leaderCommit: 999_998, readRound: 0,
    entries: Array.from({ length: 64 }, (_, i) => ({
      index: 1_000_001 + i, term: 42, type: 'command' as const,
      command: { op: 'set', key: `user:${100000 + i}`, value: 'x'.repeat(220) + String(i).padStart(10, '0') },
    })),
  },
};

interface Row { name: string; ops: number; mbps: number; floor?: number }

function bench(label: string, message: Message): Row[] {
  const payload = toPayload(message);
  const json = JSON.stringify(payload);
  const bytes = encode(payload);
  const jsonSize = json.length;
  const rows: Row[] = [];
  const add = (name: string, run: () => number, floor?: number): number => {
    const r = measure(run);
    rows.push({ name: `${label}: ${name}`, ops: r.opsPerSec, mbps: (r.opsPerSec * r.bytesPerOp) / 1e6, floor });
    return r.opsPerSec;
  };
  const rawStringify = add('raw JSON.stringify (floor)', () => JSON.stringify(payload).length);
  add('(a) toPayload + JSON.stringify', () => JSON.stringify(toPayload(message)).length, rawStringify);
  const rawParse = add('raw JSON.parse (floor)', () => (JSON.parse(json), jsonSize));
  add('(b) JSON.parse + fromPayload', () => {
    const result = fromPayload(JSON.parse(json));
    if (!result.ok) throw result.error;
    return jsonSize;
  }, rawParse);
  const rawBoth = add('raw stringify+parse (floor)', () => (JSON.parse(JSON.stringify(payload)), jsonSize));
  add('(c) binary encode', () => encode(payload).length, rawStringify);
  add('(d) binary decode', () => (decode(bytes), bytes.length), rawParse);
  add('(c+d) binary encode+decode', () => (decode(encode(payload)), bytes.length), rawBoth);
  console.log(`${label}: JSON ${jsonSize} bytes, binary ${bytes.length} bytes`);
  return rows;
}

const rows = [...bench('heartbeat', heartbeat), ...bench('append64', appendEntries64)];
console.log('');
console.log('case'.padEnd(48), 'msgs/s'.padStart(12), 'MB/s'.padStart(9), 'time vs floor'.padStart(14));
for (const row of rows) {
  const ratio = row.floor === undefined ? '' : `${(row.floor / row.ops).toFixed(2)}x`;
  console.log(row.name.padEnd(48), Math.round(row.ops).toLocaleString('en-US').padStart(12), row.mbps.toFixed(1).padStart(9), ratio.padStart(14));
}
console.log('\n"time vs floor" = time per message / time of the matching raw JSON floor (lower is better).');
console.log('MB/s counts JSON text bytes for JSON rows and protobuf bytes for binary rows.');
