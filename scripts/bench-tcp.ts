/**
 * `npm run bench:tcp`: WebRaft's kv example against etcd, both as 3-member
 * clusters of separate processes on 127.0.0.1, driven by the same HTTP/1.1
 * keep-alive client (scripts/bench-tcp-client.ts) at 1, 16, 64 and 256 writes
 * in flight. Writes go to the leader, each to a new key with a 64-byte value.
 * Every (in flight, system) cell is measured once per repeat, the systems
 * alternating, so a change in the machine's load hits both alike.
 *
 * Prints per system and concurrency: writes/s (median and range over the
 * repeats), latency p50/p99 (over all repeats' writes), server CPU per write
 * (utime+stime of the three server processes from /proc/<pid>/stat over the
 * measured window, divided by the writes), and WebRaft's ratio to etcd.
 * Without an `etcd` binary it says so and measures WebRaft alone.
 *
 * Before the first cell each system runs 64 writes in flight for --prewarm
 * seconds, unmeasured: a long-running server has its code optimized (V8's JIT
 * for WebRaft; Go needs no warm-up but gets the same), and the systems start
 * with a few thousand keys.
 *
 * Flags: --seconds S (5) measured per cell   --warmup S (1) unmeasured first   --prewarm S (5)
 *        --repeats R (3)   --inflight 1,16,64,256   --systems webraft,etcd
 *        --etcd-plaintext (etcd peers without TLS; default: peer mutual TLS)
 *        --webraft-arg ARG (repeatable; passed to every kv node, e.g. --webraft-arg=--insecure-plaintext)
 *        --variant-arg ARG (repeatable; adds a second WebRaft cluster, "WebRaft-B", run with these
 *                           node args instead, interleaved like the others: an A/B comparison)
 *        --cpu-prof DIR (V8 CPU profiles of the WebRaft nodes over each measured window, in DIR:
 *                        <pid>-<n>.cpuprofile; read them with scripts/bench-tcp-profile.ts)
 *        --perf DIR (record each WebRaft node's measured windows with `perf record -e cpu-clock:u`,
 *                    JS symbols from --perf-basic-prof; CPU-time samples, so a loaded machine does
 *                    not inflate syscalls; read them with scripts/bench-tcp-profile.ts --perf)
 *        --keep (keep the temp dir with logs and data)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { quantile, runLoad } from './bench-tcp-client.js';
import { buildKvNode, CLOCK_TICKS_PER_SECOND, cpuTicks, EtcdCluster, etcdVersion, WebRaftCluster, type BenchSystem } from './bench-tcp-systems.js';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    prewarm: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '3' },
    inflight: { type: 'string', default: '1,16,64,256' },
    systems: { type: 'string', default: 'webraft,etcd' },
    'etcd-plaintext': { type: 'boolean', default: false },
    'webraft-arg': { type: 'string', multiple: true, default: [] },
    'variant-arg': { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    perf: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const MEASURE_MS = Number(flags.seconds) * 1000;
const WARMUP_MS = Number(flags.warmup) * 1000;
const REPEATS = Number(flags.repeats);
const LEVELS = flags.inflight.split(',').map(Number);
const wanted = new Set(flags.systems.split(','));

interface Cell {
  rates: number[];
  cpuPerWrite: number[];
  latencies: Float64Array[];
  errors: number;
}

const loadLine = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'webraft-bench-tcp-'));
  console.log(`bench:tcp — ${loadLine()}`);
  console.log(`${REPEATS} repeats x in flight ${LEVELS.join('/')} x ${(WARMUP_MS / 1000).toFixed(0)} s warm-up + ${(MEASURE_MS / 1000).toFixed(0)} s measured; writes to the leader, unique keys, 64-byte values`);

  const systems: BenchSystem[] = [];
  if (wanted.has('webraft')) {
    const started = performance.now();
    const script = await buildKvNode(dir);
    const nodeFlags = flags.perf ? ['--perf-basic-prof'] : [];
    if (flags['cpu-prof']) {
      mkdirSync(resolve(flags['cpu-prof']), { recursive: true });
      flags['webraft-arg'].push(`--cpu-profile-dir=${resolve(flags['cpu-prof'])}`);
      flags['variant-arg']?.push(`--cpu-profile-dir=${resolve(flags['cpu-prof'])}`);
    }
    console.log(`WebRaft: examples/kv-demo/node.ts bundled with esbuild to ${script} in ${(performance.now() - started).toFixed(0)} ms; run with node ${process.version}${nodeFlags.length ? ' ' + nodeFlags.join(' ') : ''}; node args: ${flags['webraft-arg'].join(' ') || '(defaults: TLS-PSK, snapshot threshold of node.ts)'}`);
    systems.push(new WebRaftCluster({ dir, script, nodeFlags, nodeArgs: flags['webraft-arg'] }));
    if (flags['variant-arg']) {
      console.log(`WebRaft-B: the same with node args ${flags['variant-arg'].join(' ')}`);
      systems.push(new WebRaftCluster({ dir, script, nodeFlags, nodeArgs: flags['variant-arg'], name: 'WebRaft-B' }));
    }
  }
  if (wanted.has('etcd')) {
    const version = etcdVersion();
    if (version === null) console.log('etcd: no `etcd` binary on PATH (Debian: apt-get install etcd-server): measuring WebRaft alone');
    else {
      console.log(`etcd ${version}: 3 members, v3 JSON gateway (/v3/kv/put), default snapshot count, peers over ${flags['etcd-plaintext'] ? 'plaintext' : 'mutual TLS'}`);
      systems.push(new EtcdCluster({ dir, binary: 'etcd', peerTls: !flags['etcd-plaintext'] }));
    }
  }

  const cells = new Map<string, Cell>();
  const cell = (system: string, inflight: number) => {
    const key = `${system}/${inflight}`;
    if (!cells.has(key)) cells.set(key, { rates: [], cpuPerWrite: [], latencies: [], errors: 0 });
    return cells.get(key) as Cell;
  };
  try {
    for (const s of systems) await s.start();
    const nextKey = new Map(systems.map((s) => [s.name, 0]));
    for (const system of systems) {
      if (Number(flags.prewarm) <= 0) break;
      const warm = await runLoad({ port: await system.leaderPort(), inflight: 64, warmupMs: Number(flags.prewarm) * 1000, measureMs: 1, firstKey: 0, request: (i) => system.request(i) });
      nextKey.set(system.name, warm.nextKey);
      console.log(`  pre-warm ${system.name}: ${warm.nextKey} writes at 64 in flight over ${flags.prewarm} s`);
    }
    for (let repeat = 1; repeat <= REPEATS; repeat++) {
      const order = repeat % 2 === 1 ? systems : [...systems].reverse();
      for (const inflight of LEVELS) {
        for (const system of order) {
          const port = await system.leaderPort();
          const pids = system.pids();
          const countersBefore = await system.counters?.();
          const sample = () => pids.map(cpuTicks).reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }), { user: 0, system: 0 });
          let cpuStart = { user: 0, system: 0 };
          let cpuEnd = { user: 0, system: 0 };
          let recorders: ChildProcess[] = [];
          const result = await runLoad({
            port,
            inflight,
            warmupMs: WARMUP_MS,
            measureMs: MEASURE_MS,
            firstKey: nextKey.get(system.name) ?? 0,
            request: (i) => system.request(i),
            onMeasureStart: () => {
              cpuStart = sample();
              if (flags.perf && system.name.startsWith('WebRaft')) recorders = startPerf(flags.perf, `${system.name}-${inflight}-r${repeat}`, pids);
              if (flags['cpu-prof'] && system.name.startsWith('WebRaft')) for (const pid of pids) process.kill(pid, 'SIGUSR2');
            },
            onMeasureEnd: () => {
              cpuEnd = sample();
              for (const r of recorders) r.kill('SIGINT');
              recorders = [];
              if (flags['cpu-prof'] && system.name.startsWith('WebRaft')) for (const pid of pids) process.kill(pid, 'SIGUSR2');
            },
          });
          nextKey.set(system.name, result.nextKey);
          const countersAfter = await system.counters?.();
          // Includes the writes that completed after the window (a few), so the per-write figures are slight overestimates.
          const perWrite = countersBefore && countersAfter && result.writes
            ? `  per write: ${Object.keys(countersAfter).map((k) => `${((countersAfter[k] - countersBefore[k]) / result.writes).toFixed(2)} ${k}`).join(', ')}`
            : '';
          const c = cell(system.name, inflight);
          const rate = (result.writes * 1000) / result.elapsedMs;
          const micros = (ticks: number) => (ticks / CLOCK_TICKS_PER_SECOND) * 1e6;
          const cpuMicros = micros(cpuEnd.user + cpuEnd.system - cpuStart.user - cpuStart.system);
          const systemShare = cpuMicros > 0 ? micros(cpuEnd.system - cpuStart.system) / cpuMicros : 0;
          c.rates.push(rate);
          c.cpuPerWrite.push(result.writes ? cpuMicros / result.writes : NaN);
          c.latencies.push(result.latencies);
          c.errors += result.errors;
          const sorted = result.latencies.slice().sort();
          console.log(
            `  repeat ${repeat} ${system.name.padEnd(7)} ${String(inflight).padStart(3)} in flight: ${rate.toFixed(0).padStart(6)} writes/s  p50 ${quantile(sorted, 0.5).toFixed(2)} ms  p99 ${quantile(sorted, 0.99).toFixed(2)} ms  CPU ${(cpuMicros / Math.max(1, result.writes)).toFixed(0)} µs/write (${(100 * systemShare).toFixed(0)}% kernel)${perWrite}${result.errors ? `  ${result.errors} errors (${result.errorSamples.join(' | ')})` : ''}`,
          );
        }
      }
    }
  } finally {
    await Promise.all(systems.map((s) => s.stop()));
  }

  // ---------------------------------------------------------------- summary
  console.log(`\nsummary (${REPEATS} repeats; ${loadLine()})\n`);
  const header = ['in flight', 'system', 'writes/s median [range]', 'p50 ms', 'p99 ms', 'CPU µs/write median [range]', 'vs etcd (writes/s, CPU)'];
  const rows: string[][] = [];
  for (const inflight of LEVELS) {
    const etcd = cells.get(`etcd/${inflight}`);
    for (const system of systems) {
      const c = cells.get(`${system.name}/${inflight}`);
      if (!c) continue;
      const all = new Float64Array(c.latencies.reduce((n, l) => n + l.length, 0));
      let offset = 0;
      for (const l of c.latencies) {
        all.set(l, offset);
        offset += l.length;
      }
      all.sort();
      const rate = median(c.rates);
      const cpu = median(c.cpuPerWrite);
      const versus = system.name !== 'etcd' && etcd ? `${(rate / median(etcd.rates)).toFixed(2)}x, ${(cpu / median(etcd.cpuPerWrite)).toFixed(2)}x` : '';
      rows.push([
        String(inflight),
        system.name,
        `${rate.toFixed(0)} [${Math.min(...c.rates).toFixed(0)}-${Math.max(...c.rates).toFixed(0)}]`,
        quantile(all, 0.5).toFixed(2),
        quantile(all, 0.99).toFixed(2),
        `${cpu.toFixed(0)} [${Math.min(...c.cpuPerWrite).toFixed(0)}-${Math.max(...c.cpuPerWrite).toFixed(0)}]`,
        versus + (c.errors ? ` (${c.errors} errors)` : ''),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => '  ' + r.map((cellText, i) => cellText.padEnd(widths[i])).join('  ');
  console.log(fmt(header));
  for (const r of rows) console.log(fmt(r));
  if (flags.keep || flags['cpu-prof'] || flags.perf) console.log(`\nlogs and data kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  if (flags.perf) await new Promise((r) => setTimeout(r, 1000)); // let perf write its files
}

/** One `perf record` per process for the measured window: DIR/<system>-<in flight>-r<repeat>-n<i>.data. */
function startPerf(dir: string, label: string, pids: number[]): ChildProcess[] {
  mkdirSync(dir, { recursive: true });
  return pids.map((pid, i) =>
    spawn('perf', ['record', '-q', '-e', 'cpu-clock:u', '-F', '999', '-p', String(pid), '-o', join(resolve(dir), `${label}-n${i + 1}.data`)], { stdio: 'ignore' }),
  );
}

main().catch((error) => {
  console.error('bench:tcp failed:', error);
  process.exit(1);
});
