import { describe, expect, it } from 'vitest';
import { MemoryStorage, NodeInstance, RaftInterface } from 'webraft';
import type { RaftOptions } from 'webraft';
import { checkKvLinearizability, type KvGet, type KvOperation } from '../../src/testing/linearizability.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * Key-value histories recorded through the public API (propose for writes,
 * readBarrier + local read for reads) on a 3-node cluster whose network drops,
 * duplicates, delays and reorders payloads and is partitioned from time to
 * time; one node is crashed and restarted from its storage. The recorded
 * history must be linearizable (checked per key); timed-out writes are
 * indeterminate operations.
 *
 * Time is virtual (`VirtualClock`): timers, network delays and the nemesis
 * schedule all run on it, so a seed gives the same history on any machine,
 * however slow or loaded.
 */

interface Net {
  rng: SeededRandom;
  clock: VirtualClock;
  nodes: Map<string, KvRaft>;
  cut: Set<string>;
  dropRate: number;
  duplicateRate: number;
}

class FaultyInstance extends NodeInstance {
  constructor(address: string, raft: RaftInterface, private readonly net: Net) {
    super(address, raft);
  }
  override get messageTimeout(): number {
    return 400;
  }
  override write(payload: object): void {
    const text = JSON.stringify(payload);
    const from = this.raft.address;
    const to = this.address;
    const net = this.net;
    const copies = net.rng.chance(net.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      if (net.rng.chance(net.dropRate)) continue;
      net.clock.setTimeout(() => {
        if (net.cut.has(`${from}>${to}`)) return;
        const node = net.nodes.get(to);
        if (node && !node.ended) node.gotData(from, JSON.parse(text));
      }, net.rng.int(4));
    }
  }
}

class KvRaft extends RaftInterface {
  readonly data = new Map<string, string>();
  constructor(address: string, private readonly net: Net, options: RaftOptions) {
    super(address, options);
    this.listen('apply', (entry) => {
      const command = entry.command as { key: string; value: string };
      this.data.set(command.key, command.value);
    });
    this.listen('refresh', (snapshot) => {
      this.data.clear();
      for (const [k, v] of Object.entries(snapshot.data as Record<string, string>)) this.data.set(k, v);
    });
    net.nodes.set(address, this);
  }
  createInstance(address: string): NodeInstance {
    return new FaultyInstance(address, this, this.net);
  }
  override createSnapshot(): unknown {
    return Object.fromEntries(this.data);
  }
  override get heartbeatFrequency(): number {
    return 10;
  }
  override get heartbeatTimeout(): number {
    return 60;
  }
  override get electionTimeout(): number {
    return 60;
  }
}

async function runHistory(seed: number, durationMs: number): Promise<{ history: KvOperation[]; completed: number; timedOut: number }> {
  const rng = new SeededRandom(seed);
  const clock = new VirtualClock();
  const net: Net = { rng, clock, nodes: new Map(), cut: new Set(), dropRate: 0.05, duplicateRate: 0.05 };
  const peers = ['a', 'b', 'c'];
  const storages = new Map(peers.map((p) => [p, new MemoryStorage()]));
  const options = (p: string): RaftOptions => ({ peers, storage: storages.get(p), snapshotThreshold: 50, random: () => rng.next(), clock });
  for (const p of peers) new KvRaft(p, net, options(p));

  let operationOrder = 0;
  const tick = () => ++operationOrder;
  const history: KvOperation[] = [];
  const keys = ['k0', 'k1', 'k2'];
  let stop = false;
  let writeCounter = 0;

  async function client(name: string): Promise<void> {
    while (!stop) {
      const node = net.nodes.get(rng.pick(peers));
      if (!node || node.ended) {
        await clock.sleep(5);
        continue;
      }
      const key = rng.pick(keys);
      if (rng.chance(0.5)) {
        const value = `${name}-${writeCounter++}`;
        const op: KvOperation = { client: name, kind: 'put', key, value, calledAt: tick(), returnedAt: Infinity };
        history.push(op);
        try {
          await node.propose({ key, value });
          op.returnedAt = tick();
        } catch {
          op.returnedAt = Infinity; // indeterminate
          await clock.sleep(1);
        }
      } else {
        const op: KvGet = { client: name, kind: 'get', key, calledAt: tick(), returnedAt: Infinity };
        try {
          await node.readBarrier();
          op.result = node.data.get(key) ?? null;
          op.returnedAt = tick();
          history.push(op);
        } catch {
          // A failed read observed nothing: leave it out of the history.
          await clock.sleep(1);
        }
      }
    }
  }

  async function nemesis(): Promise<void> {
    const end = clock.now() + durationMs;
    while (clock.now() < end) {
      await clock.sleep(150 + rng.int(150));
      const action = rng.int(3);
      if (action === 0) {
        const victim = rng.pick(peers);
        for (const other of peers) if (other !== victim) { net.cut.add(`${victim}>${other}`); net.cut.add(`${other}>${victim}`); }
      } else if (action === 1) {
        net.cut.clear();
      } else {
        const victim = rng.pick(peers);
        net.nodes.get(victim)?.end();
        await clock.sleep(50);
        new KvRaft(victim, net, options(victim));
      }
    }
    net.cut.clear();
    stop = true;
  }

  const work = Promise.all([nemesis(), client('c1'), client('c2'), client('c3'), client('c4')]);
  let finished = false;
  void work.then(() => (finished = true));
  // Run virtual time until the nemesis stops the clients and their last operations return.
  while (!finished) await clock.runFor(100);
  await work;
  for (const node of net.nodes.values()) node.end();
  const completed = history.filter((op) => op.returnedAt !== Infinity).length;
  return { history, completed, timedOut: history.length - completed };
}

describe('linearizable key-value histories under faults (ReadIndex reads, exactly-once writes)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    it(`seed ${seed}: the recorded history is linearizable per key`, async () => {
      const { history, completed } = await runHistory(seed, 5000);
      console.log(`kv-cluster seed ${seed}: ${completed} completed, ${history.length - completed} indeterminate`);
      expect(completed, `seed ${seed}: too few operations completed to say anything`).toBeGreaterThan(50);
      const result = checkKvLinearizability(history);
      expect({ ok: result.ok, failedKeys: result.failedKeys, undecidedKeys: result.undecidedKeys }, `seed ${seed}: not linearizable on keys ${result.failedKeys.join(', ')}`).toEqual({ ok: true, failedKeys: [], undecidedKeys: [] });
    }, 30_000);
  }
});
