/**
 * Shared helpers of the API contract tests: a fault-injecting in-memory
 * transport, a RaftInterface subclass with fast timing, polling waits and an
 * invariant monitor that samples status() on every event and on a timer.
 */
import { NodeInstance, RaftInterface, MemoryStorage } from 'webraft';
import type { RaftOptions, RaftStatus } from 'webraft';
import { mulberry32 } from '../../src/testing/seeded-random.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every few ms until it is true; rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  for (;;) {
    let ok = false;
    try {
      ok = check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(3);
  }
}

/** A deterministic PRNG (mulberry32). */
export const rng = mulberry32;

export const BODY_KEYS = [
  'requestVoteRequest',
  'requestVoteResponse',
  'appendEntriesRequest',
  'appendEntriesResponse',
  'installSnapshotRequest',
  'installSnapshotResponse',
  'timeoutNowRequest',
  'proposeRequest',
  'proposeResponse',
  'readIndexRequest',
  'readIndexResponse',
  'membershipChangeRequest',
  'membershipChangeResponse',
];

export function bodyKeyOf(payload: object): string[] {
  return Object.keys(payload).filter((k) => BODY_KEYS.includes(k));
}

export interface Faults {
  /** Probability a payload is lost. */
  drop?: number;
  /** Probability a payload is delivered twice. */
  duplicate?: number;
  /** Max random delay (ms) per delivery; random delays reorder messages. */
  delayMax?: number;
  /** Drop payloads for which this returns true. */
  filter?: (from: string, to: string, payload: Record<string, unknown>) => boolean;
}

export type Mode = 'sync' | 'microtask' | 'timeout';

export interface WriteRecord {
  from: string;
  to: string;
  payload: object;
  copy: unknown;
}

/** An in-memory network with fault injection and optional recording of every payload written. */
export class TestNet {
  readonly nodes = new Map<string, RaftInterface>();
  private readonly cut = new Set<string>();
  faults: Faults = {};
  record = false;
  readonly writes: WriteRecord[] = [];
  delivered = 0;
  /** Called with every payload just before it is handed to gotData. */
  onArrive?: (from: string, to: string, payload: Record<string, unknown>) => void;
  private readonly random: () => number;
  constructor(
    readonly mode: Mode = 'timeout',
    seed = 1,
  ) {
    this.random = rng(seed);
  }
  partition(a: string, b: string): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }
  isolate(address: string): void {
    for (const other of this.nodes.keys()) if (other !== address) this.partition(address, other);
    this.cut.add(`*>${address}`);
    this.cut.add(`${address}>*`);
  }
  heal(): void {
    this.cut.clear();
  }
  private isCut(from: string, to: string): boolean {
    return this.cut.has(`${from}>${to}`) || this.cut.has(`*>${to}`) || this.cut.has(`${from}>*`);
  }
  send(from: string, to: string, payload: object): void {
    if (this.record) this.writes.push({ from, to, payload, copy: JSON.parse(JSON.stringify(payload)) });
    const text = JSON.stringify(payload);
    const f = this.faults;
    if (f.filter && f.filter(from, to, JSON.parse(text))) return;
    if (f.drop && this.random() < f.drop) return;
    const copies = f.duplicate && this.random() < f.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) this.schedule(() => this.arrive(from, to, text));
  }
  private schedule(run: () => void): void {
    const delay = this.faults.delayMax ? Math.floor(this.random() * this.faults.delayMax) : 0;
    if (this.mode === 'sync' && delay === 0) run();
    else if (this.mode === 'microtask' && delay === 0) queueMicrotask(run);
    else setTimeout(run, delay);
  }
  private arrive(from: string, to: string, text: string): void {
    if (this.isCut(from, to)) return;
    const node = this.nodes.get(to);
    if (!node || node.ended) return;
    this.delivered++;
    const payload = JSON.parse(text);
    this.onArrive?.(from, to, payload);
    node.gotData(from, payload);
  }
}

export interface Timing {
  heartbeatFrequency?: number | (() => number);
  heartbeatTimeout?: number | (() => number);
  electionTimeout?: number | (() => number);
  messageTimeout?: number;
}

const FAST: Required<Omit<Timing, 'messageTimeout'>> & { messageTimeout: number } = {
  heartbeatFrequency: 10,
  heartbeatTimeout: 50,
  electionTimeout: 50,
  messageTimeout: 1500,
};

function read(v: number | (() => number)): number {
  return typeof v === 'function' ? v() : v;
}

export class TestInstance extends NodeInstance {
  endCalls = 0;
  constructor(
    address: string,
    readonly node: TestRaft,
  ) {
    super(address, node);
  }
  override write(payload: object): void {
    this.node.net.send(this.node.address, this.address, payload);
  }
  override get messageTimeout(): number {
    return this.node.timing.messageTimeout ?? FAST.messageTimeout;
  }
  override end(): void {
    this.endCalls++;
    super.end();
  }
}

/** A RaftInterface on a TestNet with fast (overridable) timing; counts createInstance calls. */
export class TestRaft extends RaftInterface {
  readonly created: TestInstance[] = [];
  readonly timing: Timing;
  constructor(
    address: string,
    readonly net: TestNet,
    options: RaftOptions = {},
    timing: Timing = {},
  ) {
    super(address, options);
    this.timing = timing;
    net.nodes.set(address, this);
  }
  createInstance(address: string): NodeInstance {
    const instance = new TestInstance(address, this);
    this.created.push(instance);
    return instance;
  }
  override get heartbeatFrequency(): number {
    return read(this.timing?.heartbeatFrequency ?? FAST.heartbeatFrequency);
  }
  override get heartbeatTimeout(): number {
    return read(this.timing?.heartbeatTimeout ?? FAST.heartbeatTimeout);
  }
  override get electionTimeout(): number {
    return read(this.timing?.electionTimeout ?? FAST.electionTimeout);
  }
  override get messageTimeout(): number {
    return this.timing?.messageTimeout ?? FAST.messageTimeout;
  }
}

export interface Cluster {
  net: TestNet;
  nodes: TestRaft[];
  storages: Map<string, MemoryStorage>;
  applied: Map<string, { index: number; command: unknown }[]>;
  leader(): TestRaft | undefined;
  byId(id: string): TestRaft;
  /** Builds (or rebuilds on its storage) node `id` and records its applies. */
  start(id: string, options?: RaftOptions, timing?: Timing): TestRaft;
  end(): void;
}

export function cluster(ids: string[], opts: { mode?: Mode; seed?: number; options?: RaftOptions; timing?: Timing; peers?: string[] } = {}): Cluster {
  const net = new TestNet(opts.mode ?? 'timeout', opts.seed ?? 1);
  const storages = new Map<string, MemoryStorage>();
  const applied = new Map<string, { index: number; command: unknown }[]>();
  const current = new Map<string, TestRaft>();
  const c: Cluster = {
    net,
    get nodes() {
      return [...current.values()];
    },
    storages,
    applied,
    leader: () => [...current.values()].find((n) => !n.ended && n.isLeader),
    byId: (id) => current.get(id) as TestRaft,
    start(id, options, timing) {
      let storage = storages.get(id);
      if (!storage) {
        storage = new MemoryStorage();
        storages.set(id, storage);
      }
      const node = new TestRaft(id, net, { peers: opts.peers ?? ids, storage, ...opts.options, ...options }, { ...opts.timing, ...timing });
      const list: { index: number; command: unknown }[] = [];
      applied.set(id, list);
      node.listen('apply', (entry, index) => {
        list.push({ index, command: entry.command });
      });
      current.set(id, node);
      return node;
    },
    end() {
      for (const n of current.values()) n.end();
    },
  };
  for (const id of ids) c.start(id);
  return c;
}

export async function waitLeader(c: Cluster, timeoutMs = 5000): Promise<TestRaft> {
  await waitFor(() => c.leader() !== undefined && c.nodes.filter((n) => !n.ended).every((n) => n.leaderID === c.leader()?.address), timeoutMs, 'a leader known to all');
  return c.leader() as TestRaft;
}

export const STATUS_KEYS = ['address', 'state', 'term', 'leader', 'commitIndex', 'lastApplied', 'firstIndex', 'lastIndex', 'snapshotIndex', 'voters', 'learners'];

/** Checks the contract's status() invariants and agreement with the getters; returns problems. */
export function checkStatus(node: RaftInterface, s: RaftStatus = node.status()): string[] {
  const p: string[] = [];
  for (const k of STATUS_KEYS) if (!(k in s)) p.push(`missing ${k}`);
  if (!(s.firstIndex <= s.lastIndex + 1)) p.push(`firstIndex ${s.firstIndex} > lastIndex ${s.lastIndex} + 1`);
  if (!(s.snapshotIndex <= s.lastIndex)) p.push(`snapshotIndex ${s.snapshotIndex} > lastIndex ${s.lastIndex}`);
  if (!(s.commitIndex <= s.lastIndex)) p.push(`commitIndex ${s.commitIndex} > lastIndex ${s.lastIndex}`);
  if (!(s.lastApplied <= s.commitIndex)) p.push(`lastApplied ${s.lastApplied} > commitIndex ${s.commitIndex}`);
  if (s.state !== node.state) p.push(`status().state ${s.state} != state ${node.state}`);
  if (s.term !== node.currentTerm) p.push(`status().term ${s.term} != currentTerm ${node.currentTerm}`);
  if (s.leader !== node.leaderID) p.push(`status().leader ${s.leader} != leaderID ${node.leaderID}`);
  if ((s.state === 'leader') !== node.isLeader) p.push(`isLeader ${node.isLeader} but state ${s.state}`);
  if (!['follower', 'candidate', 'leader'].includes(s.state)) p.push(`bad state ${s.state}`);
  if (!Array.isArray(s.learners) || !Array.isArray(s.voters)) p.push('voters/learners not arrays');
  if (s.address !== node.address) p.push('address mismatch');
  return p;
}

const EVENTS = ['apply', 'updated', 'refresh', 'join', 'leave', 'leader', 'candidate', 'follower', 'state changed', 'heartbeat timeout', 'start election', 'invalid message'];

/**
 * Samples status() on every event and every 2 ms; records invariant
 * violations, including term/commitIndex/lastApplied/snapshotIndex going back.
 */
export function monitor(node: RaftInterface): { problems: string[]; samples: number; stop: () => void } {
  const result = { problems: [] as string[], samples: 0, stop: () => {} };
  let last: RaftStatus | undefined;
  const sample = (where: string) => {
    if (node.ended) return;
    const s = node.status();
    result.samples++;
    for (const p of checkStatus(node, s)) result.problems.push(`${node.address} @${where}: ${p}`);
    if (last) {
      for (const k of ['term', 'commitIndex', 'lastApplied', 'snapshotIndex'] as const) {
        if (s[k] < last[k]) result.problems.push(`${node.address} @${where}: ${k} went back ${last[k]} -> ${s[k]}`);
      }
    }
    last = s;
  };
  const unlistens = EVENTS.map((e) => node.listen(e, () => sample(e)));
  const timer = setInterval(() => sample('timer'), 2);
  result.stop = () => {
    clearInterval(timer);
    for (const u of unlistens) u();
  };
  return result;
}

/** A rejected promise's error, or throws when it resolved. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await p;
  } catch (error) {
    return error as Error & { code?: unknown };
  }
  throw new Error('expected a rejection');
}
