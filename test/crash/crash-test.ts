/**
 * Crash test engine: a real N-process WebRaft key-value cluster on 127.0.0.1
 * (examples/kv-demo/node.ts over TCP, FileStorage in its own data directory,
 * a low snapshotThreshold so snapshots and log compaction happen all the
 * time) under a steady write load, with one node SIGKILLed at a random moment
 * and restarted on its data directory, over and over. At the end every node
 * must hold every acknowledged write exactly once, with its value, in an order
 * consistent with when the writes were acknowledged.
 *
 * Used by `npm run test:crash` (test/crash/cli.ts) and by the bounded run in
 * `npm test` (test/crash/crash.test.ts). See docs/crash-test.md.
 *
 * Write outcomes:
 * - acknowledged: HTTP 200 from PUT /kv/:key. Must be on every node.
 * - refused: the connection was refused, so the request never reached a node.
 *   Must be on no node (a "phantom" otherwise).
 * - indeterminate: anything else (timeout, reset, 503 of any code). May or may
 *   not be on the nodes, but if it is, it is checked like an acknowledged one
 *   (value, once, order).
 *
 * Keys are unique per write, so "exactly once" means: present, and never applied
 * a second time. The nodes run with `--debug`, which makes their state machine
 * count any re-application of a `set` under `__dup__/<key>` and adds `GET /kv`,
 * a dump of the local state in first-application order (a JS Map keeps
 * insertion order, and so does the snapshot's JSON object for non-numeric keys).
 *
 * Randomness is seeded (mulberry32). The kill schedule (victims, delays,
 * bursts) comes from one stream and the load from another, so a seed repeats
 * the same schedule; the interleaving with real processes still varies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../../src/testing/seeded-random.js';

// ------------------------------------------------------------------ options and report

export interface CrashTestOptions {
  /** Number of SIGKILLs. */
  kills: number;
  /** Seed of the random schedule (default: random). */
  seed?: number;
  /** Cluster size (default 3). */
  nodes?: number;
  /** snapshotThreshold given to every node (default 50). */
  snapshotThreshold?: number;
  /** Concurrent sequential writers (default 4). */
  writers?: number;
  /** Pause of a writer between two writes, ms, uniform in [0, max] (default 30). */
  writerPauseMs?: number;
  /** Probability that a kill hits the leader (default 1/3). */
  leaderKillProbability?: number;
  /** Probability that a kill follows a burst of concurrent writes (default 1/3). */
  burstProbability?: number;
  /** Longest quiet time before a kill, ms (default 400). */
  maxPreKillMs?: number;
  /** Longest time a killed node stays down, ms (default 500). */
  maxDownMs?: number;
  /** A kill after which the whole cluster is not back (all nodes up, one leader) within this is a failure (default 20 000). */
  recoveryTimeoutMs?: number;
  /** Also read every acknowledged key through every node with a linearizable GET (default true). */
  linearizableReads?: boolean;
  /** Progress line every this many kills (default: about 20 lines per run). */
  progressEvery?: number;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
  /** Keep the temp dir (node logs and data) even on success. */
  keep?: boolean;
  /**
   * Checker self-test: tamper with the last node's state dump before it is
   * checked (drop one acknowledged key, mark another as applied twice); the
   * run must then report a loss and a duplicate.
   */
  sabotage?: boolean;
}

export interface CrashTestReport {
  seed: number;
  ok: boolean;
  failures: string[];
  kills: number;
  leaderKills: number;
  burstKills: number;
  /** Kills that left a snapshot or segment temp file behind (interrupted a rewrite). */
  killedMidRewrite: number;
  /** Kills after a new segment's rename but before the old generation was deleted. */
  killedMidCleanup: number;
  /** FileStorage repairs logged by restarted nodes (torn tails truncated, stale files removed). */
  storageRepairs: { tornTails: number; other: number };
  /** "restored snapshot" lines in node logs (a restart from a snapshot, or an InstallSnapshot). */
  snapshotRestores: number;
  writes: { issued: number; acknowledged: number; indeterminate: number; refused: number; indeterminateLanded: number };
  /** Indeterminate writes by cause (HTTP status and error code, or the client error). */
  indeterminateCauses: Record<string, number>;
  lost: number;
  duplicated: number;
  phantoms: number;
  misordered: number;
  divergentNodes: number;
  /** kill -> a leader that a majority of nodes follows (ms). */
  leaderRecovery: { max: number; p50: number; p99: number };
  /** The same, for the kills of the leader only (an election). */
  newLeaderRecovery: { max: number; p50: number; p99: number };
  /** kill -> every node up again and following one leader (ms). */
  fullRecovery: { max: number; p50: number; p99: number };
  notRecovered: number;
  finalCommitIndex: number;
  snapshotIndex: number[];
  linearizableReads: number;
  elapsedMs: number;
  workdir: string;
  reproCommand: string;
}

// ------------------------------------------------------------------ helpers

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NODE_SCRIPT = fileURLToPath(new URL('../../examples/kv-demo/node.ts', import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();

const prng = mulberry32;

function quantiles(values: number[]): { max: number; p50: number; p99: number } {
  if (values.length === 0) return { max: 0, p50: 0, p99: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { max: sorted[sorted.length - 1], p50: at(0.5), p99: at(0.99) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

interface Node {
  name: string;
  id: string;
  http: number;
  data: string;
  log: string;
  child: ChildProcess | null;
  /** Resolves when the current child exits. */
  exited: Promise<void> | null;
  /** Set while we are killing it (an exit is expected). */
  killing: boolean;
  restarts: number;
}

type Status = {
  address: string;
  state: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  lastApplied: number;
  snapshotIndex: number;
  firstIndex: number;
  lastIndex: number;
  pid: number;
};

type Outcome = 'pending' | 'acked' | 'indeterminate' | 'refused';

interface Write {
  key: string;
  value: string;
  /** Writer number, or -1 for a burst write. */
  writer: number;
  /** Logical clock when issued and when acknowledged (one counter for both). */
  issuedAt: number;
  ackedAt: number;
  outcome: Outcome;
  detail?: string;
}

// ------------------------------------------------------------------ the run

export async function runCrashTest(options: CrashTestOptions): Promise<CrashTestReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const N = options.nodes ?? 3;
  const threshold = options.snapshotThreshold ?? 50;
  const WRITERS = options.writers ?? 4;
  const writerPause = options.writerPauseMs ?? 30;
  const pLeader = options.leaderKillProbability ?? 1 / 3;
  const pBurst = options.burstProbability ?? 1 / 3;
  const maxPreKill = options.maxPreKillMs ?? 400;
  const maxDown = options.maxDownMs ?? 500;
  const recoveryTimeout = options.recoveryTimeoutMs ?? 20_000;
  const progressEvery = options.progressEvery ?? Math.max(1, Math.round(options.kills / 20));
  const out = options.log ?? ((line: string) => console.log(line));
  const reproCommand = `npm run test:crash -- --seed ${seed} --kills ${options.kills} --nodes ${N}`;

  const t0 = now();
  const elapsed = () => `${((now() - t0) / 1000).toFixed(1)}s`;
  const rngKill = prng(seed);
  const rngLoad = prng(seed ^ 0x5bd1e995);
  const failures: string[] = [];
  const fail = (message: string) => {
    failures.push(message);
    out(`FAIL: ${message}`);
  };

  const workdir = mkdtempSync(join(tmpdir(), 'webraft-crash-'));
  const nodes: Node[] = [];
  for (let i = 0; i < N; i++) {
    const name = `n${i + 1}`;
    nodes.push({
      name,
      id: `127.0.0.1:${await freePort()}`,
      http: await freePort(),
      data: join(workdir, name),
      log: join(workdir, `${name}.log`),
      child: null,
      exited: null,
      killing: false,
      restarts: 0,
    });
  }
  const peers = nodes.map((n) => n.id).join(',');

  // ---- processes

  function start(node: Node): void {
    const fd = openSync(node.log, 'a');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', NODE_SCRIPT, '--id', node.id, '--peers', peers, '--http', String(node.http), '--data', node.data,
        '--snapshot-threshold', String(threshold), '--debug'],
      { cwd: REPO, stdio: ['ignore', fd, fd], env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.json') } },
    );
    closeSync(fd);
    node.child = child;
    node.killing = false;
    node.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        if (node.child === child) node.child = null;
        if (!node.killing && !stopping) {
          fail(`${node.name} exited on its own (code ${code}, signal ${signal}); log tail:\n${tail(node.log, 15)}`);
        }
        resolve();
      });
    });
  }

  async function kill(node: Node): Promise<void> {
    const child = node.child;
    if (!child) return;
    node.killing = true;
    child.kill('SIGKILL');
    await node.exited;
  }

  let stopping = false;
  async function stopAll(): Promise<void> {
    stopping = true;
    process.off('exit', killAllNow);
    await Promise.all(nodes.map((n) => kill(n)));
  }
  // If this process exits mid-run (Ctrl-C, a test runner tearing down), take the nodes with it.
  function killAllNow(): void {
    stopping = true;
    for (const n of nodes) n.child?.kill('SIGKILL');
  }
  process.on('exit', killAllNow);

  function tail(path: string, lines: number): string {
    try {
      return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `    ${l}`).join('\n');
    } catch {
      return '    (no log)';
    }
  }

  // ---- HTTP

  type Reply = { status: number; json: any };
  class RequestError extends Error {
    constructor(readonly refused: boolean, message: string) {
      super(message);
    }
  }

  async function api(node: Node, method: string, path: string, body?: string, timeoutMs = 5000): Promise<Reply> {
    let response: Response;
    try {
      response = await fetch(`http://127.0.0.1:${node.http}${path}`, { method, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      throw new RequestError(code === 'ECONNREFUSED', code ?? (error as Error).name);
    }
    let json: any = null;
    try {
      json = await response.json();
    } catch {
      throw new RequestError(false, `HTTP ${response.status}, body unreadable`);
    }
    return { status: response.status, json };
  }

  async function status(node: Node): Promise<Status | null> {
    if (!node.child) return null;
    try {
      const reply = await api(node, 'GET', '/status', undefined, 1000);
      return reply.status === 200 ? (reply.json as Status) : null;
    } catch {
      return null;
    }
  }

  /** The leader that at least `quorum` nodes (itself included) follow, or null. */
  function agreedLeader(statuses: (Status | null)[], quorum: number): number {
    const index = statuses.findIndex((s) => s?.state === 'leader');
    if (index < 0) return -1;
    const address = statuses[index]!.address;
    const followers = statuses.filter((s) => s && s.leader === address).length;
    return followers >= quorum ? index : -1;
  }

  // ---- load

  const writes: Write[] = [];
  let clock = 0;
  let loadStopped = false;
  const running = () => nodes.filter((n) => n.child && !n.killing);

  async function put(w: Write): Promise<void> {
    const up = running();
    const target = up.length > 0 ? up[Math.floor(rngLoad() * up.length)] : nodes[0];
    w.issuedAt = ++clock;
    try {
      const reply = await api(target, 'PUT', `/kv/${encodeURIComponent(w.key)}`, w.value);
      if (reply.status === 200) {
        w.outcome = 'acked';
        w.ackedAt = ++clock;
      } else {
        w.outcome = 'indeterminate';
        w.detail = `${reply.status} ${reply.json?.code ?? ''}`;
      }
    } catch (error) {
      w.outcome = (error as RequestError).refused ? 'refused' : 'indeterminate';
      w.detail = (error as Error).message;
    }
  }

  function newWrite(writer: number, key: string): Write {
    const w: Write = { key, value: `${key}@${Math.floor(rngLoad() * 36 ** 6).toString(36)}`, writer, issuedAt: 0, ackedAt: 0, outcome: 'pending' };
    writes.push(w);
    return w;
  }

  async function writer(k: number): Promise<void> {
    for (let seq = 1; !loadStopped; seq++) {
      await put(newWrite(k, `w${k}-${seq}`));
      await sleep(rngLoad() * writerPause);
    }
  }

  let burstCount = 0;
  const bursts: Promise<unknown>[] = [];
  function burst(size: number): Promise<unknown> {
    const b = ++burstCount;
    const p = Promise.all(Array.from({ length: size }, (_, i) => put(newWrite(-1, `b${b}-${i + 1}`))));
    bursts.push(p);
    return p;
  }

  // ---- recovery

  const leaderRecovery: number[] = [];
  const newLeaderRecovery: number[] = [];
  const fullRecovery: number[] = [];
  let notRecovered = 0;

  /** Polls until every node is up and all follow one leader; resolves with that time, or null after the timeout. */
  async function waitRecovered(since: number, timeoutMs: number): Promise<number | null> {
    const deadline = since + timeoutMs;
    while (now() < deadline) {
      const statuses = await Promise.all(nodes.map(status));
      if (statuses.every((s) => s !== null) && agreedLeader(statuses, N) >= 0) return now();
      await sleep(20);
    }
    return null;
  }

  /** Polls (from the kill on, while the victim is down and restarting) until a majority follows a leader; resolves with that time. */
  async function waitLeader(since: number, timeoutMs: number): Promise<number | null> {
    const deadline = since + timeoutMs;
    while (now() < deadline) {
      const statuses = await Promise.all(nodes.map(status));
      if (agreedLeader(statuses, Math.floor(N / 2) + 1) >= 0) return now();
      await sleep(10);
    }
    return null;
  }

  // ---- main

  let leaderKills = 0;
  let burstKills = 0;
  let killedMidRewrite = 0;
  let killedMidCleanup = 0;
  let kills = 0;
  const writerLoops: Promise<void>[] = [];
  const finish = async (): Promise<void> => {
    loadStopped = true;
    await Promise.all(writerLoops);
    await Promise.all(bursts);
  };

  out(`crash test: seed ${seed}, ${N} nodes, ${options.kills} kills, snapshotThreshold ${threshold}, ${WRITERS} writers (data and logs in ${workdir})`);
  let report: CrashTestReport | undefined;
  try {
    for (const n of nodes) start(n);
    if ((await waitRecovered(now(), 30_000)) === null) throw new Error('the cluster elected no leader within 30 s of starting');
    out(`cluster up in ${elapsed()}`);
    for (let k = 1; k <= WRITERS; k++) writerLoops.push(writer(k));

    while (kills < options.kills && failures.length === 0) {
      await sleep(rngKill() * maxPreKill);
      let burstHere = false;
      let burstDone: Promise<unknown> | undefined;
      if (rngKill() < pBurst) {
        burstHere = true;
        burstDone = burst(40 + Math.floor(rngKill() * 120));
        // Kill while the burst is being committed, snapshotted and compacted:
        // sometimes almost at once, sometimes once it is done.
        const wait = rngKill();
        if (wait < 0.5) await sleep(rngKill() * 60);
        else if (wait < 0.8) await Promise.race([burstDone, sleep(3000)]);
        else await sleep(60 + rngKill() * 300);
      }
      const statuses = await Promise.all(nodes.map(status));
      const leaderIndex = statuses.findIndex((s) => s?.state === 'leader');
      let victim: Node;
      const hitLeader = leaderIndex >= 0 && rngKill() < pLeader;
      if (hitLeader) victim = nodes[leaderIndex];
      else {
        const others = nodes.filter((_, i) => i !== leaderIndex);
        victim = others[Math.floor(rngKill() * others.length)];
      }
      const downMs = rngKill() < 0.2 ? 0 : rngKill() * maxDown;
      const killedAt = now();
      await kill(victim);
      const leaderBack = waitLeader(killedAt, recoveryTimeout);
      kills++;
      // What the kill interrupted: a temp file means a snapshot or segment was
      // being written; two segments, that the old generation was not yet deleted.
      try {
        const files = readdirSync(victim.data);
        if (files.some((f) => f.endsWith('.tmp'))) killedMidRewrite++;
        else if (files.filter((f) => f.startsWith('wal-')).length > 1 || files.filter((f) => f.startsWith('snap-')).length > 1) killedMidCleanup++;
      } catch {
        // no data dir yet
      }
      if (hitLeader) leaderKills++;
      if (burstHere) burstKills++;
      await sleep(downMs);
      victim.restarts++;
      start(victim);
      const fullAt = await waitRecovered(killedAt, recoveryTimeout);
      const leaderAt = await leaderBack;
      if (fullAt === null || leaderAt === null) {
        notRecovered++;
        const states = (await Promise.all(nodes.map(status))).map((s, i) => `${nodes[i].name}: ${s ? `${s.state} term ${s.term} leader ${s.leader} commit ${s.commitIndex} applied ${s.lastApplied}` : 'down/unresponsive'}`);
        fail(`kill ${kills} (${victim.name}${hitLeader ? ', the leader' : ''}): the cluster did not recover within ${recoveryTimeout} ms\n    ${states.join('\n    ')}`);
        break;
      }
      leaderRecovery.push(leaderAt - killedAt);
      if (hitLeader) newLeaderRecovery.push(leaderAt - killedAt);
      fullRecovery.push(fullAt - killedAt);
      if (kills % progressEvery === 0 || kills === options.kills) {
        const c = count();
        out(`  kill ${kills}/${options.kills} (${leaderKills} leaders) at ${elapsed()}: ${c.acked} acked, ${c.indeterminate} indeterminate, ${c.refused} refused; last recovery ${Math.round(fullAt - killedAt)} ms`);
      }
    }

    // ---- settle

    await finish();
    out(`load stopped at ${elapsed()}; waiting for every node to catch up`);
    const settled = await waitRecovered(now(), recoveryTimeout);
    if (settled === null) fail('no leader followed by every node after the load stopped');
    let finalStatuses: (Status | null)[] = [];
    let commit = 0;
    for (const deadline = now() + 30_000; ; await sleep(50)) {
      finalStatuses = await Promise.all(nodes.map(status));
      const leader = finalStatuses.find((s) => s?.state === 'leader');
      commit = leader?.commitIndex ?? 0;
      if (leader && finalStatuses.every((s) => s && s.lastApplied === commit && s.commitIndex === commit)) break;
      if (now() > deadline) {
        fail(`nodes did not catch up within 30 s: ${finalStatuses.map((s, i) => `${nodes[i].name} applied ${s?.lastApplied ?? 'down'}`).join(', ')}, leader commit ${commit}`);
        break;
      }
    }

    // ---- verify

    const verdict = await verify(finalStatuses);
    const c = count();
    report = {
      seed,
      ok: failures.length === 0,
      failures,
      kills,
      leaderKills,
      burstKills,
      killedMidRewrite,
      killedMidCleanup,
      ...logFigures(),
      indeterminateCauses: causes(),
      writes: { issued: writes.length, acknowledged: c.acked, indeterminate: c.indeterminate, refused: c.refused, indeterminateLanded: verdict.indeterminateLanded },
      lost: verdict.lost,
      duplicated: verdict.duplicated,
      phantoms: verdict.phantoms,
      misordered: verdict.misordered,
      divergentNodes: verdict.divergent,
      leaderRecovery: quantiles(leaderRecovery),
      newLeaderRecovery: quantiles(newLeaderRecovery),
      fullRecovery: quantiles(fullRecovery),
      notRecovered,
      finalCommitIndex: commit,
      snapshotIndex: finalStatuses.map((s) => s?.snapshotIndex ?? -1),
      linearizableReads: verdict.reads,
      elapsedMs: now() - t0,
      workdir,
      reproCommand,
    };
  } catch (error) {
    fail(`crash test aborted: ${(error as Error).stack ?? String(error)}`);
  } finally {
    loadStopped = true;
    await stopAll();
  }
  if (!report) {
    const c = count();
    report = {
      seed, ok: false, failures, kills, leaderKills, burstKills, killedMidRewrite, killedMidCleanup, ...logFigures(), indeterminateCauses: causes(),
      writes: { issued: writes.length, acknowledged: c.acked, indeterminate: c.indeterminate, refused: c.refused, indeterminateLanded: 0 },
      lost: 0, duplicated: 0, phantoms: 0, misordered: 0, divergentNodes: 0,
      leaderRecovery: quantiles(leaderRecovery), newLeaderRecovery: quantiles(newLeaderRecovery), fullRecovery: quantiles(fullRecovery), notRecovered,
      finalCommitIndex: 0, snapshotIndex: [], linearizableReads: 0, elapsedMs: now() - t0, workdir, reproCommand,
    };
  }
  report.ok = failures.length === 0;
  if ((report.ok || options.sabotage) && !options.keep) rmSync(workdir, { recursive: true, force: true });
  return report;

  // ------------------------------------------------------------------ helpers of the run

  function logFigures() {
    const figures = { storageRepairs: { tornTails: 0, other: 0 }, snapshotRestores: 0 };
    for (const node of nodes) {
      let text = '';
      try {
        text = readFileSync(node.log, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        if (line.includes(' storage: ')) {
          if (/torn tail|incomplete save/.test(line)) figures.storageRepairs.tornTails++;
          else figures.storageRepairs.other++;
        } else if (line.includes('restored snapshot')) figures.snapshotRestores++;
      }
    }
    return figures;
  }

  function causes(): Record<string, number> {
    const byCause: Record<string, number> = {};
    for (const w of writes) if (w.outcome === 'indeterminate') byCause[w.detail ?? '?'] = (byCause[w.detail ?? '?'] ?? 0) + 1;
    return Object.fromEntries(Object.entries(byCause).sort((a, b) => b[1] - a[1]));
  }

  function count() {
    let acked = 0;
    let indeterminate = 0;
    let refused = 0;
    for (const w of writes) {
      if (w.outcome === 'acked') acked++;
      else if (w.outcome === 'indeterminate') indeterminate++;
      else if (w.outcome === 'refused') refused++;
    }
    return { acked, indeterminate, refused };
  }

  async function verify(finalStatuses: (Status | null)[]) {
    const byKey = new Map(writes.map((w) => [w.key, w]));
    const lostKeys = new Set<string>();
    const dupKeys = new Set<string>();
    const phantomKeys = new Set<string>();
    const misorderedKeys = new Set<string>();
    const landed = new Set<string>();
    let divergent = 0;
    let reference: string | undefined;
    const problems = (what: string, items: string[]) => {
      if (items.length > 0) fail(`${what}: ${items.length}, e.g.\n    ${items.slice(0, 8).join('\n    ')}`);
    };

    for (const [i, node] of nodes.entries()) {
      let dump: { lastApplied: number; entries: [string, string][] };
      try {
        const reply = await api(node, 'GET', '/kv', undefined, 30_000);
        if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
        dump = reply.json;
      } catch (error) {
        fail(`${node.name}: could not read its state dump (GET /kv): ${(error as Error).message}`);
        continue;
      }
      if (options.sabotage && i === nodes.length - 1) {
        const ackedKeys = writes.filter((w) => w.outcome === 'acked').map((w) => w.key);
        dump.entries = dump.entries.filter(([key]) => key !== ackedKeys[0]);
        dump.entries.push([`__dup__/${ackedKeys[1]}`, '1']);
      }
      const bad: string[] = [];
      const position = new Map<string, number>();
      const values = new Map<string, string>();
      dump.entries.forEach(([key, value], p) => {
        if (key.startsWith('__dup__/')) {
          dupKeys.add(key.slice(8));
          bad.push(`${node.name}: DUPLICATE ${key.slice(8)} applied ${Number(value) + 1} times`);
          return;
        }
        position.set(key, p);
        values.set(key, value);
        const w = byKey.get(key);
        if (!w) {
          phantomKeys.add(key);
          bad.push(`${node.name}: ${key} was never written`);
        } else if (w.value !== value) {
          lostKeys.add(key);
          bad.push(`${node.name}: ${key} holds ${value}, written ${w.value} (${w.outcome})`);
        } else if (w.outcome === 'refused') {
          phantomKeys.add(key);
          bad.push(`${node.name}: ${key} present though its request was refused`);
        } else if (w.outcome === 'indeterminate') landed.add(key);
      });
      for (const w of writes) {
        if (w.outcome === 'acked' && !values.has(w.key)) {
          lostKeys.add(w.key);
          bad.push(`${node.name}: LOST acknowledged ${w.key}=${w.value}`);
        }
      }
      // Real-time order: a write acknowledged before another was issued must be applied before it.
      const present = writes.filter((w) => position.has(w.key));
      const acks = present.filter((w) => w.outcome === 'acked').sort((a, b) => a.ackedAt - b.ackedAt);
      const prefixMax: number[] = [];
      const prefixKey: string[] = [];
      for (const [j, w] of acks.entries()) {
        const p = position.get(w.key)!;
        const better = j === 0 || p > prefixMax[j - 1];
        prefixMax.push(better ? p : prefixMax[j - 1]);
        prefixKey.push(better ? w.key : prefixKey[j - 1]);
      }
      for (const w of present) {
        let lo = 0;
        let hi = acks.length; // first ack with ackedAt > w.issuedAt
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (acks[mid].ackedAt < w.issuedAt) lo = mid + 1;
          else hi = mid;
        }
        if (lo > 0 && prefixMax[lo - 1] > position.get(w.key)!) {
          misorderedKeys.add(w.key);
          bad.push(`${node.name}: ${w.key} applied before ${prefixKey[lo - 1]}, which was acknowledged before ${w.key} was issued`);
        }
      }
      if (bad.length > 0) problems(`${node.name}: state check`, bad);
      // Same state machine, same applied order, on every node.
      const text = JSON.stringify(dump.entries);
      if (reference === undefined) reference = text;
      else if (text !== reference) {
        divergent++;
        fail(`${node.name}: its state (applied ${dump.lastApplied}) differs from ${nodes[0].name}'s (same commitIndex ${finalStatuses[i]?.commitIndex})`);
      }
    }

    // Linearizable reads of every acknowledged write through every node.
    let reads = 0;
    if (options.linearizableReads ?? true) {
      const acked = writes.filter((w) => w.outcome === 'acked');
      const bad: string[] = [];
      await Promise.all(
        nodes.map(async (node) => {
          let next = 0;
          const worker = async () => {
            while (next < acked.length) {
              const w = acked[next++];
              let got: string | undefined;
              let error = '';
              for (let attempt = 0; attempt < 5; attempt++) {
                try {
                  const reply = await api(node, 'GET', `/kv/${encodeURIComponent(w.key)}`);
                  if (reply.status >= 500) throw new Error(`${reply.status} ${reply.json?.code}`);
                  got = reply.status === 200 ? reply.json.value : undefined;
                  error = '';
                  break;
                } catch (e) {
                  error = (e as Error).message;
                  await sleep(100);
                }
              }
              reads++;
              if (got !== w.value) {
                lostKeys.add(w.key);
                bad.push(`${node.name}: GET ${w.key} -> ${got ?? (error || 'not found')}, acknowledged ${w.value}`);
              }
            }
          };
          await Promise.all(Array.from({ length: 8 }, worker));
        }),
      );
      problems("linearizable GET of acknowledged writes", bad);
    }
    return {
      lost: lostKeys.size,
      duplicated: dupKeys.size,
      phantoms: phantomKeys.size,
      misordered: misorderedKeys.size,
      divergent,
      indeterminateLanded: landed.size,
      reads,
    };
  }
}

/** The report as aligned text lines. */
export function formatReport(r: CrashTestReport): string {
  const ms = (n: number) => `${Math.round(n)} ms`;
  const rows: [string, string][] = [
    ['seed', String(r.seed)],
    ['kills', `${r.kills} (${r.leaderKills} of the leader, ${r.burstKills} during a write burst)`],
    ['kills interrupting a rewrite', `${r.killedMidRewrite} mid snapshot/segment write (temp file left), ${r.killedMidCleanup} before old files were deleted`],
    ['snapshot loads (restart or InstallSnapshot)', String(r.snapshotRestores)],
    ['storage repairs at load', `${r.storageRepairs.tornTails} torn tails truncated, ${r.storageRepairs.other} other`],
    ['writes issued', String(r.writes.issued)],
    ['writes acknowledged', String(r.writes.acknowledged)],
    ['writes indeterminate', `${r.writes.indeterminate} (${r.writes.indeterminateLanded} of them applied)`],
    ['  by cause', Object.entries(r.indeterminateCauses).map(([cause, n]) => `${cause.trim()} ${n}`).join(', ') || '-'],
    ['writes refused (never sent)', String(r.writes.refused)],
    ['LOST acknowledged writes', String(r.lost)],
    ['DUPLICATED writes', String(r.duplicated)],
    ['phantom writes', String(r.phantoms)],
    ['out-of-order writes', String(r.misordered)],
    ['divergent nodes', String(r.divergentNodes)],
    ['not recovered', String(r.notRecovered)],
    ['leader back after kill', `p50 ${ms(r.leaderRecovery.p50)}, p99 ${ms(r.leaderRecovery.p99)}, max ${ms(r.leaderRecovery.max)}`],
    ['  after a leader kill', `p50 ${ms(r.newLeaderRecovery.p50)}, p99 ${ms(r.newLeaderRecovery.p99)}, max ${ms(r.newLeaderRecovery.max)}`],
    ['all nodes back after kill', `p50 ${ms(r.fullRecovery.p50)}, p99 ${ms(r.fullRecovery.p99)}, max ${ms(r.fullRecovery.max)}`],
    ['final commitIndex', `${r.finalCommitIndex} (snapshotIndex per node: ${r.snapshotIndex.join(', ')})`],
    ['linearizable GETs checked', String(r.linearizableReads)],
    ['elapsed', `${(r.elapsedMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  lines.push(r.ok ? 'OK: no acknowledged write lost or duplicated, every kill recovered' : `FAIL (${r.failures.length} problem(s)); repro: ${r.reproCommand}; node logs and data kept in ${r.workdir}`);
  return lines.join('\n');
}
