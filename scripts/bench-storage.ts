/**
 * FileStorage throughput: `npm run bench:storage [-- --seconds 2]`.
 *
 * For group commit on and off and for 1 and 64 concurrent appenders (each
 * loops `await save({ entries: [one entry with a 256-byte command] })`), runs
 * ~N seconds in a fresh temp directory and prints appends/s, bytes written/s,
 * syncs/s (fdatasync + fsync of files and directory) and appends per sync.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../src/node/index.js';
import type { LogEntry } from '../src/core/types.js';

const secondsArg = process.argv.indexOf('--seconds');
const seconds = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 2;
const COMMAND = 'x'.repeat(256);

interface Row {
  groupCommit: boolean;
  appenders: number;
  appends: number;
  bytes: number;
  syncs: number;
  elapsed: number;
}

async function run(groupCommit: boolean, appenders: number): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'webraft-bench-storage-'));
  try {
    const storage = new FileStorage(dir, { groupCommit });
    await storage.load();
    const start = storage.stats;
    let next = 1;
    let appends = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const loop = async () => {
      while (performance.now() < deadline) {
        const entry: LogEntry = { index: next++, term: 1, type: 'command', command: COMMAND };
        await storage.save({ entries: [entry] });
        appends++;
      }
    };
    await Promise.all(Array.from({ length: appenders }, loop));
    const elapsed = (performance.now() - t0) / 1000;
    const end = storage.stats;
    await storage.close();
    const syncs = end.logSyncs + end.fileSyncs + end.dirSyncs - (start.logSyncs + start.fileSyncs + start.dirSyncs);
    return { groupCommit, appenders, appends, bytes: end.bytesWritten - start.bytesWritten, syncs, elapsed };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const groupCommit of [true, false]) {
  for (const appenders of [1, 64]) rows.push(await run(groupCommit, appenders));
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const table = [
  ['group commit', 'appenders', 'appends/s', 'MB/s written', 'syncs/s', 'appends/sync'],
  ...rows.map((r) => [
    r.groupCommit ? 'on' : 'off',
    String(r.appenders),
    fmt(r.appends / r.elapsed),
    fmt(r.bytes / r.elapsed / 1e6, 2),
    fmt(r.syncs / r.elapsed),
    fmt(r.appends / Math.max(1, r.syncs), 1),
  ]),
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
console.log(`FileStorage, ${seconds} s per row, temp dir under ${tmpdir()}, Node ${process.version}, one 256-byte entry per save`);
for (const [i, row] of table.entries()) {
  console.log(row.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
