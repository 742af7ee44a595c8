/**
 * Codec benchmark (`npm run bench:codec`): validated JSON and binary paths of
 * the wire layer beside the floor of raw JSON.stringify / JSON.parse of the
 * same plain payload object, for a heartbeat and for an AppendEntriesRequest
 * with 64 entries of ~256-byte commands.
 *
 * The library is measured as it ships: this script and the codec sources are
 * bundled with esbuild (as tsup builds dist/, target es2022) and run by plain
 * node. Under tsx every call across a module boundary goes through an
 * ESM-interop getter that the built library does not have. `--source` runs
 * the sources under tsx instead, for comparison.
 *
 * Cases are measured in interleaved rounds (each case for a short slice per
 * round) and each figure is the median over the rounds, so a slow spell of a
 * shared machine hits every case alike instead of skewing one ratio.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '../src/binary/index.js';
import type { Message } from '../src/core/types.js';
import { fromPayload, toPayload } from '../src/wire/index.js';

const ROUNDS = 10;
const SLICE_MS = 150;
const WARMUP_MS = 300;

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

interface Case {
  name: string;
  /** One operation; returns the bytes it handled (for MB/s). */
  run: () => number;
  /** The raw JSON case this one is compared with. */
  floor?: Case;
  bytesPerOp: number;
  opsPerSec: number[];
}

function cases(label: string, message: Message): Case[] {
  const payload = toPayload(message);
  const json = JSON.stringify(payload);
  const bytes = encode(payload);
  const jsonSize = json.length;
  console.log(`${label}: JSON ${jsonSize} bytes, binary ${bytes.length} bytes`);
  const list: Case[] = [];
  const add = (name: string, run: () => number, floor?: Case): Case => {
    const c: Case = { name: `${label}: ${name}`, run, floor, bytesPerOp: 0, opsPerSec: [] };
    list.push(c);
    return c;
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
  return list;
}

/** Runs `c` for about `ms` milliseconds; returns operations per second and records bytes per operation. */
function slice(c: Case, ms: number): number {
  let ops = 0;
  let bytes = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 20; i++) bytes += c.run();
    ops += 20;
    now = performance.now();
  }
  c.bytesPerOp = bytes / ops;
  return (ops * 1000) / (now - start);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(): void {
  const all = [...cases('heartbeat', heartbeat), ...cases('append64', appendEntries64)];
  for (const c of all) slice(c, WARMUP_MS);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of all) c.opsPerSec.push(slice(c, SLICE_MS));
  }
  console.log('');
  console.log('case'.padEnd(48), 'msgs/s'.padStart(12), 'MB/s'.padStart(9), 'time vs floor'.padStart(14), 'rounds'.padStart(14));
  for (const c of all) {
    const ops = median(c.opsPerSec);
    let ratio = '';
    let spread = '';
    if (c.floor !== undefined) {
      const floor = c.floor;
      ratio = `${(median(floor.opsPerSec) / ops).toFixed(2)}x`;
      const perRound = c.opsPerSec.map((o, i) => floor.opsPerSec[i] / o);
      spread = `${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)}x`;
    }
    console.log(
      c.name.padEnd(48),
      Math.round(ops).toLocaleString('en-US').padStart(12),
      ((ops * c.bytesPerOp) / 1e6).toFixed(1).padStart(9),
      ratio.padStart(14),
      spread.padStart(14),
    );
  }
  console.log('\n"time vs floor" = median time per message / median time of the matching raw JSON floor (lower is better);');
  console.log(`"rounds" = the lowest and highest per-round ratio over ${ROUNDS} interleaved rounds of ${SLICE_MS} ms per case.`);
  console.log('MB/s counts JSON text bytes for JSON rows and protobuf bytes for binary rows.');
}

const args = process.argv.slice(2);
if (args.includes('--run') || args.includes('--source')) {
  if (args.includes('--source')) console.log('Measuring the sources under tsx (--source).');
  measure();
} else {
  // Bundle this script with the codec sources as tsup builds the library, and run it with plain node.
  const { build } = await import('esbuild');
  const outdir = mkdtempSync(join(tmpdir(), 'webraft-bench-codec-'));
  try {
    const outfile = join(outdir, 'bench-codec.mjs');
    await build({
      entryPoints: [fileURLToPath(import.meta.url)],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'es2022',
      external: ['esbuild'],
      logLevel: 'warning',
    });
    console.log(`Measuring the codec built with esbuild (target es2022, as in dist/), run by ${process.execPath} ${process.version}.`);
    const child = spawnSync(process.execPath, [outfile, '--run'], { stdio: 'inherit', cwd: dirname(outfile) });
    process.exitCode = child.status ?? 1;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
