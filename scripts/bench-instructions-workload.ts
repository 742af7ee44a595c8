/**
 * The workload of `npm run bench:instructions`: the bench:cluster setting of
 * 1024 proposals in flight (3 nodes in one process, 256-byte commands, JSON
 * round trip and setImmediate delivery), run for a fixed number of commits
 * with time frozen once a leader is elected, so that the work done does not
 * depend on how fast the machine runs (no timeouts, no heartbeats).
 * COMMITS (default 60000) sets the count; BENCH_SETTING=1024+apply gives the
 * nodes bench:cluster's state machine (an apply listener and snapshots).
 */
import { realClock, type Clock } from '../src/api/clock.js';
import { MemoryNetwork } from '../src/testing/memory-network.js';
import { BenchRaft, command, waitForLeader } from './bench-load.js';

const COMMITS = Number(process.env.COMMITS ?? 60000);
const IN_FLIGHT = 1024;
const SETTING = process.env.BENCH_SETTING ?? '1024';
if (SETTING !== '1024' && SETTING !== '1024+apply') throw new Error(`BENCH_SETTING: "${SETTING}" is neither 1024 nor 1024+apply`);

/**
 * Real time until `frozenAt` is set, then that instant. Once time is frozen no
 * timer can come due, so none is set: real timers would wake every node each
 * heartbeat interval of real time for nothing, adding work that grows with how
 * long the run takes (valgrind slows it 50-fold) and shifting how proposals
 * batch, which made the count vary by about 2% from run to run.
 */
let frozenAt: number | null = null;
const real = realClock();
const NO_TIMER = Symbol('no timer while time is frozen');
const clock: Clock = {
  now: () => frozenAt ?? real.now(),
  setTimeout: (callback, delayMs) => (frozenAt === null ? real.setTimeout(callback, delayMs) : NO_TIMER),
  clearTimeout: (handle) => {
    if (handle !== NO_TIMER) real.clearTimeout(handle);
  },
};

const network = new MemoryNetwork('immediate');
const peers = ['a', 'b', 'c'];
const nodes = peers.map((id) => new BenchRaft(id, network, { peers, clock }, SETTING === '1024+apply'));
const leader = await waitForLeader(nodes);
await Promise.all(Array.from({ length: 64 }, (_, i) => leader.propose(command(-1 - i))));
frozenAt = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (next < COMMITS) await leader.propose(command(next++));
  }),
);
const applied = Math.min(...nodes.map((n) => n.status().lastApplied));
for (const node of nodes) node.end();
console.log(`commits ${COMMITS} (every node applied through index ${applied})`);
