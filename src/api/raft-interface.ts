import { RaftError } from '../core/errors.js';
import { DEFAULT_SNAPSHOT_LIMITS, RaftCore, type CoreOptions } from '../core/raft.js';
import type { CoreEvent, Ready, RequestResult, RoleState, RoleView } from '../core/ready.js';
import { readyNeedsSave } from '../core/ready.js';
import { IntKeyMap } from '../core/int-key-map.js';
import { SessionTable } from '../core/sessions.js';
import type { JsonValue, LogEntry, Message, Snapshot } from '../core/types.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import type { Storage } from '../storage/storage.js';
import { fromPayload, messageToPayload } from '../wire/index.js';
import type { WireLimits } from '../wire/index.js';
import { cloneJson, cloneTrustedJson } from '../core/json.js';
import { copyJsonValue } from '../wire/json-value.js';
import { resolveLimits } from '../wire/limits.js';
import { newBudget } from '../wire/walk-budget.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { Emitter, type Listener } from './emitter.js';
import type { NodeInstance } from './node-instance.js';
import { ENVELOPE_BYTES, messageSizesWithin } from './message-limits.js';
import { checkStoredCommands } from './stored-commands.js';
import { checkOptions, snapshotCatchUpEntries, timingValue } from './options.js';
import { CORE, NEW_CLIENT_ID } from './internals.js';

/**
 * The core's tuning options (documented on CoreOptions), passed through, except
 * that the batching ones are capped to fit `wireLimits` (src/api/message-limits.ts).
 */
type CoreTuning = Pick<
  CoreOptions,
  'preVote' | 'checkQuorum' | 'maxEntriesPerMessage' | 'maxBytesPerMessage' | 'maxInflight' | 'snapshotChunkBytes' | 'leaseReads' | 'maxClockDrift'
>;

/** Options of `new RaftInterface(address, options)`. All optional. */
export interface RaftOptions extends CoreTuning {
  /**
   * Initial voters when the storage is empty; the node's own address is added
   * when missing. Default `[address]` (a cluster of one). `[]`: wait to be
   * added by an existing cluster. Ignored when the storage holds state.
   */
  peers?: string[];
  /** Where Raft state is kept. Default `new MemoryStorage()`. */
  storage?: Storage;
  /** Take a snapshot (needs `createSnapshot`) once this many entries were applied after the last one. */
  snapshotThreshold?: number;
  /**
   * Limits on payloads: incoming ones over them are rejected, and what the
   * node sends is built to fit them. Every node of a cluster needs the same.
   */
  wireLimits?: Partial<WireLimits>;
  /** Random numbers in [0, 1) for election timeouts. Default Math.random. */
  random?: () => number;
  /** Time source and timers. Default: performance.now() and setTimeout. */
  clock?: Clock;
  /**
   * Largest snapshot (serialized, in bytes) this node accepts from a leader
   * through InstallSnapshot; a larger one is refused ('invalid message' with
   * code SNAPSHOT_TOO_LARGE) and the node stays behind until the limit is
   * raised. Default 256 MiB. Its state machine data must also keep within
   * `wireLimits`' maxJsonDepth and maxStringLength.
   */
  maxSnapshotBytes?: number;
}

/** A user command as handed to `apply` listeners. */
export interface AppliedEntry {
  index: number;
  term: number;
  command: JsonValue;
}

/** The state machine image handed to `refresh` listeners. */
export interface SnapshotImage {
  index: number;
  term: number;
  data: JsonValue;
}

/** What `status()` returns. */
export interface RaftStatus {
  address: string;
  state: RoleState;
  term: number;
  leader: string | null;
  commitIndex: number;
  lastApplied: number;
  /**
   * The first index still in the log: `snapshotIndex + 1`, or lower on a
   * leader keeping entries for a follower that is installing a snapshot.
   */
  firstIndex: number;
  lastIndex: number;
  snapshotIndex: number;
  voters: string[];
  learners: string[];
}

interface Deferred<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** A snapshot waiting in the apply queue, between the entries it must follow and precede. */
class SnapshotToApply {
  constructor(readonly snapshot: Snapshot) {}
}

/** What the apply queue holds: committed entries (most of it) and the occasional snapshot. */
type ApplyItem = LogEntry | SnapshotToApply;

const DEFAULT_MESSAGE_TIMEOUT = 3000;
/** How long a node waits before calling a createInstance that threw for an address again. */
const CREATE_INSTANCE_RETRY_MS = 1000;
const DEFAULT_ELECTION_TIMEOUT = 300;
const DEFAULT_HEARTBEAT_FREQUENCY = 50;
const DEFAULT_HEARTBEAT_TIMEOUT = 300;

/**
 * A Raft node. Subclass it and implement `createInstance(address)`; optionally
 * override the timing getters and `createSnapshot()`. Everything Raft does
 * happens in the pure core (src/core); this class drives it: it persists what
 * the core asks before sending the messages that depend on it, applies
 * committed entries in order, runs the timers and reports events.
 */
export abstract class RaftInterface {
  /** This node's address. */
  readonly address: string;
  private readonly core: RaftCore;
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly options: RaftOptions;
  /** `options.wireLimits` with defaults filled in, resolved once. */
  private readonly wireLimits: Readonly<WireLimits>;
  private readonly emitter: Emitter;
  private readonly sessions = new SessionTable();
  private readonly instances = new Map<string, NodeInstance>();
  /** The leader last reported (see dropFormerLeader). */
  private lastLeader: string | null = null;
  /** When createInstance last threw for an address (see instanceFor). */
  private readonly createInstanceFailures = new Map<string, number>();

  private started = false;
  private endedFlag = false;
  private readonly startPromise: Promise<void>;
  private processing = false;
  private processScheduled = false;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;

  /**
   * While the listeners of a role event run: the view that event announces
   * (see `view`). Null otherwise.
   */
  private eventView: RoleView | null = null;
  /** Core events taken but not yet reported (see `reportCoreEvents`). */
  private readonly eventQueue: CoreEvent[] = [];
  private reportingEvents = false;

  /** Items before `applyHead` are done; the array is compacted once that prefix is large. */
  private applyQueue: ApplyItem[] = [];
  private applyHead = 0;
  private applying = false;
  private lastAppliedIndex = 0;
  private snapshotting = false;

  /** Pending proposals of this node's session, by sequence number. */
  private readonly proposals = new IntKeyMap<Deferred<{ index: number; term: number }>>();
  private readonly reads = new Map<number, Deferred<void>>();
  private readonly readWaiters: { index: number; deferred: Deferred<void> }[] = [];
  private readonly membershipChanges = new Map<number, Deferred<void>>();
  private readonly transfers = new Map<number, Deferred<void>>();

  constructor(address: string, options: RaftOptions = {}) {
    if (typeof address !== 'string' || address.length === 0) {
      throw new RaftError('INVALID_ARGUMENT', 'address must be a non-empty string');
    }
    checkOptions(options);
    this.address = address;
    this.options = options;
    this.wireLimits = resolveLimits(options.wireLimits);
    this.storage = options.storage ?? new MemoryStorage();
    this.clock = options.clock ?? realClock();
    this.emitter = new Emitter((type, error) => this.reportListenerError(type, error));
    const { preVote, checkQuorum, maxInflight, leaseReads, maxClockDrift } = options;
    this.core = new RaftCore({
      preVote, checkQuorum, maxInflight, leaseReads, maxClockDrift,
      ...messageSizesWithin(this.wireLimits, options),
      snapshotCatchUpEntries: snapshotCatchUpEntries(options.snapshotThreshold ?? 0),
      snapshotLimits: {
        maxBytes: options.maxSnapshotBytes ?? DEFAULT_SNAPSHOT_LIMITS.maxBytes,
        maxJsonDepth: this.wireLimits.maxJsonDepth,
        maxStringLength: this.wireLimits.maxStringLength,
      },
      id: address,
      clientId: this[NEW_CLIENT_ID](),
      timing: {
        heartbeatTimeout: () => timingValue(this.heartbeatTimeout, DEFAULT_HEARTBEAT_TIMEOUT),
        electionTimeout: () => timingValue(this.electionTimeout, DEFAULT_ELECTION_TIMEOUT),
        heartbeatFrequency: () => timingValue(this.heartbeatFrequency, DEFAULT_HEARTBEAT_FREQUENCY),
      },
      random: options.random ?? Math.random,
    });
    this.startPromise = this.start();
    this.startPromise.catch(() => {});
  }

  /** @internal This run's client session id (see internals.ts). */
  protected [NEW_CLIENT_ID](): string {
    return `${this.address}#${randomHex()}`;
  }

  /** @internal The core, for the simulation's invariant checks (see internals.ts). */
  get [CORE](): RaftCore {
    return this.core;
  }

  /** Returns the NodeInstance that talks to `address`. Called once per peer. */
  abstract createInstance(address: string): NodeInstance;

  /**
   * Optional: the application's state as of the last applied entry, as JSON
   * (or a Promise of it). Enables log compaction and InstallSnapshot.
   */
  createSnapshot?(): unknown;

  // ------------------------------------------------------------ timing getters

  /** ms a candidate waits before starting a new election (randomized up to 2x). */
  get electionTimeout(): number {
    return DEFAULT_ELECTION_TIMEOUT;
  }

  /** ms between leader heartbeats. */
  get heartbeatFrequency(): number {
    return DEFAULT_HEARTBEAT_FREQUENCY;
  }

  /** ms a follower waits without hearing from a leader before campaigning (randomized up to 2x). */
  get heartbeatTimeout(): number {
    return DEFAULT_HEARTBEAT_TIMEOUT;
  }

  /**
   * ms a request (propose, readBarrier, transferLeadership; membership
   * changes wait 4x as long) waits before it rejects with TIMEOUT. Default
   * 3000. Precedence: a request forwarded to the leader uses the leader
   * instance's `messageTimeout`, which is this value unless the NodeInstance
   * subclass overrides it; a request on the leader itself (or with no leader
   * known) uses this value.
   */
  get messageTimeout(): number {
    return DEFAULT_MESSAGE_TIMEOUT;
  }

  // ------------------------------------------------------------------ getters

  /**
   * The role, term and leader that `state`, `isLeader`, `leaderID`,
   * `currentTerm` and `status()` report: one view, read from the core as it
   * is now, so they agree at every instant, also right after `gotData()`
   * returns. A node reports 'leader' only in a term it leads: once it has seen
   * a higher term it is a follower (§5.1), so no two nodes report themselves
   * leader of the same term. While a role event's listeners run, the view is
   * the one that event announces (the role it names, with the term and
   * leader of that moment), even if the node moved on within the same call.
   */
  private view(): RoleView {
    return this.eventView ?? this.core.view();
  }

  /** The current role (see `view`). */
  get state(): RoleState {
    return this.eventView ? this.eventView.state : this.core.state;
  }

  get isLeader(): boolean {
    return this.state === 'leader';
  }

  /** The leader's address, or null when unknown (see `view`). */
  get leaderID(): string | null {
    return this.eventView ? this.eventView.leader : this.core.leaderId;
  }

  /** The current term (see `view`). */
  get currentTerm(): number {
    return this.eventView ? this.eventView.term : this.core.term;
  }

  /** True once `end()` was called. */
  get ended(): boolean {
    return this.endedFlag;
  }

  status(): RaftStatus {
    const log = this.core.log;
    const configuration = this.core.configuration;
    const view = this.view();
    return {
      address: this.address,
      state: view.state,
      term: view.term,
      leader: view.leader,
      commitIndex: Math.min(log.commitIndex, log.lastIndex()),
      lastApplied: this.lastAppliedIndex,
      firstIndex: log.firstIndex(),
      lastIndex: log.lastIndex(),
      snapshotIndex: log.snapshotIndex,
      voters: [...configuration.voters],
      learners: [...configuration.learners],
    };
  }

  // ------------------------------------------------------------------ events

  listen(type: 'apply', handler: (entry: AppliedEntry, index: number, cb: () => void) => unknown): () => void;
  listen(type: 'refresh', handler: (snapshot: SnapshotImage, cb: () => void) => unknown): () => void;
  listen(type: 'updated', handler: (index: number) => unknown): () => void;
  listen(type: 'join' | 'leave', handler: (address: string) => unknown): () => void;
  listen(type: 'state changed', handler: (state: RoleState) => unknown): () => void;
  listen(type: 'invalid message', handler: (fromAddress: string, error: Error) => unknown): () => void;
  listen(type: string, handler: (...args: never[]) => unknown): () => void;
  listen(type: string, handler: Listener): () => void {
    checkListener('listen', type, handler);
    return this.emitter.listen(type, handler);
  }

  unlisten(type: string, handler: Listener): void {
    this.emitter.unlisten(type, handler);
  }

  listenOnce(type: string, handler: Listener): () => void {
    checkListener('listenOnce', type, handler);
    return this.emitter.listenOnce(type, handler);
  }

  emit(type: string, ...args: unknown[]): boolean {
    return this.emitter.emit(type, ...args);
  }

  // ------------------------------------------------------------------ input

  /**
   * Hands a payload received from `fromAddress` to the node. Never throws: an
   * invalid payload is dropped and reported with the `invalid message` event.
   * The payload belongs to the node after the call: its commands are kept by
   * reference (validated, not copied), so the caller must not change it later.
   */
  gotData(fromAddress: string, payload: unknown): void {
    if (this.endedFlag) return;
    if (typeof fromAddress !== 'string' || fromAddress.length === 0) {
      // Without the arriving address the claimed sender cannot be checked.
      const error = new RaftError('INVALID_SENDER', `fromAddress must be a non-empty string, got ${fromAddress === '' ? 'an empty string' : typeof fromAddress}`);
      this.emitter.emit('invalid message', fromAddress, error);
      return;
    }
    try {
      // Validated in full, but the commands are adopted rather than copied:
      // a payload handed to gotData belongs to the node from then on.
      const result = fromPayload(payload, { from: fromAddress, limits: this.wireLimits, adoptCommands: true });
      if (!result.ok) {
        this.emitter.emit('invalid message', fromAddress, result.error);
        return;
      }
      const message = result.message;
      if (message.to !== this.address) {
        const error = new RaftError('WRONG_RECIPIENT', `to: message is addressed to ${JSON.stringify(message.to)}, not ${JSON.stringify(this.address)}`);
        this.emitter.emit('invalid message', fromAddress, error);
        return;
      }
      if (!this.started) return; // Not yet loaded from storage: like a lost message.
      this.core.step(message, this.clock.now());
      this.afterCoreCall();
    } catch (error) {
      this.reportInternalError(error);
    }
  }

  // ------------------------------------------------------------------ requests

  /**
   * Proposes a command (any JSON value). Resolves with its `{ index, term }`
   * once it is committed and applied on this node; rejects with a `code`.
   */
  propose(command: unknown): Promise<{ index: number; term: number }> {
    let copy: { value: JsonValue; size: number };
    try {
      copy = this.checkCommand(command);
    } catch (error) {
      return Promise.reject(error);
    }
    // A running node proposes in this turn; one still loading from storage first waits for it.
    if (this.started && !this.endedFlag) return this.submitProposal(copy);
    return this.whenStarted().then(() => this.submitProposal(copy));
  }

  private submitProposal(copy: { value: JsonValue; size: number }): Promise<{ index: number; term: number }> {
    return new Promise((resolve, reject) => {
      const sequence = this.core.propose(copy.value, this.requestTimeout(), copy.size);
      this.proposals.set(sequence, { resolve, reject });
      this.afterCoreCall();
    });
  }

  /**
   * Adds `address` as a voter (caught up as a learner first). Resolves when
   * committed. Idempotent. Rejects with a `code` (e.g. TIMEOUT) when it cannot;
   * a caller that ignores the promise does not get an unhandled rejection.
   */
  join(address: string): Promise<void> {
    return handledRejection(this.changeMembership('addVoter', address));
  }

  /**
   * Removes `address` from the cluster. Resolves when committed. Idempotent.
   * Like `join`, its rejection does not count as unhandled when ignored (the
   * seed's `socket.on('close', () => this.raft.leave(this.address))` pattern).
   */
  leave(address: string): Promise<void> {
    return handledRejection(this.changeMembership('remove', address));
  }

  private async changeMembership(changeType: 'addVoter' | 'remove', address: string): Promise<void> {
    this.checkAddress(address);
    await this.whenStarted();
    return new Promise((resolve, reject) => {
      const id = this.core.changeMembership(changeType, address, this.membershipTimeout());
      this.membershipChanges.set(id, { resolve, reject });
      this.afterCoreCall();
    });
  }

  /**
   * Resolves once this node has applied everything committed before the call,
   * as confirmed by a quorum (ReadIndex, dissertation §6.4).
   */
  async readBarrier(): Promise<void> {
    await this.whenStarted();
    const timeout = this.requestTimeout();
    return new Promise((resolve, reject) => {
      // One deadline for the whole barrier: the quorum round and the wait for local apply.
      let settled = false;
      const timer = this.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        this.reads.delete(id);
        const waiter = this.readWaiters.findIndex((w) => w.deferred === deferred);
        if (waiter >= 0) this.readWaiters.splice(waiter, 1);
        reject(new RaftError(this.core.leaderId === null ? 'NO_LEADER' : 'TIMEOUT', `the read barrier was not confirmed and applied within ${timeout} ms`));
      }, timeout);
      const deferred: Deferred<void> = {
        resolve: () => {
          if (settled) return;
          settled = true;
          this.clock.clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          if (settled) return;
          settled = true;
          this.clock.clearTimeout(timer);
          reject(error);
        },
      };
      const id = this.core.readIndex(timeout);
      this.reads.set(id, deferred);
      this.afterCoreCall();
    });
  }

  /** Hands leadership to `to` (or the most up-to-date voter) via TimeoutNow (dissertation §3.10). */
  async transferLeadership(to?: string): Promise<void> {
    if (to !== undefined) this.checkAddress(to);
    await this.whenStarted();
    return new Promise((resolve, reject) => {
      const id = this.core.transferLeadership(to ?? null, Math.max(this.requestTimeout(), 2 * this.electionTimeout));
      this.transfers.set(id, { resolve, reject });
      this.afterCoreCall();
    });
  }

  /** Stops timers and ends every instance. A new node on the same storage is this node restarted. */
  end(): void {
    if (this.endedFlag) return;
    this.endedFlag = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    const ended = () => new RaftError('ENDED', 'the raft node was ended');
    for (const d of this.proposals.values()) d.reject(ended());
    for (const d of this.reads.values()) d.reject(ended());
    for (const w of this.readWaiters) w.deferred.reject(ended());
    for (const d of this.membershipChanges.values()) d.reject(ended());
    for (const d of this.transfers.values()) d.reject(ended());
    this.proposals.clear();
    this.reads.clear();
    this.readWaiters.length = 0;
    this.membershipChanges.clear();
    this.transfers.clear();
    for (const instance of this.instances.values()) this.endInstance(instance);
    this.instances.clear();
    // Release files or handles; a storage may be loaded again by a restarted node.
    try {
      const closing = this.storage.close?.();
      if (closing) closing.catch((error: unknown) => this.reportInternalError(error));
    } catch (error) {
      this.reportInternalError(error);
    }
  }

  // ------------------------------------------------------------------ internals

  private async start(): Promise<void> {
    try {
      const stored = await this.storage.load();
      if (this.endedFlag) return;
      checkStoredCommands(stored);
      this.core.start(stored, this.options.peers ?? [this.address], this.clock.now());
      this.started = true;
      for (const member of [...this.core.configuration.voters, ...this.core.configuration.learners]) {
        if (member !== this.address) this.instanceFor(member);
      }
      this.afterCoreCall();
    } catch (error) {
      this.reportInternalError(error);
      throw error;
    }
  }

  private async whenStarted(): Promise<void> {
    if (this.endedFlag) throw new RaftError('ENDED', 'the raft node was ended');
    if (!this.started) await this.startPromise;
    if (this.endedFlag) throw new RaftError('ENDED', 'the raft node was ended');
  }

  /**
   * A deep copy of `command` and its approximate JSON size, checked against
   * the wire limits that every message carrying it must pass (string length,
   * nesting depth, well-formed UTF-16, payload size). A command the wire
   * cannot carry would otherwise be appended to the leader's log and then
   * fail every AppendEntries, wedging replication for good.
   */
  private checkCommand(command: unknown): { value: JsonValue; size: number } {
    const limits = this.wireLimits;
    const budget = newBudget(limits);
    let value: JsonValue;
    try {
      value = copyJsonValue(command, 'command', budget, true);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RaftError('INVALID_COMMAND', `command must be a JSON value the wire can carry (finite numbers, well-formed strings, booleans, null, arrays, plain objects, within the wire limits): ${reason}`);
    }
    if (budget.size + ENVELOPE_BYTES > limits.maxPayloadBytes) {
      throw new RaftError('INVALID_COMMAND', `command of about ${budget.size} bytes does not fit in one message (maxPayloadBytes ${limits.maxPayloadBytes})`);
    }
    return { value, size: budget.size };
  }

  private checkAddress(address: unknown): void {
    if (typeof address !== 'string' || address.length === 0) {
      throw new RaftError('INVALID_ARGUMENT', 'address must be a non-empty string');
    }
  }

  /** Timeout for a request: the leader instance's messageTimeout (by default this node's), else this node's (see `messageTimeout`). */
  private requestTimeout(): number {
    const leader = this.core.leaderId;
    const instance = leader !== null && leader !== this.address ? this.instances.get(leader) : undefined;
    const value = instance ? instance.messageTimeout : this.messageTimeout;
    return Number.isFinite(value) && value > 0 ? value : DEFAULT_MESSAGE_TIMEOUT;
  }

  private membershipTimeout(): number {
    return Math.max(4 * this.requestTimeout(), 20 * this.heartbeatTimeout);
  }

  /** After any call into the core: report its events now, process the rest soon. */
  private afterCoreCall(): void {
    this.reportCoreEvents();
    if (this.endedFlag) return;
    this.scheduleProcess();
    this.scheduleTimer();
  }

  private scheduleProcess(): void {
    if (this.processScheduled || this.processing) return;
    this.processScheduled = true;
    // A macrotask, not a microtask: proposals made by promise chains in the same
    // turn join one Ready, so they share one save and one AppendEntries.
    const run = () => {
      this.processScheduled = false;
      void this.process();
    };
    if (this.clock.setImmediate) this.clock.setImmediate(run);
    else scheduleSoon(run);
  }

  private scheduleTimer(): void {
    if (this.endedFlag || !this.started) return;
    const deadline = this.core.nextDeadline();
    if (!Number.isFinite(deadline)) return;
    if (this.timer !== null && this.timerAt <= deadline) return;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timerAt = deadline;
    const delay = Math.max(0, Math.ceil(deadline - this.clock.now()));
    this.timer = this.clock.setTimeout(() => this.onTimer(), delay);
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.endedFlag) return;
    try {
      this.core.tick(this.clock.now());
      this.afterCoreCall();
      this.scheduleTimer();
    } catch (error) {
      this.reportInternalError(error);
    }
  }

  /**
   * Drains the core's Ready in the documented order: save, then send, then
   * apply (§5.1: nothing that depends on unsaved state leaves the node).
   */
  private async process(): Promise<void> {
    if (this.processing || this.endedFlag || !this.started) return;
    this.processing = true;
    try {
      while (!this.endedFlag && this.core.hasReady()) {
        const ready = this.core.ready();
        this.reportCoreEvents();
        for (const message of ready.messagesBeforeSave) this.send(message);
        if (readyNeedsSave(ready)) {
          await this.storage.save({ snapshot: ready.snapshot, entries: ready.entries.length > 0 ? ready.entries : undefined, hardState: ready.hardState });
          if (this.endedFlag) break;
        }
        this.core.advance(ready);
        this.reportCoreEvents();
        for (const message of ready.messages) this.send(message);
        if (ready.snapshotToApply) this.applyQueue.push(new SnapshotToApply(ready.snapshotToApply));
        for (const entry of ready.committedEntries) this.applyQueue.push(entry);
        this.settleResults(ready);
        void this.pumpApply();
      }
    } catch (error) {
      this.reportInternalError(error);
      this.end();
    } finally {
      this.processing = false;
    }
    if (!this.endedFlag && this.core.hasReady()) this.scheduleProcess();
    this.scheduleTimer();
  }

  /**
   * Reports the events the core produced in the call that just returned, in
   * the same turn. A listener that calls back into the node (propose, status,
   * gotData through a synchronous transport) adds the events of that call to
   * the queue behind the ones still being reported, so they come out in the
   * order they happened.
   */
  private reportCoreEvents(): void {
    const events = this.core.takeEvents();
    for (let i = 0; i < events.length; i++) this.eventQueue.push(events[i]);
    if (this.reportingEvents || this.eventQueue.length === 0) return;
    this.reportingEvents = true;
    try {
      for (let i = 0; i < this.eventQueue.length; i++) this.reportCoreEvent(this.eventQueue[i]);
    } finally {
      this.eventQueue.length = 0;
      this.reportingEvents = false;
      this.eventView = null;
    }
  }

  private reportCoreEvent(event: CoreEvent): void {
    switch (event.type) {
      case 'state': {
        this.dropFormerLeader(event.view.leader);
        const outer = this.eventView;
        this.eventView = event.view;
        this.emitter.emit(event.view.state);
        this.emitter.emit('state changed', event.view.state);
        this.eventView = outer;
        break;
      }
      case 'leaderChanged': {
        this.dropFormerLeader(event.view.leader);
        const outer = this.eventView;
        this.eventView = event.view;
        this.emitter.emit('leader changed', event.view.leader);
        this.eventView = outer;
        break;
      }
      case 'join':
        if (event.address !== this.address) this.instanceFor(event.address);
        this.emitter.emit('join', event.address);
        break;
      case 'leave': {
        const instance = this.instances.get(event.address);
        if (instance) {
          this.instances.delete(event.address);
          this.endInstance(instance);
        }
        this.createInstanceFailures.delete(event.address);
        this.emitter.emit('leave', event.address);
        break;
      }
      case 'heartbeatTimeout':
        this.emitter.emit('heartbeat timeout');
        break;
      case 'startElection':
        this.emitter.emit('start election');
        break;
      case 'rejected':
        this.emitter.emit('invalid message', event.from, new RaftError(event.code, event.message));
        break;
    }
  }

  private settleResults(ready: Ready): void {
    for (const failure of ready.proposalFailures) {
      const deferred = this.proposals.get(failure.sequence);
      if (!deferred) continue;
      this.proposals.delete(failure.sequence);
      deferred.reject(new RaftError(failure.code, failure.message));
    }
    for (const result of ready.readResults) {
      const deferred = this.reads.get(result.requestId);
      if (!deferred) continue;
      this.reads.delete(result.requestId);
      if (result.code) deferred.reject(new RaftError(result.code, result.message ?? result.code));
      else this.waitForApplied(result.readIndex ?? 0, deferred);
    }
    settle(this.membershipChanges, ready.membershipResults);
    settle(this.transfers, ready.transferResults);
  }

  private waitForApplied(index: number, deferred: Deferred<void>): void {
    if (this.lastAppliedIndex >= index) deferred.resolve();
    else this.readWaiters.push({ index, deferred });
  }

  private send(message: Message): void {
    const instance = this.instanceFor(message.to);
    if (!instance) return;
    try {
      instance.write(messageToPayload(message, this.wireLimits, 'trusted-copy'));
    } catch (error) {
      this.emitter.emit('write error', message.to, error);
    }
  }

  /**
   * Ends the instance of a leader this node followed without its being a
   * member (one that was adding it, or that it did not know of yet) once
   * another leader takes over: at most one such instance exists at a time.
   */
  private dropFormerLeader(leader: string | null): void {
    const former = this.lastLeader;
    this.lastLeader = leader;
    if (former === null || former === leader || this.core.isKnownPeer(former)) return;
    const instance = this.instances.get(former);
    if (!instance) return;
    this.instances.delete(former);
    this.endInstance(instance);
  }

  /**
   * The NodeInstance for `address`, created on first use, only for a peer the
   * core talks to (a member of its configuration, or the leader that is adding
   * it): never for an arbitrary sender, so a hostile address cannot make the
   * node dial it or hold an instance for it. A createInstance that throws is
   * reported ('error', with context 'createInstance') and that peer is skipped;
   * it is tried again after CREATE_INSTANCE_RETRY_MS.
   */
  private instanceFor(address: string): NodeInstance | undefined {
    const instance = this.instances.get(address);
    if (instance || this.endedFlag || !this.core.isKnownPeer(address)) return instance;
    const failedAt = this.createInstanceFailures.get(address);
    const now = this.clock.now();
    if (failedAt !== undefined && now - failedAt < CREATE_INSTANCE_RETRY_MS) return undefined;
    try {
      const created = this.createInstance(address);
      this.createInstanceFailures.delete(address);
      this.instances.set(address, created);
      return created;
    } catch (error) {
      this.createInstanceFailures.set(address, now);
      this.reportListenerError('createInstance', error);
      return undefined;
    }
  }

  private endInstance(instance: NodeInstance): void {
    try {
      instance.end();
    } catch (error) {
      this.reportListenerError('end', error);
    }
  }

  // ------------------------------------------------------------------ apply

  /** Applies committed entries strictly in order, one at a time (never overlapping a refresh). */
  private async pumpApply(): Promise<void> {
    if (this.applying) return;
    this.applying = true;
    try {
      while (!this.endedFlag && this.applyHead < this.applyQueue.length) {
        const item = this.takeApplyItem();
        if (item instanceof SnapshotToApply) await this.applySnapshot(item.snapshot);
        else {
          // Only wait when a listener is asynchronous; synchronous applies run back to back.
          const pending = this.applyEntry(item);
          if (pending) await pending;
        }
        if (!this.snapshotDue()) continue;
        try {
          await this.maybeSnapshot();
        } catch (error) {
          // A failed snapshot (createSnapshot threw or rejected) must not stop applying.
          this.reportInternalError(error);
        }
      }
    } catch (error) {
      this.reportInternalError(error);
    } finally {
      this.applying = false;
    }
    // Entries queued while the last await was pending must not wait for the next Ready.
    if (!this.endedFlag && this.applyHead < this.applyQueue.length) void this.pumpApply();
  }

  /** The next item of the apply queue (O(1): the consumed prefix is dropped in bulk). */
  private takeApplyItem(): ApplyItem {
    const item = this.applyQueue[this.applyHead++] as ApplyItem;
    if (this.applyHead === this.applyQueue.length) {
      this.applyQueue = [];
      this.applyHead = 0;
    } else if (this.applyHead >= 4096) {
      this.applyQueue = this.applyQueue.slice(this.applyHead);
      this.applyHead = 0;
    }
    return item;
  }

  private async applySnapshot(snapshot: Snapshot): Promise<void> {
    this.sessions.restore(snapshot.sessions);
    const image: SnapshotImage = { index: snapshot.index, term: snapshot.term, data: cloneJson(snapshot.data) as JsonValue };
    await this.runHandlers('refresh', this.emitter.listenersOf('refresh'), [image]);
    if (this.endedFlag) return;
    this.lastAppliedIndex = Math.max(this.lastAppliedIndex, snapshot.index);
    this.core.appliedTo(this.lastAppliedIndex);
    for (const [sequence, deferred] of this.proposals.entries()) {
      const applied = this.sessions.lookup(this.core.clientId, sequence);
      if (applied) {
        this.proposals.delete(sequence);
        deferred.resolve({ index: applied.index, term: applied.term });
      }
    }
    this.releaseReadWaiters();
  }

  /** Applies one entry; returns a Promise only when an asynchronous listener must be awaited. */
  private applyEntry(entry: LogEntry): Promise<void> | undefined {
    if (entry.type === 'command' && this.sessions.admit(entry)) {
      // One lookup of the listener table per entry (this runs for every applied command).
      const listeners = this.emitter.listenersOf('apply');
      if (listeners.length === 0) {
        // With no listener the entry counts as applied at once.
        this.finishApply(entry, true);
        return undefined;
      }
      const command = entry.command ?? null;
      // Listeners get their own copy: the log keeps the original for followers and snapshots.
      const copy = cloneTrustedJson(command);
      const applied: AppliedEntry = { index: entry.index, term: entry.term, command: copy };
      const pending = this.runHandlers('apply', listeners, [applied, entry.index]);
      if (pending) {
        return pending.then(() => {
          if (!this.endedFlag) this.finishApply(entry, true);
        });
      }
      this.finishApply(entry, true);
    } else {
      this.finishApply(entry, false);
    }
    return undefined;
  }

  private finishApply(entry: LogEntry, userCommand: boolean): void {
    this.lastAppliedIndex = entry.index;
    this.core.appliedTo(entry.index);
    if (userCommand && this.emitter.count('updated') > 0) this.emitter.emit('updated', entry.index);
    if (entry.type === 'command') this.settleProposalOf(entry, userCommand);
    this.releaseReadWaiters();
  }

  /** Resolves this node's proposal that the applied command `entry` settles, if any (the core says which). */
  private settleProposalOf(entry: LogEntry, userCommand: boolean): void {
    const sequence = this.core.takeSettledProposalAt(entry.index);
    if (sequence === undefined) return;
    const deferred = this.proposals.get(sequence);
    if (!deferred) return;
    this.proposals.delete(sequence);
    // An applied entry is where its proposal took effect; a duplicate's proposal took effect earlier, where its session recorded it.
    const where = userCommand || !entry.clientId ? entry : (this.sessions.lookup(entry.clientId, sequence) ?? entry);
    deferred.resolve({ index: where.index, term: where.term });
  }

  private releaseReadWaiters(): void {
    if (this.readWaiters.length === 0) return;
    const waiting = this.readWaiters.splice(0);
    for (const waiter of waiting) this.waitForApplied(waiter.index, waiter.deferred);
  }

  /**
   * Calls `listeners` (those of `type`) with `args` plus a completion callback
   * and waits for each: a listener that declares the callback parameter
   * finishes when it calls it (or its returned Promise settles); one that does
   * not finishes when it returns (or its returned Promise settles).
   */
  private runHandlers(type: 'apply' | 'refresh', listeners: readonly Listener[], args: unknown[]): Promise<void> | undefined {
    for (let i = 0; i < listeners.length; i++) {
      const pending = this.runHandler(type, listeners[i], args);
      if (pending) return this.runRemainingHandlers(type, listeners, i + 1, args, pending);
    }
    return undefined;
  }

  private async runRemainingHandlers(type: 'apply' | 'refresh', listeners: readonly Listener[], from: number, args: unknown[], first: Promise<void>): Promise<void> {
    await first;
    for (let i = from; i < listeners.length; i++) {
      const pending = this.runHandler(type, listeners[i], args);
      if (pending) await pending;
    }
  }

  /**
   * Calls one listener with `args` plus a completion callback. A listener that
   * declares the callback parameter finishes when it calls it (or its returned
   * Promise settles); one that does not finishes when it returns (or its
   * returned Promise settles). Returns a Promise only when there is something to wait for.
   */
  private runHandler(type: string, listener: Listener, args: unknown[]): Promise<void> | undefined {
    const handler = listener as (...a: unknown[]) => unknown;
    const declared = (listener as { original?: Listener }).original ?? listener;
    const takesCallback = declared.length > args.length;
    let result: unknown;
    let calledBack = false;
    // Resolves the Promise handed out when the callback is still due on return; made only then.
    let resolveLater: (() => void) | null = null;
    try {
      const callback = (): void => {
        if (calledBack) return;
        calledBack = true;
        resolveLater?.();
      };
      // apply's two arguments are passed directly: a spread call costs more, once per applied entry.
      result = args.length === 2 ? handler(args[0], args[1], callback) : handler(...args, callback);
    } catch (error) {
      this.reportListenerError(type, error);
      return undefined;
    }
    if (isThenable(result)) return Promise.resolve(result).then(() => undefined, (error: unknown) => this.reportListenerError(type, error));
    if (takesCallback && !calledBack) return new Promise<void>((resolve) => (resolveLater = resolve));
    return undefined;
  }

  /** True when `snapshotThreshold` entries were applied after the last snapshot and none is being taken. */
  private snapshotDue(): boolean {
    const threshold = this.options.snapshotThreshold;
    if (!threshold || typeof this.createSnapshot !== 'function' || this.snapshotting) return false;
    return this.lastAppliedIndex - this.core.log.snapshotIndex >= threshold;
  }

  /** Takes a snapshot once `snapshotThreshold` entries were applied after the last one (§7). */
  private async maybeSnapshot(): Promise<void> {
    const createSnapshot = this.createSnapshot;
    if (!this.snapshotDue() || typeof createSnapshot !== 'function') return;
    const index = this.lastAppliedIndex;
    const term = this.core.log.termAt(index);
    if (term === undefined || index > this.core.log.stableIndex) return;
    this.snapshotting = true;
    try {
      const configuration = this.core.configurationAt(index);
      const sessions = this.sessions.toSnapshot();
      const data = cloneJson(await createSnapshot.call(this));
      if (this.endedFlag || index <= this.core.log.snapshotIndex) return;
      this.core.compact({ index, term, configuration, data: (data ?? null) as JsonValue, sessions });
      this.afterCoreCall();
    } finally {
      this.snapshotting = false;
    }
  }

  private reportListenerError(type: string, error: unknown): void {
    if (type !== 'error') this.emitter.emit('error', error, type);
  }

  private reportInternalError(error: unknown): void {
    this.emitter.emit('error', error);
  }
}

function settle(pending: Map<number, Deferred<void>>, results: RequestResult[]): void {
  for (const result of results) {
    const deferred = pending.get(result.requestId);
    if (!deferred) continue;
    pending.delete(result.requestId);
    if (result.code) deferred.reject(new RaftError(result.code, result.message ?? result.code));
    else deferred.resolve();
  }
}

/** Runs `callback` in a new macrotask, without the 4 ms clamp browsers put on nested setTimeout(0). */
const scheduleSoon: (callback: () => void) => void = (() => {
  if (typeof setImmediate === 'function') return (callback: () => void) => void setImmediate(callback);
  if (typeof MessageChannel === 'function') {
    const queue: (() => void)[] = [];
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const callback = queue.shift();
      callback?.();
    };
    return (callback: () => void) => {
      queue.push(callback);
      channel.port2.postMessage(null);
    };
  }
  return (callback: () => void) => void setTimeout(callback, 0);
})();

/** Marks `promise` as handled (a caller that ignores it gets no unhandled rejection) and returns it unchanged. */
function handledRejection<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function randomHex(): string {
  const bytes = new Uint8Array(8);
  const crypto = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (crypto?.getRandomValues) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Refuses a listener that could never be called (a listener that is not a
 * function would otherwise fail on every event, far from the mistake).
 */
function checkListener(method: string, type: unknown, handler: unknown): void {
  if (typeof type !== 'string') throw new RaftError('INVALID_ARGUMENT', `${method}: the event type must be a string, got ${typeof type}`);
  if (typeof handler !== 'function') throw new RaftError('INVALID_ARGUMENT', `${method}('${type}', handler): handler must be a function, got ${handler === null ? 'null' : typeof handler}`);
}
