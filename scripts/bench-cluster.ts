/**
 * Cluster benchmark (npm run bench:cluster): 3 nodes in one process through the
 * public subclass API over an in-memory transport that JSON round-trips every
 * payload and delivers it with setImmediate. 256-byte commands, proposed on the
 * leader with 1, 64 and 1024 proposals in flight. Prints commits/s and commit
 * latency percentiles beside the floor: the same number of JSON stringify+parse
 * calls with no consensus, and that floor again with the parsed payloads kept
 * alive the way a log keeps its entries. Figures, not a test.
 *
 * A setting written `1024+apply` runs the same load with a state machine, as
 * real applications have one: an `apply` listener (a counter, calling `cb`),
 * `createSnapshot()` and `snapshotThreshold` 8192, so every command is also
 * handed to the application as its own copy and the log is compacted. The
 * plain settings have no `apply` listener (entries count as applied at once).
 *
 * Each setting runs BENCH_ROUNDS times (default 3, interleaved) for BENCH_MS
 * each (default 3000); the median round is reported with the range, because a
 * shared 2-core machine varies by tens of percent from one run to the next.
 * Each round's rate is printed as it ends. Before its measured window, every
 * round runs the same load for BENCH_WARMUP_MS (default 1000) unmeasured, so
 * the figures are the steady state: a fresh cluster spends its first few
 * hundred milliseconds in unoptimized code at about half the rate. Only
 * proposals started inside the window count, and the window lasts until the
 * last of them commits.
 * BENCH_INFLIGHT=64,1024+apply picks the settings (default 1,64,1024,1024+apply).
 *
 * The floor needs the text of every payload a cluster carried, and keeping
 * those texts alive during a measured window costs that window 5-10% (the
 * garbage collector copies and marks them too). So each round is two runs of
 * the same setting and length on fresh clusters: the measured run, which
 * records nothing, and a floor run, whose payload texts are recorded and then
 * replayed through JSON.parse + JSON.stringify with no consensus.
 */
import { MemoryNetwork } from '../src/testing/memory-network.js';
import { BenchRaft, command, COMMAND_BYTES, SNAPSHOT_THRESHOLD, waitForLeader } from './bench-load.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const WARMUP_MS = Math.max(0, Number(process.env.BENCH_WARMUP_MS ?? 1000));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A MemoryNetwork that counts the payloads it carries while `inWindow`, and with `recordTexts` keeps their texts. */
class RecordingNetwork extends MemoryNetwork {
  inWindow = false;
  windowPayloads = 0;
  constructor(private readonly recordTexts: boolean) {
    super('immediate');
  }
  readonly texts: string[] = [];
  override deliver(from: string, to: string, text: string): void {
    if (this.inWindow) {
      this.windowPayloads++;
      if (this.recordTexts) this.texts.push(text);
    }
    super.deliver(from, to, text);
  }
}

/** One bench setting: proposals kept in flight, and whether the nodes run a state machine. */
interface Setting {
  label: string;
  inFlight: number;
  stateMachine: boolean;
}

function parseSetting(text: string): Setting {
  const match = /^(\d+)(\+apply)?$/.exec(text.trim());
  if (!match || Number(match[1]) < 1) throw new Error(`BENCH_INFLIGHT: "${text}" is not a count such as 64 or 1024+apply`);
  return { label: text.trim(), inFlight: Number(match[1]), stateMachine: match[2] !== undefined };
}

async function runCluster(
  { inFlight, stateMachine }: Setting,
  durationMs: number,
  recordTexts: boolean,
): Promise<{ commits: number; seconds: number; latencies: number[]; payloads: number; texts: string[] }> {
  const network = new RecordingNetwork(recordTexts);
  const peers = ['a', 'b', 'c'];
  const nodes = peers.map((id) => new BenchRaft(id, network, { peers }, stateMachine));
  const leader = await waitForLeader(nodes);
  const latencies: number[] = [];
  let commits = 0;
  let next = 0;
  // The load runs without a break from the warm-up into the measured window.
  const windowStart = performance.now() + WARMUP_MS;
  const deadline = windowStart + durationMs;
  async function worker(): Promise<void> {
    // One clock read per commit: a proposal's end is the next one's start (nothing runs between them).
    let t0 = performance.now();
    for (;;) {
      if (t0 >= deadline) return;
      const measured = t0 >= windowStart;
      if (measured) network.inWindow = true;
      await leader.propose(command(next++));
      const t1 = performance.now();
      if (measured) {
        latencies.push(t1 - t0);
        commits++;
      }
      t0 = t1;
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - windowStart) / 1000;
  network.inWindow = false;
  const payloads = network.windowPayloads;
  // Every proposal made (warm-up included) was awaited, so the leader applied each one.
  if (stateMachine && next >= SNAPSHOT_THRESHOLD && (leader.status().snapshotIndex === 0 || leader.applied !== next)) {
    throw new Error(`+apply setting did not run its state machine: snapshotIndex ${leader.status().snapshotIndex}, applied ${leader.applied} of ${next}`);
  }
  for (const node of nodes) node.end();
  return { commits, seconds, latencies: latencies.sort((a, b) => a - b), payloads, texts: network.texts };
}

/**
 * The floor: the same JSON work with no consensus. Every payload the cluster
 * carried in the window is parsed from its text and stringified again (one
 * JSON.parse and one JSON.stringify per payload, as the transport did); the
 * floor is the commit rate if that were all a commit cost.
 */
function floor(texts: string[], commits: number, keepParsed: boolean): number {
  const kept: unknown[] = [];
  const t0 = performance.now();
  let sink = 0;
  for (const text of texts) {
    const parsed: unknown = JSON.parse(text);
    if (keepParsed) kept.push(parsed);
    sink += JSON.stringify(parsed).length;
  }
  const seconds = (performance.now() - t0) / 1000;
  if (sink < 0 || kept.length < 0) console.log(sink);
  return commits / Math.max(seconds, 1e-9);
}

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const SETTINGS = (process.env.BENCH_INFLIGHT ?? '1,64,1024,1024+apply').split(',').map(parseSetting);

interface Round {
  commits: number;
  rate: number;
  latencies: number[];
  payloads: number;
  floor: number;
  floorKept: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

// Rounds are interleaved across the in-flight settings so a slow phase of the
// machine does not land on one setting only; each round is a fresh cluster.
const rounds = new Map<Setting, Round[]>(SETTINGS.map((setting) => [setting, []]));
for (let round = 1; round <= ROUNDS; round++) {
  for (const setting of SETTINGS) {
    // Start each round on a clean heap, not paying for the previous cluster's garbage (npm run passes --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    process.stderr.write(`round ${round}/${ROUNDS}: ${setting.label} in flight for ${DURATION_MS} ms... `);
    const { commits, seconds, latencies, payloads } = await runCluster(setting, DURATION_MS, false);
    process.stderr.write(`${fmt(commits / seconds)} commits/s; floor run... `);
    (globalThis as { gc?: () => void }).gc?.();
    const recorded = await runCluster(setting, DURATION_MS, true);
    const floorRate = floor(recorded.texts, recorded.commits, false);
    const floorKeptRate = floor(recorded.texts, recorded.commits, true);
    process.stderr.write(`floor ${fmt(floorRate)} commits/s\n`);
    rounds.get(setting)?.push({ commits, rate: commits / seconds, latencies, payloads, floor: floorRate, floorKept: floorKeptRate });
  }
}

const rows: string[][] = [['in flight', 'commits', 'commits/s (median)', 'range', 'p50 ms', 'p99 ms', 'payloads/commit', 'floor commits/s', 'floor, parsed kept']];
for (const setting of SETTINGS) {
  const done = rounds.get(setting) ?? [];
  const rates = done.map((r) => r.rate);
  const commits = done.reduce((sum, r) => sum + r.commits, 0);
  const latencies = done.flatMap((r) => r.latencies).sort((a, b) => a - b);
  rows.push([
    setting.label,
    String(commits),
    fmt(median(rates)),
    `${fmt(Math.min(...rates))}-${fmt(Math.max(...rates))}`,
    percentile(latencies, 50).toFixed(3),
    percentile(latencies, 99).toFixed(3),
    (done.reduce((sum, r) => sum + r.payloads, 0) / commits).toFixed(2),
    fmt(median(done.map((r) => r.floor))),
    fmt(median(done.map((r) => r.floorKept))),
  ]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
console.log(
  `\nwebraft cluster benchmark: 3 nodes, ${COMMAND_BYTES}-byte commands, JSON round trip + setImmediate delivery, ${ROUNDS} rounds of ${DURATION_MS} ms per setting (each after ${WARMUP_MS} ms of the same load, unmeasured), node ${process.version}`,
);
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
console.log(`+apply = with a state machine: an apply listener (own copy of each command) and snapshots every ${SNAPSHOT_THRESHOLD} entries`);
console.log('commits/s = median over the rounds (range = slowest-fastest round); latencies pooled over all rounds');
console.log('floor = commits/s if a commit cost only its share of the JSON.parse + JSON.stringify of the payloads actually carried (no consensus), replayed from a recorded run of the same setting');
console.log('floor, parsed kept = the same, keeping every parsed payload alive as a log keeps its entries (adds the garbage collector\'s cost of retained data)');
