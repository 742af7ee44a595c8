/**
 * `npm run demo`: a real 3-process Raft key-value cluster on 127.0.0.1 that
 * survives losing its leader without losing an acknowledged write.
 *
 * 1. starts N node processes (examples/kv-demo/node.ts) on free ports, each
 *    with its own data directory in a fresh temp dir, and waits for a leader;
 * 2. writes keys through every node (followers forward to the leader);
 * 3. mid-run, SIGKILLs the leader and measures the failover;
 * 4. restarts the killed node on its data directory and times its catch-up;
 * 5. reads EVERY acknowledged key back from EVERY node (linearizable GETs)
 *    and exits non-zero if any acknowledged write is missing or wrong.
 *
 * Peers authenticate each other with mutual TLS: the demo makes a CA and one
 * certificate per node with openssl in its temp dir (--security psk uses a
 * generated cluster secret instead; --security insecure-plaintext none).
 *
 * Flags: --nodes N (3)  --base-port P (free ports)  --writes W (600)
 *        --duration S (20)  --concurrency C (8)  --snapshot-threshold T (200)
 *        --security mtls|psk|insecure-plaintext (mtls)  --keep
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { certificateStem, makeClusterCertificates } from './certificates.js';

// ------------------------------------------------------------------ options

const { values: flags } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    'base-port': { type: 'string' },
    writes: { type: 'string', default: '600' },
    duration: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '8' },
    'snapshot-threshold': { type: 'string', default: '200' },
    security: { type: 'string', default: 'mtls' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: npm run demo -- [--nodes 3] [--base-port P] [--writes 600] [--duration 20] [--concurrency 8] [--snapshot-threshold 200] [--security mtls|psk|insecure-plaintext] [--keep]');
  process.exit(0);
}
if (!['mtls', 'psk', 'insecure-plaintext'].includes(String(flags.security))) {
  console.error(`--security must be mtls, psk or insecure-plaintext, got ${flags.security}`);
  process.exit(2);
}
const NODES = Math.max(1, Number(flags.nodes));
const WRITES = Math.max(1, Number(flags.writes));
const DURATION_MS = Math.max(1, Number(flags.duration)) * 1000;
const CONCURRENCY = Math.max(1, Number(flags.concurrency));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NODE_SCRIPT = fileURLToPath(new URL('./node.ts', import.meta.url));

// ------------------------------------------------------------------ output

const tty = Boolean(process.stdout.isTTY);
let progressText = '';
function line(text: string): void {
  if (tty && progressText) process.stdout.write('\r\x1b[2K');
  process.stdout.write(text + '\n');
  if (tty && progressText) process.stdout.write(progressText);
}
function setProgress(text: string): void {
  progressText = text;
  if (tty) process.stdout.write('\r\x1b[2K' + text);
}
function endProgress(): void {
  if (tty && progressText) process.stdout.write('\n');
  progressText = '';
}
const ms = (n: number | undefined) => (n === undefined ? 'n/a' : `${Math.round(n)} ms`);
const sleep = (n: number) => new Promise((resolve) => setTimeout(resolve, n));
const t0 = performance.now();
const now = () => performance.now();

// ------------------------------------------------------------------ processes

interface Node {
  name: string;
  id: string; // raft address host:port
  http: number;
  data: string;
  log: string;
  child: ChildProcess | null;
  restarts: number;
}

const workdir = mkdtempSync(join(tmpdir(), 'webraft-demo-'));
const nodes: Node[] = [];

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

/** The security flags of every node (set up in main). */
let securityArgs: (node: Node) => string[] = () => [];

/** Makes what the --security mode needs (certificates or a secret) in the work dir; returns a line for the log. */
async function setUpSecurity(): Promise<string> {
  if (flags.security === 'insecure-plaintext') {
    securityArgs = () => ['--insecure-plaintext'];
    return 'peers NOT authenticated (--security insecure-plaintext)';
  }
  if (flags.security === 'psk') {
    const file = join(workdir, 'cluster.psk');
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    securityArgs = () => ['--psk-file', file];
    return `peers authenticated with TLS-PSK (cluster secret in ${file})`;
  }
  const dir = join(workdir, 'certs');
  const started = now();
  const certs = await makeClusterCertificates(dir, nodes.map((n) => n.id), 7);
  securityArgs = (node) => {
    const own = certs.nodes.get(node.id) as { cert: string; key: string };
    return ['--tls-ca', certs.ca, '--tls-cert', own.cert, '--tls-key', own.key];
  };
  return `peers authenticated with mutual TLS (CA and ${nodes.length} certificates made in ${ms(now() - started)} in ${dir}: ca.pem, ${certificateStem(nodes[0].id)}.pem, ...)`;
}

function start(node: Node): void {
  const fd = openSync(node.log, 'a');
  const peers = nodes.map((n) => n.id).join(',');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', NODE_SCRIPT, '--id', node.id, '--peers', peers, '--http', String(node.http), '--data', node.data,
      '--snapshot-threshold', String(flags['snapshot-threshold']), ...securityArgs(node)],
    { cwd: REPO, stdio: ['ignore', fd, fd], env: { ...process.env, TSX_TSCONFIG_PATH: join(REPO, 'tsconfig.json') } },
  );
  closeSync(fd);
  node.child = child;
  child.on('exit', () => {
    if (node.child === child) node.child = null;
  });
}

async function stopAll(): Promise<void> {
  const running = nodes.filter((n) => n.child);
  await Promise.all(
    running.map(
      (n) =>
        new Promise<void>((resolve) => {
          const child = n.child as ChildProcess;
          const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

let cleaningUp = false;
async function cleanup(code: number): Promise<never> {
  if (!cleaningUp) {
    cleaningUp = true;
    endProgress();
    await stopAll();
    if (code === 0 || code === 130 || code === 143) rmSync(workdir, { recursive: true, force: true });
    else console.log(`node logs and data kept in ${workdir}`);
  }
  process.exit(code);
}
let signalExitCode: number | undefined; // set once the result is known (--keep)
process.on('SIGINT', () => void cleanup(signalExitCode ?? 130));
process.on('SIGTERM', () => void cleanup(signalExitCode ?? 143));

// ------------------------------------------------------------------ HTTP client

class RequestError extends Error {
  constructor(
    readonly kind: 'refused' | 'unknown' | 'rejected',
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** One request; resolves with status and JSON body, or throws RequestError. */
async function api(node: Node, method: string, path: string, body?: string, timeoutMs = 4000): Promise<{ status: number; json: any }> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${node.http}${path}`, { method, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    // Refused: the request never reached the node. Anything else: it may have.
    throw new RequestError(code === 'ECONNREFUSED' ? 'refused' : 'unknown', `${code ?? (error as Error).name}`);
  }
  const json = await response.json().catch(() => null);
  if (response.status >= 500) throw new RequestError('rejected', json?.message ?? `HTTP ${response.status}`, json?.code);
  return { status: response.status, json };
}

async function status(node: Node): Promise<any | null> {
  if (!node.child) return null;
  try {
    return (await api(node, 'GET', '/status', undefined, 1000)).json;
  } catch {
    return null;
  }
}

/** Waits until a running node is leader and a majority of running nodes agree. */
async function waitForLeader(timeoutMs: number): Promise<{ node: Node; status: any }> {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    const statuses = await Promise.all(nodes.map(status));
    const leaderIndex = statuses.findIndex((s) => s?.state === 'leader');
    if (leaderIndex >= 0) {
      const address = statuses[leaderIndex].address;
      const agree = statuses.filter((s) => s?.leader === address).length;
      if (agree > NODES / 2) return { node: nodes[leaderIndex], status: statuses[leaderIndex] };
    }
    await sleep(25);
  }
  throw new Error(`no leader within ${timeoutMs} ms`);
}

// ------------------------------------------------------------------ workload

const acked = new Map<string, string>();
const unacked = new Map<string, string>();
const stats = { issued: 0, acked: 0, failed: 0, retries: 0, confirmedByRead: 0, inflight: 0 };
let leaderName = '?';
let killedAt: number | undefined;
let resumedAt: number | undefined;

const running = () => nodes.filter((n) => n.child);

/** Writes one unique key; retries elsewhere; a write with an unknown outcome is checked by reading it. */
async function writeOne(i: number): Promise<void> {
  const key = `key-${String(i).padStart(5, '0')}`;
  const value = `value-${i}-${Math.random().toString(36).slice(2, 8)}`;
  const deadline = now() + 20_000;
  for (let attempt = 0; now() < deadline; attempt++) {
    const candidates = running();
    const target = candidates[(i + attempt) % candidates.length];
    if (!target) break;
    const startedAt = now();
    let uncertain = false;
    try {
      await api(target, 'PUT', `/kv/${encodeURIComponent(key)}`, value);
      return ack(key, value, startedAt);
    } catch (error) {
      uncertain = (error as RequestError).kind !== 'refused';
    }
    if (uncertain) {
      // The write may have committed: ask (linearizably) before retrying.
      const reader = running().find((n) => n !== target) ?? target;
      try {
        const read = await api(reader, 'GET', `/kv/${encodeURIComponent(key)}`, undefined, 3000);
        if (read.status === 200 && read.json?.value === value) {
          stats.confirmedByRead++;
          return ack(key, value, startedAt);
        }
      } catch {
        // unknown still: retrying the same set is harmless
      }
    }
    stats.retries++;
    await sleep(Math.min(50 * 2 ** attempt, 500));
  }
  stats.failed++;
  unacked.set(key, value);
}

function ack(key: string, value: string, startedAt: number): void {
  acked.set(key, value);
  stats.acked++;
  if (killedAt !== undefined && resumedAt === undefined && startedAt > killedAt) {
    resumedAt = now();
    line(`  writes resumed ${ms(resumedAt - killedAt)} after the kill`);
  }
}

async function runWorkload(): Promise<void> {
  const startedAt = now();
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < WRITES; i++) {
    const due = startedAt + (i * DURATION_MS) / WRITES;
    if (due > now()) await sleep(due - now());
    while (pending.size >= CONCURRENCY) await Promise.race(pending);
    stats.issued++;
    stats.inflight++;
    const p: Promise<void> = writeOne(i).finally(() => {
      stats.inflight--;
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.all(pending);
}

function drawProgress(): void {
  const done = stats.acked + stats.failed;
  const width = 30;
  const filled = Math.round((done / WRITES) * width);
  const elapsed = ((now() - t0) / 1000).toFixed(1);
  const text = tty
    ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${WRITES}  acked ${stats.acked}  failed ${stats.failed}  in flight ${stats.inflight}  leader ${leaderName}  ${elapsed}s`
    : `progress: ${done}/${WRITES} done, ${stats.acked} acked, ${stats.failed} failed, ${stats.inflight} in flight, leader ${leaderName}, ${elapsed}s`;
  if (tty) setProgress(text);
  else line(text);
}

// ------------------------------------------------------------------ failover

const failover: { victim?: Node; oldLeader?: string; newLeader?: string; electedMs?: number; catchUpMs?: number; catchUpTarget?: number } = {};

async function chaos(): Promise<void> {
  await sleep(DURATION_MS * 0.4);
  if (NODES < 3) {
    line('(fewer than 3 nodes: skipping the leader kill)');
    return;
  }
  const { node: victim, status: before } = await waitForLeader(10_000);
  failover.victim = victim;
  failover.oldLeader = victim.name;
  victim.child?.kill('SIGKILL');
  victim.child = null;
  killedAt = now();
  leaderName = '(none)';
  line(`✗ SIGKILL leader ${victim.name} (${victim.id}, term ${before.term}, commitIndex ${before.commitIndex}) after ${stats.acked} acked writes`);
  const { node: next, status: after } = await waitForLeader(15_000);
  failover.newLeader = next.name;
  failover.electedMs = now() - killedAt;
  leaderName = next.name;
  line(`✓ new leader ${next.name} (${next.id}, term ${after.term}) elected ${ms(failover.electedMs)} after the kill`);

  await sleep(Math.max(1000, DURATION_MS * 0.25));
  victim.restarts++;
  start(victim);
  line(`↻ restarting ${victim.name} on its data directory`);
  let target: number | undefined;
  let restartedAt = now();
  for (const deadline = now() + 30_000; now() < deadline; await sleep(25)) {
    const mine = await status(victim);
    if (!mine) continue;
    if (target === undefined) {
      const leader = await waitForLeader(10_000);
      target = leader.status.commitIndex as number;
      restartedAt = now();
      line(`  ${victim.name} is up (lastApplied ${mine.lastApplied}); catching up to leader commitIndex ${target}`);
    }
    if (mine.lastApplied >= target) {
      failover.catchUpMs = now() - restartedAt;
      failover.catchUpTarget = target;
      line(`✓ ${victim.name} caught up: lastApplied ${mine.lastApplied} >= ${target} in ${ms(failover.catchUpMs)} (snapshotIndex ${mine.snapshotIndex})`);
      return;
    }
  }
  line(`✗ ${victim.name} did not catch up within 30 s`);
}

async function pollLeader(stop: { done: boolean }): Promise<void> {
  while (!stop.done) {
    if (killedAt === undefined || failover.newLeader) {
      for (const n of running()) {
        const s = await status(n);
        if (s?.leader) {
          leaderName = nodes.find((m) => m.id === s.leader)?.name ?? s.leader;
          break;
        }
      }
    }
    await sleep(500);
  }
}

// ------------------------------------------------------------------ verification

async function verify(): Promise<Map<Node, { ok: number; bad: string[] }>> {
  const results = new Map<Node, { ok: number; bad: string[] }>();
  const keys = [...acked.entries()];
  await Promise.all(
    nodes.map(async (node) => {
      const result = { ok: 0, bad: [] as string[] };
      results.set(node, result);
      let next = 0;
      const worker = async () => {
        while (next < keys.length) {
          const [key, value] = keys[next++];
          let got: string | undefined;
          for (let attempt = 0; attempt < 5; attempt++) {
            try {
              const read = await api(node, 'GET', `/kv/${encodeURIComponent(key)}`);
              got = read.status === 200 ? read.json.value : undefined;
              break;
            } catch {
              await sleep(200);
            }
          }
          if (got === value) result.ok++;
          else result.bad.push(`${key}: expected ${value}, got ${got ?? 'nothing'}`);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    }),
  );
  return results;
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  const base = flags['base-port'] ? Number(flags['base-port']) : undefined;
  for (let i = 0; i < NODES; i++) {
    const raftPort = base !== undefined ? base + i : await freePort();
    const httpPort = base !== undefined ? base + NODES + i : await freePort();
    const name = `n${i + 1}`;
    nodes.push({ name, id: `127.0.0.1:${raftPort}`, http: httpPort, data: join(workdir, name), log: join(workdir, `${name}.log`), child: null, restarts: 0 });
  }
  console.log(`WebRaft kv demo: ${NODES} nodes, ${WRITES} writes over ${DURATION_MS / 1000} s, ${CONCURRENCY} in parallel (data in ${workdir})`);
  for (const n of nodes) console.log(`  ${n.name}  raft ${n.id}  http 127.0.0.1:${n.http}`);
  console.log(`  ${await setUpSecurity()}`);
  for (const n of nodes) start(n);
  const first = await waitForLeader(30_000);
  leaderName = first.node.name;
  line(`✓ leader ${first.node.name} (${first.node.id}) elected, term ${first.status.term}, ${((now() - t0) / 1000).toFixed(1)} s after start`);

  const stop = { done: false };
  const poller = pollLeader(stop);
  const ticker = setInterval(drawProgress, tty ? 100 : 2000);
  const writesStarted = now();
  const chaosDone = chaos();
  await runWorkload();
  const writeSeconds = (now() - writesStarted) / 1000;
  await chaosDone;
  clearInterval(ticker);
  drawProgress();
  endProgress();
  stop.done = true;
  await poller;

  // Let every node apply everything, then read every acknowledged key from every node.
  const leader = await waitForLeader(10_000);
  const commit = leader.status.commitIndex as number;
  for (const deadline = now() + 15_000; now() < deadline; await sleep(50)) {
    const all = await Promise.all(nodes.map(status));
    if (all.every((s) => s && s.lastApplied >= commit)) break;
  }
  line(`verifying ${acked.size} acknowledged writes on each of ${NODES} nodes (linearizable GET)...`);
  const results = await verify();
  const lostKeys = new Set<string>();
  for (const r of results.values()) for (const bad of r.bad) lostKeys.add(bad.split(':')[0]);
  for (const [node, r] of results) for (const bad of r.bad.slice(0, 5)) line(`  LOST on ${node.name}: ${bad}`);
  let landed = 0;
  for (const [key, value] of unacked) {
    const read = await api(running()[0], 'GET', `/kv/${encodeURIComponent(key)}`).catch(() => null);
    if (read?.status === 200 && read.json.value === value) landed++;
  }

  const finals = await Promise.all(nodes.map(status));
  const rows: [string, string][] = [
    ['writes attempted', String(WRITES)],
    ['writes acknowledged', `${stats.acked} (${stats.confirmedByRead} confirmed by read after an unknown outcome)`],
    ['writes failed (not acked)', `${stats.failed}${stats.failed ? ` (${landed} of them landed anyway)` : ''}`],
    ['retries', String(stats.retries)],
    ['LOST acknowledged writes', String(lostKeys.size)],
    ['write rate (paced)', `${(stats.acked / writeSeconds).toFixed(0)} acked/s over ${writeSeconds.toFixed(1)} s`],
    ['leader killed', failover.oldLeader ? `${failover.oldLeader} -> new leader ${failover.newLeader}` : 'n/a'],
    ['failover: new leader after', ms(failover.electedMs)],
    ['failover: writes resumed after', ms(resumedAt !== undefined && killedAt !== undefined ? resumedAt - killedAt : undefined)],
    ['catch-up of restarted node', failover.catchUpMs !== undefined ? `${ms(failover.catchUpMs)} (to index ${failover.catchUpTarget})` : 'n/a'],
    ['total time', `${((now() - t0) / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log('\n' + rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n'));
  const header = ['node', 'raft address', 'state', 'term', 'commit', 'applied', 'snapshot', 'keys', 'restarts', 'verified'];
  const table = nodes.map((n, i) => {
    const s = finals[i];
    const r = results.get(n);
    return [n.name, n.id, s?.state ?? 'down', s?.term ?? '-', s?.commitIndex ?? '-', s?.lastApplied ?? '-', s?.snapshotIndex ?? '-', s?.keys ?? '-', n.restarts, r ? `${r.ok}/${acked.size}` : '-'].map(String);
  });
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
  const fmt = (row: string[]) => '  ' + row.map((cell, c) => cell.padEnd(widths[c])).join('  ');
  console.log('\n' + fmt(header) + '\n' + table.map(fmt).join('\n') + '\n');
  console.log(lostKeys.size === 0 ? `OK: 0 lost writes — every acknowledged write is on every node.` : `FAIL: ${lostKeys.size} acknowledged writes lost`);

  if (flags.keep) {
    signalExitCode = lostKeys.size === 0 ? 0 : 1;
    console.log('\nThe cluster keeps running (Ctrl-C to stop). Try:');
    const [a, b] = [nodes[0], nodes[1] ?? nodes[0]];
    console.log(`  curl -X PUT -d world http://127.0.0.1:${a.http}/kv/hello`);
    console.log(`  curl http://127.0.0.1:${b.http}/kv/hello`);
    console.log(`  curl -X DELETE http://127.0.0.1:${b.http}/kv/hello`);
    console.log(`  curl http://127.0.0.1:${a.http}/status`);
    console.log(`  logs: ${workdir}/n*.log`);
    await new Promise(() => {}); // until SIGINT
  }
  return lostKeys.size === 0 ? 0 : 1;
}

main().then(
  (code) => cleanup(code),
  (error) => {
    endProgress();
    console.error('demo failed:', error);
    return cleanup(1);
  },
);
