/**
 * One nemesis run, end to end: build the test server, start the cluster
 * behind its link proxies, run the workload and the fault schedule for
 * `timeSec`, heal everything, wait for the cluster to converge, read every key
 * back through every voter, compare the nodes' states, check the history for
 * linearizability, and write the results folder:
 *
 *   <resultsRoot>/seed-<seed>/report.html   self-contained report
 *                             summary.json  figures and anomalies
 *                             history.jsonl every operation
 *                             schedule.json the fault schedule (a function of the seed)
 *                             nemesis.log   the timestamped fault log and progress
 *                             n1.log ...    each node's output
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { checkKvLinearizability } from '../../src/testing/linearizability.js';
import { Cluster } from './cluster.js';
import { Nemesis } from './nemesis.js';
import { type NodeDump } from './protocol.js';
import { computeStats, explainFailure, formatTable, type Anomaly, type CheckerCost, type RunStats } from './report.js';
import { writeResults, type RunSummary } from './results.js';
import { buildSchedule, formatScheduledFault, type FaultGroup } from './schedule.js';
import { Workload } from './workload.js';

export interface NemesisOptions {
  seed: number;
  timeSec: number;
  nodes: number;
  faults: FaultGroup[];
  leaseReads: boolean;
  /** The planted bug: reads skip readBarrier(). */
  unsafeLocalReads: boolean;
  rate: number;
  clients: number;
  timeoutMs: number;
  snapshotThreshold: number;
  /** The nodes' heartbeatFrequency (ms). */
  heartbeatMs: number;
  /** The nodes' heartbeatTimeout and electionTimeout (ms). */
  electionTimeoutMs: number;
  resultsRoot: string;
  /** Keep the nodes' data directories. */
  keepData: boolean;
  /** Keep them when the run found an anomaly (default true; the planted-bug test turns it off). */
  keepDataOnAnomaly?: boolean;
  /** Live progress every this many ms. */
  progressEveryMs: number;
  log: (line: string) => void;
  /** The command line that repeats this run, for the report. */
  command: string;
  /** Aborting kills the cluster at once (the run then rejects). */
  signal?: AbortSignal;
}

export interface NemesisReport {
  seed: number;
  ok: boolean;
  anomalies: Anomaly[];
  stats: RunStats;
  checker: CheckerCost;
  resultsDir: string;
  table: string;
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULT_RESULTS_ROOT = join(REPO, 'tmp', 'nemesis');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runNemesis(options: NemesisOptions): Promise<NemesisReport> {
  const resultsDir = join(options.resultsRoot, `seed-${options.seed}`);
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  const workdir = mkdtempSync(join(tmpdir(), 'webraft-nemesis-'));
  const logLines: string[] = [];
  let t0 = performance.now();
  const now = () => performance.now() - t0;
  const log = (line: string) => {
    const stamped = `[${(now() / 1000).toFixed(3).padStart(9)}s] ${line}`;
    logLines.push(stamped);
    options.log(stamped);
  };

  const script = join(workdir, 'server.mjs');
  await build({ entryPoints: [fileURLToPath(new URL('./server.ts', import.meta.url))], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: script, logLevel: 'silent', tsconfig: join(REPO, 'tsconfig.json') });

  const membership = options.faults.includes('membership');
  const slots = options.nodes + (membership ? 1 : 0);
  const schedule = buildSchedule({ seed: options.seed, durationMs: options.timeSec * 1000, groups: options.faults, slots, leaseReads: options.leaseReads });
  writeFileSync(join(resultsDir, 'schedule.json'), JSON.stringify(schedule, null, 1));
  const names = Array.from({ length: slots }, (_, i) => `n${i + 1}`);
  log(`seed ${options.seed}: ${options.nodes} nodes${membership ? ' + 1 spare' : ''}, ${options.timeSec}s, faults ${options.faults.join(',') || 'none'}, lease reads ${options.leaseReads ? 'on' : 'off'}, heartbeat ${options.heartbeatMs} ms, election timeout ${options.electionTimeoutMs} ms${options.unsafeLocalReads ? ', PLANTED BUG: reads skip readBarrier()' : ''}`);
  log(`schedule (${schedule.faults.length} faults):`);
  for (const fault of schedule.faults) log(`  ${formatScheduledFault(fault, names)}`);

  const cluster = await Cluster.create({
    nodes: options.nodes, spare: membership, workdir, resultsDir, script,
    leaseReads: options.leaseReads, unsafeLocalReads: options.unsafeLocalReads, snapshotThreshold: options.snapshotThreshold,
    heartbeatMs: options.heartbeatMs, electionTimeoutMs: options.electionTimeoutMs,
    now, log,
  });
  options.signal?.addEventListener('abort', () => void cluster.stopAll());
  const anomalies: Anomaly[] = [];
  let workload: Workload | null = null;
  let durationMs = 0;
  try {
    await Promise.all(Array.from({ length: options.nodes }, (_, i) => cluster.start(i)));
    cluster.startPolling();
    const electedBy = performance.now() + 30_000;
    while (cluster.leader === null && performance.now() < electedBy) await sleep(100);
    if (cluster.leader === null) throw new Error('no leader elected within 30 s of the start');
    t0 = performance.now();
    cluster.leaderChanges.length = 0;
    cluster.leaderTimeline.length = 0;
    log(`cluster up: ${cluster.slots.map((s) => `${s.name}=${s.address}`).join(' ')}; leader ${cluster.leader}; results in ${resultsDir}`);

    workload = new Workload(cluster, { clients: options.clients, rate: options.rate, timeoutMs: options.timeoutMs, seed: options.seed ^ 0x5eed, activeKeys: Math.max(4, options.clients), opsPerKey: 200 }, now);
    const nemesis = new Nemesis(cluster, schedule.faults, log, now);
    workload.start();
    nemesis.start();
    const progress = startProgress(workload, cluster, nemesis, log, options.progressEveryMs, now);
    await sleep(options.timeSec * 1000);

    log('final heal');
    await nemesis.healAll();
    await sleep(3000); // recovery under load, still recorded
    await workload.stop();
    clearInterval(progress);
    durationMs = now();
    for (const problem of nemesis.problems) anomalies.push({ kind: 'membership', summary: problem, details: [] });
    // Every voter must run for the checks below (a restart that failed during the run gets one more try).
    for (const name of cluster.voters) {
      const i = cluster.indexOf(name);
      if (i < 0 || cluster.processes[i].state !== 'down') continue;
      log(`${name} is a voter but not running after the heal: starting it`);
      await cluster.start(i).catch((error: unknown) => anomalies.push({ kind: 'not-converged', summary: `voter ${name} cannot be started after the heal: ${String(error)}`, details: [] }));
    }

    const converged = await waitForConvergence(cluster, 60_000);
    if (!converged.ok) anomalies.push({ kind: 'not-converged', summary: converged.reason, details: [] });
    log(`final reads of ${workload.keys.length} keys through ${cluster.runningVoters().map((i) => cluster.slots[i].name).join(' ')}`);
    await workload.finalReads();
    const divergence = await compareStates(cluster);
    if (divergence) anomalies.push(divergence);

    for (const exit of cluster.unexpectedExits) anomalies.push({ kind: 'node-exit', summary: exit, details: [] });
    const { records } = nemesis;
    return await finish({ options, resultsDir, workdir, cluster, workload, records, anomalies, logLines, log, durationMs });
  } finally {
    await cluster.stopAll();
  }
}

interface FinishInput {
  options: NemesisOptions;
  resultsDir: string;
  workdir: string;
  cluster: Cluster;
  workload: Workload;
  records: Nemesis['records'];
  anomalies: Anomaly[];
  logLines: string[];
  log: (line: string) => void;
  durationMs: number;
}

async function finish(input: FinishInput): Promise<NemesisReport> {
  const { options, resultsDir, cluster, workload, records, anomalies, log } = input;
  const ops = workload.history.ops;
  log(`checking ${ops.length} operations for linearizability`);
  const { operations, map } = workload.history.forChecker();
  const started = performance.now();
  const result = checkKvLinearizability(operations);
  const checker: CheckerCost = { keys: result.stats.keys, operations: operations.length, steps: result.stats.steps, ms: performance.now() - started };
  for (const failure of result.failures) {
    anomalies.push(explainFailure(failure.key, {
      operations: failure.operations.map((i) => map[i]),
      linearized: failure.lastLinearized.map((i) => map[i]),
      linearizedCount: failure.linearizedCount,
      valueBefore: failure.valueBefore,
      stuck: map[failure.stuck],
      pending: failure.pending.map((i) => map[i]),
    }));
  }
  for (const key of result.undecidedKeys) anomalies.push({ kind: 'undecided', summary: `key ${key}: the search hit its step budget (neither proven nor refuted)`, details: [] });

  const stats = computeStats(ops, records, cluster.leaderChanges, input.durationMs);
  const table = formatTable(stats, checker, anomalies);
  const ok = anomalies.length === 0;
  const settings: [string, string][] = [
    ['nodes', String(options.nodes)], ['time', `${options.timeSec}s`], ['faults', options.faults.join(', ') || 'none'],
    ['lease reads', options.leaseReads ? 'on' : 'off'], ['clients', String(options.clients)], ['target rate', `${options.rate}/s`],
    ['heartbeat / election timeout', `${options.heartbeatMs} / ${options.electionTimeoutMs} ms`],
  ];
  if (options.unsafeLocalReads) settings.push(['planted bug', 'reads skip readBarrier()']);
  log(`report: ${join(resultsDir, 'report.html')}`);
  const summary: RunSummary = {
    seed: options.seed, ok, command: options.command, settings, nodes: cluster.slots.map((s) => s.name), stats, checker, anomalies,
    faults: records, leaderChanges: cluster.leaderChanges, leaderTimeline: cluster.leaderTimeline,
  };
  writeResults(resultsDir, summary, ops, input.logLines);
  if (!options.keepData && (ok || options.keepDataOnAnomaly === false)) rmSync(input.workdir, { recursive: true, force: true });
  else options.log(`node data directories kept in ${input.workdir}`);
  return { seed: options.seed, ok, anomalies, stats, checker, resultsDir, table };
}

function startProgress(workload: Workload, cluster: Cluster, nemesis: Nemesis, log: (line: string) => void, everyMs: number, now: () => number): ReturnType<typeof setInterval> {
  let seen = 0;
  let last = now();
  return setInterval(() => {
    const ops = workload.history.ops;
    const t = now();
    let ok = 0;
    let info = 0;
    let fail = 0;
    for (let i = seen; i < ops.length; i++) {
      if (ops[i].outcome === 'ok') ok++;
      else if (ops[i].outcome === 'info') info++;
      else fail++;
    }
    seen = ops.length;
    const rate = (ok + info + fail) / ((t - last) / 1000);
    last = t;
    const term = cluster.leaderChanges.at(-1)?.term;
    log(`${rate.toFixed(0).padStart(4)} ops/s (ok ${ok}, info ${info}, fail ${fail}) | leader ${cluster.leader ?? 'none'}${cluster.leader && term ? ` t${term}` : ''} | voters ${cluster.voters.join(' ')} | faults: ${nemesis.current()}`);
  }, everyMs);
}

/** Waits until a leader is known and every running voter has applied the leader's commit index. */
async function waitForConvergence(cluster: Cluster, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    const voters = cluster.runningVoters();
    const statuses = await Promise.all(voters.map((i) => cluster.request(i, { type: 'status' }, 1000)));
    const views = statuses.map((o) => (o.kind === 'ok' ? o.response.status : undefined));
    const leader = views.find((s) => s?.state === 'leader');
    last = views.map((s, k) => `${cluster.slots[voters[k]].name}: ${s ? `${s.state} t${s.term} commit ${s.commitIndex} applied ${s.lastApplied}` : 'no answer'}`).join('; ');
    if (leader && views.every((s) => s && s.lastApplied === leader.commitIndex && s.term === leader.term)) return { ok: true };
    await sleep(250);
  }
  return { ok: false, reason: `not converged ${timeoutMs / 1000}s after the final heal: ${last}` };
}

/** Every running voter's state machine, once all have applied the same index, must be identical. */
async function compareStates(cluster: Cluster): Promise<Anomaly | null> {
  const deadline = performance.now() + 30_000;
  let dumps: { name: string; dump: NodeDump }[] = [];
  while (performance.now() < deadline) {
    const voters = cluster.runningVoters();
    const outcomes = await Promise.all(voters.map((i) => cluster.request(i, { type: 'dump' }, 5000)));
    dumps = outcomes.flatMap((o, k) => (o.kind === 'ok' && o.response.dump ? [{ name: cluster.slots[voters[k]].name, dump: o.response.dump }] : []));
    if (dumps.length === voters.length && dumps.every((d) => d.dump.lastApplied === dumps[0].dump.lastApplied)) break;
    await sleep(250);
  }
  if (dumps.length === 0) return { kind: 'divergence', summary: 'no node answered the final state dump', details: [] };
  const reference = JSON.stringify(dumps[0].dump.entries);
  const differing = dumps.filter((d) => JSON.stringify(d.dump.entries) !== reference || d.dump.lastApplied !== dumps[0].dump.lastApplied);
  if (differing.length === 0) return null;
  const details = dumps.map((d) => `${d.name}: applied ${d.dump.lastApplied}, ${d.dump.entries.length} keys`);
  const a = new Map(dumps[0].dump.entries);
  for (const d of differing) {
    const b = new Map(d.dump.entries);
    const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).slice(0, 10);
    for (const k of keys) details.push(`${k}: ${dumps[0].name} has ${JSON.stringify(a.get(k) ?? null)}, ${d.name} has ${JSON.stringify(b.get(k) ?? null)}`);
  }
  return { kind: 'divergence', summary: `the nodes' final states differ (${differing.map((d) => d.name).join(', ')} vs ${dumps[0].name})`, details };
}
