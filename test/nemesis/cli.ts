/**
 * `npm run nemesis -- [flags]`: a Jepsen-style run against a real
 * multi-process WebRaft cluster over TCP. See docs/nemesis.md.
 *
 *   --time S              seconds of workload under faults (default 60)
 *   --nodes N             initial voters (default 3)
 *   --faults a,b,...      partition,pause,crash,clock,membership (default all), or none
 *   --seed S              the fault schedule's seed (default random; printed)
 *   --lease-reads on|off|auto   lease-based reads (default auto: decided by the seed)
 *   --rate R              target operations per second (default 200)
 *   --clients C           concurrent clients (default 3 per node)
 *   --timeout MS          a client gives up on an operation after this (default 2500)
 *   --snapshot-threshold  entries between snapshots (default 500)
 *   --heartbeat-ms MS     the nodes' heartbeatFrequency (default 100)
 *   --election-timeout-ms MS  the nodes' heartbeatTimeout and electionTimeout (default 1000)
 *   --results DIR         results root (default tmp/nemesis); the run writes DIR/seed-<seed>/
 *   --keep-data           keep the nodes' data directories
 *   --unsafe-local-reads  the planted bug: reads skip readBarrier(); the run must report a violation
 *
 * Exit code 0 when the run found no anomaly, 1 otherwise, 2 on bad flags.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_RESULTS_ROOT, runNemesis } from './run.js';
import { FAULT_GROUPS, type FaultGroup } from './schedule.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '60' },
    nodes: { type: 'string', default: '3' },
    faults: { type: 'string', default: FAULT_GROUPS.join(',') },
    seed: { type: 'string' },
    'lease-reads': { type: 'string', default: 'auto' },
    rate: { type: 'string', default: '200' },
    clients: { type: 'string' },
    timeout: { type: 'string', default: '2500' },
    'snapshot-threshold': { type: 'string', default: '500' },
    'heartbeat-ms': { type: 'string', default: '100' },
    'election-timeout-ms': { type: 'string', default: '1000' },
    results: { type: 'string', default: DEFAULT_RESULTS_ROOT },
    'keep-data': { type: 'boolean', default: false },
    'unsafe-local-reads': { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`nemesis: ${message}`);
  process.exit(2);
}
const positive = (name: string, text: string): number => {
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0)) fail(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return n;
};

const faults = values.faults === 'none' ? [] : values.faults.split(',').filter(Boolean);
for (const f of faults) if (!(FAULT_GROUPS as readonly string[]).includes(f)) fail(`unknown fault ${JSON.stringify(f)} (known: ${FAULT_GROUPS.join(', ')}, none)`);
const seed = values.seed !== undefined ? Math.trunc(positive('seed', values.seed)) : Math.floor(Math.random() * 2 ** 31);
const nodes = Math.trunc(positive('nodes', values.nodes));
if (nodes < 3) fail('--nodes must be at least 3');
const lease = values['lease-reads'];
if (!['on', 'off', 'auto'].includes(lease)) fail('--lease-reads is on, off or auto');
// auto: odd seeds run with lease reads, so a series of seeds covers both.
const leaseReads = lease === 'on' || (lease === 'auto' && seed % 2 === 1);

// Ctrl-C: kill the node processes before leaving.
const interrupted = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`nemesis: ${signal}, stopping the cluster`);
    interrupted.abort();
    setTimeout(() => process.exit(130), 3000).unref();
  });
}

const argv = process.argv.slice(2);
const command = `npm run nemesis -- ${argv.filter((a, i) => a !== '--seed' && argv[i - 1] !== '--seed').join(' ')} --seed ${seed}`.replace(/\s+/g, ' ');
const report = await runNemesis({
  seed,
  timeSec: positive('time', values.time),
  nodes,
  faults: faults as FaultGroup[],
  leaseReads,
  unsafeLocalReads: values['unsafe-local-reads'],
  rate: positive('rate', values.rate),
  clients: values.clients !== undefined ? Math.trunc(positive('clients', values.clients)) : 3 * nodes,
  timeoutMs: positive('timeout', values.timeout),
  snapshotThreshold: Math.trunc(positive('snapshot-threshold', values['snapshot-threshold'])),
  heartbeatMs: positive('heartbeat-ms', values['heartbeat-ms']),
  electionTimeoutMs: positive('election-timeout-ms', values['election-timeout-ms']),
  signal: interrupted.signal,
  resultsRoot: values.results,
  keepData: values['keep-data'],
  progressEveryMs: positive('time', values.time) > 300 ? 10_000 : 2000,
  log: (line) => console.log(line),
  command,
});
console.log(`\n${report.table}\n`);
console.log(report.ok ? `OK: no anomaly (seed ${seed})` : `FAILED: ${report.anomalies.length} anomalies (seed ${seed}); repeat with: ${command}`);
console.log(`report: ${report.resultsDir}/report.html`);
process.exit(report.ok ? 0 : 1);
