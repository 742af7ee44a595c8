/**
 * The client workload: `clients` sequential clients (each one operation at a
 * time, as Jepsen's processes), together about `rate` operations per second,
 * on a rotating set of registers: `activeKeys` keys are in use at a time, and
 * a key that has had `opsPerKey` operations is retired for a fresh one, so each
 * key's sub-history stays short and the checker's cost stays linear (Jepsen's
 * "independent" keys).
 *
 * Operations: 40% read, 30% write of a value never written before (a global
 * counter), 30% cas from the value the client last saw on that key (or a
 * recent value, or absent) to a fresh value.
 *
 * Each client has a home node (client i -> slot i mod slots) and talks to it
 * while it is a voter and reachable; otherwise to a random running voter. So
 * every node serves clients, followers included.
 */
import { SeededRandom } from '../../src/testing/seeded-random.js';
import type { Cluster } from './cluster.js';
import type { Outcome } from './connection.js';
import { History, type OpRecord, type OpType } from './history.js';
import type { RegisterRequest, Response } from './protocol.js';

export interface WorkloadOptions {
  clients: number;
  /** Target operations per second, all clients together. */
  rate: number;
  /** A client gives up on an operation after this (ms). */
  timeoutMs: number;
  seed: number;
  activeKeys: number;
  opsPerKey: number;
}

interface ActiveKey {
  name: string;
  ops: number;
  /** The last values written to it (for cas). */
  recent: string[];
}

export class Workload {
  readonly history = new History();
  /** Every key used, in order of first use. */
  readonly keys: string[] = [];
  private readonly active: ActiveKey[] = [];
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private nextValue = 1;
  private nextKey = 0;
  private readonly rng: SeededRandom;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: WorkloadOptions,
    private readonly now: () => number,
  ) {
    this.rng = new SeededRandom(options.seed);
    for (let i = 0; i < options.activeKeys; i++) this.active.push(this.freshKey());
  }

  start(): void {
    for (let c = 0; c < this.options.clients; c++) this.loops.push(this.client(c, this.rng.fork()));
  }

  /** Stops issuing operations and waits for those in flight (each ends by its timeout at the latest). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /**
   * After the final heal: reads every key ever used through every running
   * voter (linearizable reads, recorded like any other), so an acknowledged
   * write that was lost shows up as a read of an older value.
   */
  async finalReads(): Promise<void> {
    const voters = this.cluster.runningVoters();
    const queue = [...this.keys];
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        for (const node of voters) await this.perform('final', node, { type: 'read', key }, 10_000);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }

  private freshKey(): ActiveKey {
    const key = { name: `k${this.nextKey++}`, ops: 0, recent: [] };
    this.keys.push(key.name);
    return key;
  }

  private async client(c: number, rng: SeededRandom): Promise<void> {
    const name = `c${c}`;
    const lastSeen = new Map<string, string | null>();
    // Starts follow a Poisson process of rate/clients per client, but never overlap
    // the client's previous operation (a client is sequential).
    const meanGapMs = (this.options.clients * 1000) / this.options.rate;
    let nextStart = this.now();
    while (!this.stopped) {
      nextStart = Math.max(this.now(), nextStart + -Math.log(1 - rng.next()) * meanGapMs);
      await sleep(nextStart - this.now());
      if (this.stopped) break;
      const node = this.chooseNode(c, rng);
      if (node < 0) {
        await sleep(50);
        continue;
      }
      const slot = rng.int(this.active.length);
      const key = this.active[slot];
      if (++key.ops >= this.options.opsPerKey) this.active[slot] = this.freshKey();
      const choice = rng.next();
      let request: RegisterRequest;
      if (choice < 0.4) request = { type: 'read', key: key.name };
      else if (choice < 0.7) request = { type: 'write', key: key.name, value: String(this.nextValue++) };
      else {
        const seen = lastSeen.get(key.name);
        const expected = seen !== undefined && rng.chance(0.7) ? seen : key.recent.length > 0 && rng.chance(0.8) ? rng.pick(key.recent) : null;
        request = { type: 'cas', key: key.name, expected, value: String(this.nextValue++) };
      }
      if (request.type !== 'read') {
        key.recent.push(request.value);
        if (key.recent.length > 5) key.recent.shift();
      }
      const op = await this.perform(name, node, request, this.options.timeoutMs);
      if (op?.outcome === 'ok') {
        if (op.type === 'read') lastSeen.set(op.key, op.result ?? null);
        else if (op.type === 'write' || op.swapped) lastSeen.set(op.key, op.value ?? null);
      }
    }
  }

  /** The client's home node when it is a running voter, else a random running voter; -1 when none. */
  private chooseNode(c: number, rng: SeededRandom): number {
    const home = c % this.cluster.slots.length;
    const voters = this.cluster.runningVoters().filter((i) => this.cluster.client(i)?.isOpen);
    if (voters.includes(home)) return home;
    return voters.length > 0 ? rng.pick(voters) : -1;
  }

  /** Sends one operation to `node` and records it; null when nothing was sent. */
  private async perform(client: string, node: number, request: RegisterRequest, timeoutMs: number): Promise<OpRecord | null> {
    const connection = this.cluster.client(node);
    if (!connection) return null;
    const start = this.now();
    let record: OpRecord | null = null;
    const outcome = await connection.request(request, timeoutMs, (response, at) => {
      if (record && response.ok) upgradeLate(record, response, at);
    });
    if (outcome.kind === 'unavailable') return null; // never sent: not an operation
    record = this.history.add({
      client,
      node: this.cluster.slots[node].name,
      type: request.type as OpType,
      key: request.key,
      ...(request.type !== 'read' ? { value: request.value } : {}),
      ...(request.type === 'cas' ? { expected: request.expected } : {}),
      start,
      ...settle(request.type, outcome),
    });
    return record;
  }
}

/** The outcome fields of a record. */
function settle(type: OpType, outcome: Outcome): Pick<OpRecord, 'end' | 'outcome' | 'result' | 'swapped' | 'error'> {
  if (outcome.kind === 'ok') {
    const { value, swapped } = outcome.response;
    return { end: outcome.at, outcome: 'ok', ...(type === 'read' ? { result: value ?? null } : {}), ...(type === 'cas' ? { swapped } : {}) };
  }
  const error = outcome.kind === 'error' ? outcome.code : outcome.kind;
  // A read changes nothing, so a read without an answer is simply a failed read.
  return { end: outcome.at, outcome: type === 'read' ? 'fail' : 'info', error };
}

function upgradeLate(record: OpRecord, response: Extract<Response, { ok: true }>, at: number): void {
  record.outcome = 'ok';
  record.end = at;
  record.late = true;
  delete record.error;
  if (record.type === 'read') record.result = response.value ?? null;
  if (record.type === 'cas') record.swapped = response.swapped;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
