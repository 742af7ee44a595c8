/**
 * A live three-node cluster on a virtual clock for attack tests: inject a
 * hostile payload into one node as if it arrived from some address, and check
 * the three things every attack must leave true:
 *
 * 1. the node stays up, rejects the input with a `code` and changes no state;
 * 2. the cluster still elects a leader and commits afterwards;
 * 3. memory stays bounded (heap after a full GC within a stated margin).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { NodeInstance, RaftOptions, RaftStatus } from 'webraft';
import { MemoryNetwork, MemoryNodeInstance, MemoryRaft } from '../../src/testing/memory-network.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** Heap in use after a full garbage collection, in bytes. */
export function heapAfterGc(): number {
  fullGc();
  fullGc();
  return process.memoryUsage().heapUsed;
}

/** What a node reports and what it did, for "changes no state" comparisons. */
export interface NodeState {
  status: Omit<RaftStatus, 'lastApplied'>;
  instances: string[];
}

/** A MemoryRaft that records the instances it creates and can make createInstance throw. */
export class AttackedRaft extends MemoryRaft {
  readonly created: string[] = [];
  readonly invalid: { from: string; code: string; message: string }[] = [];
  readonly errors: unknown[] = [];
  /** Addresses for which createInstance throws. */
  readonly refuse = new Set<string>();

  constructor(address: string, network: MemoryNetwork, options: RaftOptions) {
    super(address, network, options);
    this.listen('invalid message', (from: string, error: Error & { code?: string }) => {
      this.invalid.push({ from, code: String(error.code), message: error.message });
    });
    this.listen('error', (error: unknown) => void this.errors.push(error));
  }

  override createInstance(address: string): NodeInstance {
    this.created.push(address);
    if (this.refuse.has(address)) throw new Error(`createInstance refuses ${address}`);
    return new MemoryNodeInstance(address, this, this.network);
  }

  observed(): NodeState {
    const { lastApplied: _lastApplied, ...status } = this.status();
    return { status, instances: [...this.created].sort() };
  }
}

export interface AttackCluster {
  clock: VirtualClock;
  network: MemoryNetwork;
  nodes: AttackedRaft[];
  leader(): AttackedRaft | undefined;
  /** Runs virtual time forward. */
  run(ms: number): Promise<void>;
  /** Waits (virtual time) until `check` holds; throws after `ms`. */
  until(check: () => boolean, ms?: number, what?: string): Promise<void>;
  /** The cluster elects a leader (a new one: the current leader is isolated first, then healed) and commits a fresh proposal on every node. */
  stillWorks(): Promise<void>;
  end(): void;
}

/**
 * Three nodes a, b, c on an immediate in-memory network and a virtual clock;
 * returns once a leader committed a proposal on every node. `refuse` makes a
 * node's createInstance throw for the given peers from its start.
 */
export async function attackCluster(options: RaftOptions = {}, seed = 1, refuse: Record<string, string[]> = {}): Promise<AttackCluster> {
  const clock = new VirtualClock();
  const network = new MemoryNetwork('immediate');
  const random = new SeededRandom(seed);
  const peers = ['a', 'b', 'c'];
  const nodes = peers.map((id) => new AttackedRaft(id, network, { peers, clock, random: random.fork().fn, ...options }));
  // Instances are created once a node has loaded its storage, after its constructor.
  for (const node of nodes) for (const peer of refuse[node.address] ?? []) node.refuse.add(peer);
  const leader = () => nodes.find((n) => !n.ended && n.isLeader);
  const run = (ms: number) => clock.runFor(ms);
  const until = async (check: () => boolean, ms = 10_000, what = 'condition') => {
    for (let waited = 0; !check(); waited += 50) {
      if (waited >= ms) throw new Error(`${what} not reached within ${ms} ms of virtual time (${nodes.map((n) => `${n.address}: ${n.state} term ${n.currentTerm}${n.ended ? ' ended' : ''}`).join(', ')})`);
      await clock.runFor(50);
    }
  };
  let proposals = 0;
  const commitEverywhere = async () => {
    const id = `check-${++proposals}`;
    const applied = new Set<string>();
    const unlisten = nodes.map((n) => n.listen('apply', (entry) => {
      if ((entry.command as { id?: string }).id === id) applied.add(n.address);
    }));
    await until(() => leader() !== undefined, 10_000, 'a leader');
    const done = leader()!.propose({ id });
    let settled = false;
    done.then(() => (settled = true), () => (settled = true));
    await until(() => settled && applied.size === nodes.filter((n) => !n.ended).length, 10_000, `proposal ${id} applied everywhere`);
    await done;
    for (const u of unlisten) u();
  };
  const cluster: AttackCluster = {
    clock,
    network,
    nodes,
    leader,
    run,
    until,
    async stillWorks() {
      await commitEverywhere();
      const old = leader()!;
      network.isolate(old.address);
      await until(() => nodes.some((n) => n !== old && n.isLeader), 10_000, 'a new leader while the old one is cut off');
      network.heal();
      await commitEverywhere();
    },
    end() {
      for (const n of nodes) n.end();
    },
  };
  await commitEverywhere();
  return cluster;
}
