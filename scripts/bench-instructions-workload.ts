/**
 * The workload of `npm run bench:instructions`: the bench:cluster setting of
 * 1024 proposals in flight (3 nodes in one process, 256-byte commands, JSON
 * round trip and setImmediate delivery), run for a fixed number of commits
 * with time frozen once a leader is elected, so that the work done does not
 * depend on how fast the machine runs (no timeouts, no heartbeats).
 * COMMITS (default 60000) sets the count.
 */
import type { Clock } from '../src/api/clock.js';
import { MemoryNetwork, MemoryRaft } from '../src/testing/memory-network.js';

const COMMITS = Number(process.env.COMMITS ?? 60000);
const IN_FLIGHT = 1024;
const PADDING = 'x'.repeat(256);

function command(i: number): { op: string; key: string; value: string } {
  const key = `key-${i}`;
  return { op: 'set', key, value: PADDING.slice(0, 256 - 32 - key.length) };
}

/** Real time until `freeze()`, then a fixed instant; timers still run but find nothing due. */
let frozenAt: number | null = null;
const clock: Clock = {
  now: () => frozenAt ?? performance.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

class BenchRaft extends MemoryRaft {
  override get heartbeatFrequency(): number {
    return 50;
  }
  override get heartbeatTimeout(): number {
    return 500;
  }
  override get electionTimeout(): number {
    return 500;
  }
}

const network = new MemoryNetwork('immediate');
const peers = ['a', 'b', 'c'];
const nodes = peers.map((id) => new BenchRaft(id, network, { peers, clock }));
while (!nodes.some((n) => n.isLeader)) await new Promise((resolve) => setTimeout(resolve, 10));
const leader = nodes.find((n) => n.isLeader) as BenchRaft;
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
