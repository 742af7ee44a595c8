/**
 * Bounded memory under sustained load (CONTRACT: "With `snapshotThreshold` set,
 * the log stays bounded (a small multiple of the threshold)"): 100,000
 * pipelined proposals through the public API on a 3-node MemoryNetwork with
 * `snapshotThreshold: 1000`. The log length of every node is sampled as we go,
 * the state machine (a counter) must reach 100,000 everywhere, and the heap
 * must not grow with the number of proposals.
 */
import vm from 'node:vm';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from 'webraft';
import type { RaftOptions } from 'webraft';
import { MemoryNetwork, MemoryRaft } from '../../src/testing/memory-network.js';

const TOTAL = 100_000;
const IN_FLIGHT = 500;
const THRESHOLD = 1000;
/** The log may hold at most this many entries (a small multiple of the threshold). */
const MAX_LOG = 4 * THRESHOLD;
const HEAP_GROWTH_LIMIT = 50 * 1024 * 1024;

class Counter extends MemoryRaft {
  count = 0;
  constructor(address: string, network: MemoryNetwork, options: RaftOptions) {
    super(address, network, options);
    this.listen('apply', (entry: { command: unknown }) => {
      if ((entry.command as { inc?: number }).inc === 1) this.count++;
    });
    this.listen('refresh', (snapshot: { data: unknown }) => {
      this.count = (snapshot.data as { count: number }).count;
    });
  }
  override createSnapshot() {
    return { count: this.count };
  }
  override get heartbeatFrequency() {
    return 50;
  }
  override get heartbeatTimeout() {
    return 300;
  }
  override get electionTimeout() {
    return 300;
  }
  override get messageTimeout() {
    return 30_000;
  }
}

/** A forced full GC: `--expose-gc`'s global, or the same function obtained through V8 flags. */
function findGc(): { gc: (() => void) | null; reason: string } {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') return { gc: exposed, reason: '' };
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return { gc: gc as () => void, reason: '' };
    return { gc: null, reason: 'gc() is not exposed (run node with --expose-gc) and V8 did not expose it at run time' };
  } catch (error) {
    return { gc: null, reason: `gc() is not exposed (run node with --expose-gc): ${(error as Error).message}` };
  }
}

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('bounded memory', () => {
  it(`${TOTAL} pipelined proposals keep the log bounded by snapshots and the heap flat`, async () => {
    const network = new MemoryNetwork('immediate');
    const peers = ['a', 'b', 'c'];
    const nodes = peers.map((id) => new Counter(id, network, { peers, snapshotThreshold: THRESHOLD, storage: new MemoryStorage() }));
    const { gc, reason } = findGc();
    try {
      const started = Date.now();
      while (!nodes.some((n) => n.isLeader)) {
        if (Date.now() - started > 10_000) throw new Error('no leader within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const leader = nodes.find((n) => n.isLeader) as Counter;

      let maxLog = 0;
      let maxLogAt = '';
      const sample = (when: number) => {
        for (const n of nodes) {
          const s = n.status();
          const length = s.lastIndex - s.firstIndex + 1;
          if (length > maxLog) {
            maxLog = length;
            maxLogAt = `${n.address} after ${when} proposals (first ${s.firstIndex}, last ${s.lastIndex})`;
          }
        }
      };

      let issued = 0;
      let done = 0;
      let failed: unknown = null;
      let heapAt20k = 0;
      let heapAtEnd = 0;
      await new Promise<void>((resolve, reject) => {
        const pump = () => {
          while (issued < TOTAL && issued - done < IN_FLIGHT && failed === null) {
            issued++;
            // Spread the load: most proposals on the leader, some forwarded by followers.
            const proposer = issued % 10 === 0 ? nodes[issued % 3] : leader;
            proposer.propose({ inc: 1 }).then(
              () => {
                done++;
                if (done % 250 === 0) sample(done);
                if (done === 20_000 && gc) heapAt20k = heapAfterGc(gc);
                if (done === TOTAL) resolve();
                else pump();
              },
              (error: unknown) => {
                failed = error;
                reject(error);
              },
            );
          }
        };
        pump();
      });

      // Let every node apply everything (followers may trail the leader).
      const deadline = Date.now() + 20_000;
      while (!nodes.every((n) => n.count === TOTAL && n.status().lastApplied === leader.status().commitIndex)) {
        if (Date.now() > deadline) break;
        sample(TOTAL);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      sample(TOTAL);
      if (gc) heapAtEnd = heapAfterGc(gc);

      for (const n of nodes) {
        const s = n.status();
        expect(n.count, `${n.address} counter (status ${JSON.stringify(s)})`).toBe(TOTAL);
        expect(s.firstIndex, `${n.address} firstIndex`).toBeGreaterThan(TOTAL - MAX_LOG);
        expect(s.snapshotIndex, `${n.address} snapshotIndex`).toBeGreaterThan(0);
      }
      expect(maxLog, `longest log: ${maxLogAt}`).toBeLessThan(MAX_LOG);
      console.log(`bounded-memory: longest log ${maxLog} entries (${maxLogAt})`);
      if (gc) {
        const growth = heapAtEnd - heapAt20k;
        console.log(`bounded-memory: heap after GC ${(heapAt20k / 2 ** 20).toFixed(1)} MB at 20k proposals, ${(heapAtEnd / 2 ** 20).toFixed(1)} MB at ${TOTAL} (growth ${(growth / 2 ** 20).toFixed(1)} MB)`);
        expect(growth, 'heap growth between 20k and 100k proposals').toBeLessThan(HEAP_GROWTH_LIMIT);
      } else {
        console.log(`bounded-memory: heap assertion skipped: ${reason}`);
      }
    } finally {
      for (const n of nodes) n.end();
    }
  });
});
