/**
 * The pieces the simulation puts around each shipped RaftInterface: a
 * drifting clock on the simulation's virtual time, a transport into the
 * simulated network, and a storage with save delays, failures and crashes.
 * Nothing here re-implements the node's loop: the simulation runs the
 * RaftInterface users run, on these.
 */
import type { Clock, TimerHandle } from '../../src/api/clock.js';
import { CORE, NEW_CLIENT_ID } from '../../src/api/internals.js';
import { NodeInstance } from '../../src/api/node-instance.js';
import { RaftInterface, type RaftOptions } from '../../src/api/raft-interface.js';
import { cloneJson } from '../../src/core/json.js';
import type { RaftCore } from '../../src/core/raft.js';
import type { HardState, LogEntry, Snapshot } from '../../src/core/types.js';
import type { SeededRandom } from '../../src/testing/seeded-random.js';
import type { Storage, StorageUpdate, StoredState } from '../../src/storage/storage.js';

/** What the simulation offers the pieces of a node: its virtual time and event queue. */
export interface SimHost {
  /** Global virtual time in ms. */
  readonly now: number;
  schedule(at: number, event: SimEvent): void;
  /** A payload a node's instance writes to `to`. */
  send(from: string, to: string, payload: object): void;
  /** How long the next save takes (virtual ms), and whether it fails. */
  nextSave(): { delay: number; fails: boolean };
  /** A save became durable: check and record what it wrote. */
  persisted(node: SimNode, update: StorageUpdate, durable: Durable): void;
}

export interface SimTimer {
  callback: () => void;
  cancelled: boolean;
  clock: SimClock;
}

export type SimEvent =
  | { kind: 'deliver'; from: string; to: string; text: string; epoch: number; /** A replay, or held back by a pattern: dropped once the network heals. */ replay?: true; lost?: true }
  | { kind: 'saved'; storage: SimStorage; save: InflightSave }
  | { kind: 'timer'; timer: SimTimer }
  | { kind: 'task'; callback: () => void; clock: SimClock }
  | { kind: 'chaos' }
  | { kind: 'restart'; node: number }
  | { kind: 'read'; node: number; generation: number }
  | { kind: 'crash'; node: number; generation: number; restartAfter: number; loseLastSends: boolean; loseSaves?: boolean; then?: () => void };

/** A node's disk: everything its completed saves wrote. */
export interface Durable {
  hardState: HardState | null;
  snapshot: Snapshot | null;
  entries: LogEntry[];
}

/** One applied command in a node's state machine. */
export interface AppliedCommand {
  i: number;
  id: string;
}

export interface PendingProposal {
  id: string;
  proposedAt: number;
  timeout: number;
}

/** The error an injected save failure rejects with. */
export class InjectedSaveFailure extends Error {
  constructor() {
    super('injected save failure (the update may or may not have landed)');
  }
}

/** One node (address) of the simulated cluster, across its runs (incarnations). */
export class SimNode {
  alive = false;
  /** Run number; bumped on every start. */
  generation = 0;
  raft!: SimRaft;
  clock!: SimClock;
  storage: SimStorage;
  /** The state machine: admitted commands in apply order (this run). */
  machine: AppliedCommand[] = [];
  machineIds = new Set<string>();
  /** Proposals in flight in this run, by command id. */
  pending = new Map<string, PendingProposal>();
  // Monotonic within one run.
  maxTerm = 0;
  maxCommit = 0;
  maxApplied = 0;
  /** Draws this node's messageTimeout on every read when set (see SimRaft.messageTimeout). */
  messageTimeoutRandom: SeededRandom | null = null;
  /** Bootstrap peers when the storage is empty: the initial voters, or [] for a spare or a wiped node. */
  peers: string[] = [];
  /** Removed and stopped for good (until re-added): never restarted by a heal. */
  retired = false;
  /** Incremented when the storage is wiped: messages of an earlier incarnation are dropped. */
  epoch = 0;
  /** The configuration object last checked (the core replaces it whenever it changes). */
  checkedConfig: unknown = null;
  checkedLast = -1;
  checkedSnapshot = -1;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly drift: number,
    readonly offset: number,
    readonly rng: SeededRandom,
    host: SimHost,
  ) {
    this.storage = new SimStorage(host, this);
  }

  /** The running core (read-only use: the invariant checks). */
  get core(): RaftCore {
    return this.raft[CORE];
  }

  /** The node's own clock (integer ms) at global virtual time `t`. */
  localNow(t: number): number {
    return Math.floor(this.offset + t * this.drift);
  }

  /** Earliest global time at which the local clock reads at least `local`. */
  globalFor(local: number, now: number): number {
    if (!Number.isFinite(local)) return Infinity;
    let g = Math.max(now, Math.ceil((local - this.offset) / this.drift));
    while (this.localNow(g) < local) g++;
    return g;
  }
}

/** One run's clock: the node's drifting view of virtual time; dead once that run crashed. */
export class SimClock implements Clock {
  dead = false;

  constructor(
    private readonly host: SimHost,
    private readonly node: SimNode,
  ) {}

  now(): number {
    return this.node.localNow(this.host.now);
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: SimTimer = { callback, cancelled: false, clock: this };
    const local = this.now() + Math.max(0, Math.ceil(delayMs));
    this.host.schedule(this.node.globalFor(local, this.host.now), { kind: 'timer', timer });
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as SimTimer).cancelled = true;
  }

  setImmediate(callback: () => void): void {
    this.host.schedule(this.host.now, { kind: 'task', callback, clock: this });
  }
}

export interface InflightSave {
  update: StorageUpdate;
  resolve: () => void;
  reject: (error: Error) => void;
  fails: boolean;
}

/**
 * An honest storage model: a save is durable only when its event fires; saves
 * complete in call order; a crash loses the saves in flight, or lands a prefix
 * of them without the node learning of it; an injected failure rejects a save
 * that may or may not have landed (the node must then stop: its disk is unknown).
 */
export class SimStorage implements Storage {
  durable: Durable = { hardState: null, snapshot: null, entries: [] };
  private inflight: InflightSave[] = [];
  private lastDoneAt = 0;

  constructor(
    private readonly host: SimHost,
    private readonly node: SimNode,
  ) {}

  load(): Promise<StoredState> {
    return Promise.resolve(cloneDurable(this.durable));
  }

  save(update: StorageUpdate): Promise<void> {
    return new Promise((resolve, reject) => {
      const { delay, fails } = this.host.nextSave();
      // The caller may reuse the update, snapshot and hard state objects once save returns (entries are immutable).
      const copy: StorageUpdate = {
        snapshot: update.snapshot ? (cloneJson(update.snapshot) as unknown as Snapshot) : undefined,
        entries: update.entries ? [...update.entries] : undefined,
        hardState: update.hardState ? { ...update.hardState } : undefined,
      };
      const save: InflightSave = { update: copy, resolve, reject, fails };
      this.inflight.push(save);
      const at = Math.max(this.lastDoneAt, this.host.now + delay);
      this.lastDoneAt = at;
      this.host.schedule(at, { kind: 'saved', storage: this, save });
    });
  }

  /** The save's event fired: it is durable now (or failed), unless a crash took it first. */
  complete(save: InflightSave, landsOnFailure: boolean): void {
    if (this.inflight[0] !== save) return;
    this.inflight.shift();
    if (save.fails) {
      if (landsOnFailure) this.persist(save.update);
      save.reject(new InjectedSaveFailure());
      return;
    }
    this.persist(save.update);
    save.resolve();
  }

  /** The process died: the first `landed` saves in flight reached the disk, the rest are lost. */
  crash(landed: number): void {
    for (const save of this.inflight.slice(0, landed)) this.persist(save.update);
    this.inflight = [];
  }

  get savesInFlight(): number {
    return this.inflight.length;
  }

  /** What MemoryStorage.save does (src/storage/storage.ts's contract), then the simulation's checks. */
  private persist(update: StorageUpdate): void {
    const d = this.durable;
    if (update.snapshot) {
      const snapshot = update.snapshot;
      const first = (d.snapshot?.index ?? 0) + 1;
      const kept = d.entries[snapshot.index - first];
      d.entries = kept && kept.term === snapshot.term ? d.entries.slice(snapshot.index - first + 1) : [];
      d.snapshot = snapshot;
    }
    if (update.entries && update.entries.length > 0) {
      const first = (d.snapshot?.index ?? 0) + 1;
      const start = update.entries[0].index;
      const keep = Math.max(0, start - first);
      if (keep > d.entries.length) throw new Error(`${this.node.id} saved entries from ${start} but its stored log ends at ${first + d.entries.length - 1} (a hole)`);
      d.entries.length = keep;
      for (const e of update.entries) if (e.index >= first) d.entries.push({ ...e });
    }
    if (update.hardState) d.hardState = { ...update.hardState };
    this.host.persisted(this.node, update, d);
  }
}

export function cloneDurable(d: Durable): Durable {
  return {
    hardState: d.hardState ? { ...d.hardState } : null,
    snapshot: d.snapshot ? (cloneJson(d.snapshot) as unknown as Snapshot) : null,
    entries: d.entries.map((e) => ({ ...e })),
  };
}

/** Timing of every simulated node (ms of its own clock); messageTimeout is the most a request waits. */
export const SIM_TIMING = { heartbeatFrequency: 50, heartbeatTimeout: 300, electionTimeout: 300, messageTimeout: 3000 };

/** The shipped RaftInterface, on the simulation's clock, network and storage. */
export class SimRaft extends RaftInterface {
  /** The client id the next SimRaft takes (set by `startSimRaft`; the constructor reads it). */
  private static nextClientId = '';

  private constructor(
    readonly simNode: SimNode,
    private readonly host: SimHost,
    options: RaftOptions,
  ) {
    super(simNode.id, options);
  }

  /** A new run of `node`, with a client id derived from its run number so a seed replays identically. */
  static start(node: SimNode, host: SimHost, options: RaftOptions): SimRaft {
    SimRaft.nextClientId = `${node.id}#${node.generation}`;
    return new SimRaft(node, host, options);
  }

  protected override [NEW_CLIENT_ID](): string {
    return SimRaft.nextClientId;
  }

  createInstance(address: string): NodeInstance {
    return new SimInstance(address, this, this.host);
  }

  override get heartbeatFrequency(): number {
    return SIM_TIMING.heartbeatFrequency;
  }

  override get heartbeatTimeout(): number {
    return SIM_TIMING.heartbeatTimeout;
  }

  override get electionTimeout(): number {
    return SIM_TIMING.electionTimeout;
  }

  /** SIM_TIMING.messageTimeout, or in some seeds a value drawn on every read between 600 ms and that (getters may vary). */
  override get messageTimeout(): number {
    const random = this.simNode.messageTimeoutRandom;
    return random ? 600 + Math.floor(random.next() * (SIM_TIMING.messageTimeout - 600)) : SIM_TIMING.messageTimeout;
  }

  /** The state machine at lastApplied: the commands applied so far, in order. */
  override createSnapshot(): unknown {
    return this.simNode.machine.map((c) => ({ i: c.i, id: c.id }));
  }
}

class SimInstance extends NodeInstance {
  constructor(
    address: string,
    raft: RaftInterface,
    private readonly host: SimHost,
  ) {
    super(address, raft);
  }

  override write(payload: object): void {
    // A run that has stopped sends nothing (it has no turns left; this guards the model).
    const node = (this.raft as SimRaft).simNode;
    if (node.alive && node.raft === this.raft) this.host.send(this.raft.address, this.address, payload);
  }
}
