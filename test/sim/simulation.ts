/**
 * Deterministic simulation of a WebRaft cluster (in the spirit of FoundationDB's
 * simulator and hashicorp/raft's fuzzy tests), run on the node users run.
 *
 * Every node is the shipped RaftInterface (src/api/raft-interface.ts), with
 * its own drifting clock on the simulation's virtual time (timers and its
 * processing turns are events in one seeded queue), a transport into the
 * simulated network (payloads go through JSON.stringify and JSON.parse, as
 * over a socket), and an honest storage model (a save is durable only when it
 * completes; a crash loses the saves in flight or lands some of them without
 * the node learning of it; an injected failure stops the node). After every
 * event the simulation lets the nodes' promise chains settle, then checks.
 *
 * Faults (all from the seed): drop, duplication, delay and reordering,
 * replay of old messages long after they were sent (stale terms, rounds and
 * answers), symmetric and asymmetric partitions, crash and restart, save
 * failures, and targeted fault patterns (see scenarios.ts). Client load
 * through the public API: propose, readBarrier, transferLeadership, and in
 * churn seeds (half of them) join and leave from random nodes, spare nodes
 * started with `peers: []`, removed nodes retired or kept running, re-added,
 * sometimes wiped. Safety invariants are checked after every event
 * (invariants.ts), a liveness check with the final configuration ends each
 * run, and churn seeds then check that a removed node left running does not
 * disrupt the members.
 */
import { snapshotCatchUpEntries } from '../../src/api/options.js';
import type { AppliedEntry, SnapshotImage } from '../../src/api/raft-interface.js';
import { isVoter, members } from '../../src/core/membership.js';
import type { JsonValue, LogEntry } from '../../src/core/types.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';
import { TimedQueue } from '../../src/testing/timed-queue.js';
import type { StorageUpdate } from '../../src/storage/storage.js';
import { describeMessage } from './describe.js';
import { configKey, Invariants, SimFailure } from './invariants.js';
import { Churn } from './churn.js';
import { InjectedSaveFailure, SIM_TIMING, SimClock, SimNode, SimRaft, type AppliedCommand, type Durable, type SimEvent, type SimHost } from './sim-node.js';
import { FaultPatterns } from './scenarios.js';

export { SimFailure } from './invariants.js';

export interface SimOptions {
  seed: number;
  nodes: number;
  /** Events processed before the liveness phase; the first 70% have faults. */
  steps?: number;
  /** Collect a readable trace (slower). */
  trace?: boolean;
  /** How many trace lines to keep. Default 200. */
  traceLimit?: number;
  /** Virtual ms the healed cluster gets to commit and apply a fresh proposal everywhere. */
  livenessMs?: number;
  /** Membership churn in half the seeds (spare nodes, adds, removals, re-adds). Default true. */
  churn?: boolean;
}

export interface SimResult {
  seed: number;
  nodes: number;
  ok: boolean;
  /** Events processed, liveness phase included. */
  steps: number;
  /** Virtual time at the end, in ms. */
  virtualMs: number;
  error?: string;
  /** Last trace lines (only with `trace`). */
  trace: string[];
  stats: SimStats;
}

export interface SimStats {
  messages: number;
  dropped: number;
  /** Messages delivered twice. */
  duplicated: number;
  /** Old messages delivered again long after they were sent. */
  replayed: number;
  crashes: number;
  /** Saves that failed on purpose (the node stops, as a real one must). */
  saveFailures: number;
  partitions: number;
  /** Targeted fault patterns started (see scenarios.ts). */
  patterns: number;
  proposals: number;
  applied: number;
  snapshotsInstalled: number;
  leaders: number;
  /** Replicating followers sent back to probing, and snapshot transfers started (summed over every run of every node). */
  probeResets: number;
  snapshotsSent: number;
  /** Churn seeds: spare nodes, membership changes issued / committed, wipes (fresh re-adds), retirements. */
  churn: boolean;
  spares: number;
  membershipIssued: number;
  membershipOk: number;
  wipes: number;
  retired: number;
  /** Reads issued / confirmed. */
  reads: number;
  readsOk: number;
  /** Leadership transfers issued / reported successful. */
  transfers: number;
  transfersOk: number;
  /** Churn seeds: the quiet phase ran with a removed member left running (1) or was skipped (0). */
  disruptionChecked: number;
}

export const DEFAULT_STEPS = 700;
/** How many of the most recent messages the replay fault picks from. */
const REPLAY_HISTORY = 256;

/** The repro command for one seed. */
export function reproCommand(options: { seed: number; nodes: number; steps?: number; churn?: boolean }): string {
  const steps = options.steps !== undefined && options.steps !== DEFAULT_STEPS ? ` --steps ${options.steps}` : '';
  const churn = options.churn === false ? ' --no-churn' : '';
  return `npm run sim -- --seed ${options.seed} --nodes ${options.nodes}${steps}${churn} --trace`;
}

/** Lets every promise chain the last event started run to its end (nothing else is scheduled in real time). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function commandId(command: unknown): string {
  const c = command as { id?: unknown } | null;
  return c && typeof c === 'object' && typeof c.id === 'string' ? c.id : '';
}

export class Simulation implements SimHost {
  readonly seed: number;
  readonly options: Required<Omit<SimOptions, 'seed'>>;
  readonly rng: SeededRandom;
  private readonly queue = new TimedQueue<SimEvent>();
  readonly nodes: SimNode[] = [];
  readonly ids: string[];
  now = 0;
  steps = 0;
  faults = true;
  private readonly traceLines: string[] = [];
  /** The first failure found inside a callback (a listener, a promise handler); thrown by the run loop. */
  private asyncFailure: unknown = undefined;
  readonly invariants: Invariants;
  readonly stats: SimStats = {
    messages: 0,
    dropped: 0,
    duplicated: 0,
    replayed: 0,
    crashes: 0,
    saveFailures: 0,
    partitions: 0,
    patterns: 0,
    proposals: 0,
    applied: 0,
    snapshotsInstalled: 0,
    leaders: 0,
    probeResets: 0,
    snapshotsSent: 0,
    churn: false,
    spares: 0,
    membershipIssued: 0,
    membershipOk: 0,
    wipes: 0,
    retired: 0,
    reads: 0,
    readsOk: 0,
    transfers: 0,
    transfersOk: 0,
    disruptionChecked: 0,
  };

  // Per-seed configuration.
  dropRate: number;
  private readonly dupRate: number;
  private readonly slowRate: number;
  /**
   * Chance per message sent that an earlier message (any link, any type, from
   * the last REPLAY_HISTORY sent) is delivered once more, 50-2000 ms later.
   * Drawn from its own stream.
   */
  private readonly replayRate: number;
  private readonly replayRng: SeededRandom;
  /** The most recent messages sent, for replay (a ring of REPLAY_HISTORY). */
  private readonly sentHistory: { from: string; to: string; text: string; epoch: number }[] = [];
  private sentCount = 0;
  private readonly maxLatency: number;
  private readonly saveLatency: number;
  /** Chance that a save fails (the node then stops and is restarted later); from its own stream. */
  private readonly saveFailRate: number;
  private readonly storageRng: SeededRandom;
  /** RaftInterface's snapshotThreshold; 0: no snapshots. */
  private readonly snapshotThreshold: number;
  readonly coreKnobs: { preVote: boolean; checkQuorum: boolean; maxEntriesPerMessage: number; maxInflight: number; snapshotChunkBytes: number; leaseReads: boolean; maxClockDrift: number };
  /** Directed links "a>b" that drop everything. */
  readonly blocked = new Set<string>();
  private nextCommand = 1;
  private readonly livenessIds = new Set<string>();
  /** Latest deadline of a transfer request issued (no transfer may still be under way after it). */
  lastTransferDeadline = 0;
  /** After the fault phase: a message from a non-member must not change a member's term or leader. */
  quietMembers: Set<string> | null = null;
  readonly churn: Churn;
  private readonly patterns: FaultPatterns;
  /** The deliveries scheduled at virtual time `at` (for crashAfterTurn). */
  private lastSends: { at: number; events: Extract<SimEvent, { kind: 'deliver' }>[] } = { at: -1, events: [] };

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.options = {
      nodes: options.nodes,
      steps: options.steps ?? DEFAULT_STEPS,
      trace: options.trace ?? false,
      traceLimit: options.traceLimit ?? 200,
      livenessMs: options.livenessMs ?? 10_000,
      churn: options.churn ?? true,
    };
    const rng = new SeededRandom(options.seed);
    this.rng = rng;
    const churn = (options.churn ?? true) && rng.chance(0.5);
    const spares = churn ? Math.min(rng.range(1, 2), 26 - options.nodes) : 0;
    this.stats.churn = churn;
    this.stats.spares = spares;
    this.ids = Array.from({ length: options.nodes + spares }, (_, i) => String.fromCharCode(97 + i));
    const initialVoters = this.ids.slice(0, options.nodes);
    this.dropRate = rng.chance(0.3) ? 0 : rng.next() * 0.15;
    this.dupRate = rng.chance(0.5) ? 0 : rng.next() * 0.1;
    this.slowRate = rng.next() * 0.1;
    this.replayRng = new SeededRandom(options.seed * 31 + 17);
    this.replayRate = this.replayRng.chance(0.5) ? 0 : this.replayRng.next() * 0.05;
    this.storageRng = new SeededRandom(options.seed * 131 + 7);
    this.saveFailRate = this.storageRng.chance(0.7) ? 0 : this.storageRng.next() * 0.03;
    this.maxLatency = rng.range(1, 20);
    this.saveLatency = rng.range(0, 15);
    this.snapshotThreshold = rng.chance(0.3) ? 0 : rng.range(1, 30);
    this.coreKnobs = {
      preVote: rng.chance(0.75),
      checkQuorum: rng.chance(0.75),
      maxEntriesPerMessage: rng.chance(0.5) ? 512 : rng.range(1, 8),
      maxInflight: rng.chance(0.5) ? 64 : rng.range(1, 4),
      snapshotChunkBytes: rng.chance(0.5) ? 64 * 1024 : rng.range(256, 4096),
      // Lease reads in some seeds; node clocks differ by at most 1.1/0.9 - 1 < 25%.
      leaseReads: rng.chance(0.4),
      maxClockDrift: 0.25,
    };
    for (let i = 0; i < this.ids.length; i++) {
      const node = new SimNode(i, this.ids[i], 0.9 + rng.next() * 0.2, rng.int(1000), rng.fork(), this);
      // Spares are created with peers [] and wait until a member adds them.
      node.peers = i < options.nodes ? [...initialVoters] : [];
      this.nodes.push(node);
    }
    // Short and varying request timeouts in some seeds: transfers give up while their TimeoutNow is still on its way.
    const timeoutRng = new SeededRandom(options.seed * 613 + 11);
    if (timeoutRng.chance(0.5)) for (const node of this.nodes) node.messageTimeoutRandom = timeoutRng.fork();
    this.invariants = new Invariants(
      (message) => this.fail(message),
      (line) => this.trace(line),
      snapshotCatchUpEntries(this.snapshotThreshold),
    );
    this.churn = new Churn(this, churn, initialVoters);
    this.patterns = new FaultPatterns(this, new SeededRandom(options.seed * 7919 + 3));
  }

  // ---------------------------------------------------------------- running

  async run(): Promise<SimResult> {
    let error: string | undefined;
    try {
      this.trace(
        `seed ${this.seed}: nodes ${this.ids.join(',')} drift ${this.nodes.map((n) => n.drift.toFixed(3)).join(',')} drop ${this.dropRate.toFixed(3)} dup ${this.dupRate.toFixed(3)} ` +
          `slow ${this.slowRate.toFixed(3)} replay ${this.replayRate.toFixed(3)} saveFail ${this.saveFailRate.toFixed(4)} latency<=${this.maxLatency} save<=${this.saveLatency} ` +
          `snapshotThreshold ${this.snapshotThreshold} ${JSON.stringify(this.coreKnobs)}${this.churn.describe()}`,
      );
      for (const node of this.nodes) this.startNode(node);
      this.schedule(this.rng.range(1, 50), { kind: 'chaos' });
      const faultSteps = Math.floor(this.options.steps * 0.7);
      while (this.steps < this.options.steps) {
        if (this.steps === faultSteps && this.faults) this.heal();
        if (!(await this.step())) break;
      }
      if (this.faults) this.heal();
      await this.liveness();
      if (this.churn.enabled) await this.churn.disruptionPhase();
      await this.finalChecks();
    } catch (thrown) {
      const failure = this.asyncFailure ?? thrown;
      error = failure instanceof SimFailure ? failure.message : failure instanceof Error ? `${failure.name}: ${failure.message}\n${failure.stack ?? ''}` : String(failure);
      this.trace(`FAILURE: ${error.split('\n')[0]}`);
    }
    for (const node of this.nodes) if (node.alive) this.stopRun(node);
    return {
      seed: this.seed,
      nodes: this.options.nodes,
      ok: error === undefined,
      steps: this.steps,
      virtualMs: this.now,
      error,
      trace: this.traceLines,
      stats: this.stats,
    };
  }

  schedule(at: number, event: SimEvent): void {
    this.queue.push(at, event);
  }

  /** Processes the earliest event, lets the promise chains it started settle, then checks. Returns false when nothing is left. */
  async step(): Promise<boolean> {
    for (;;) {
      const at = this.queue.peekAt();
      if (!Number.isFinite(at)) return false;
      const event = this.queue.pop() as SimEvent;
      if (event.kind === 'timer' && (event.timer.cancelled || event.timer.clock.dead)) continue;
      if (event.kind === 'task' && event.clock.dead) continue;
      if (at > this.now) this.now = at;
      // Processing turns of a node are part of the event that caused them.
      if (event.kind !== 'task') this.steps++;
      this.handle(event);
      await settle();
      if (this.asyncFailure !== undefined) throw this.asyncFailure;
      this.checkInvariants();
      this.patterns.afterEvent();
      return true;
    }
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'deliver':
        if (event.lost) return;
        // A wiped node is a new incarnation: what its old one sent is gone with its connections.
        if (event.epoch !== this.byId(event.from).epoch) return;
        // Replays and messages a pattern held back are faults: the healed network of the liveness phase stops them.
        if (event.replay && !this.faults) return;
        return this.deliver(event.from, event.to, event.text);
      case 'saved':
        return event.storage.complete(event.save, this.storageRng.chance(0.5));
      case 'timer':
        return event.timer.callback();
      case 'task':
        return event.callback();
      case 'chaos':
        this.chaos();
        this.schedule(this.now + this.rng.range(5, 120), { kind: 'chaos' });
        return;
      case 'restart': {
        const node = this.nodes[event.node];
        if (!node.alive && !node.retired) this.startNode(node);
        return;
      }
      case 'read': {
        const node = this.nodes[event.node];
        if (node.generation === event.generation) this.read(node);
        return;
      }
      case 'crash': {
        const node = this.nodes[event.node];
        // A pattern's crash that falls due after the heal is called off with the other faults.
        if (this.faults && node.alive && node.generation === event.generation) {
          if (event.loseLastSends) this.loseLastSends(node);
          this.crash(node, event.loseSaves);
          this.schedule(this.now + event.restartAfter, { kind: 'restart', node: node.index });
        }
        event.then?.();
        return;
      }
    }
  }

  /** Crashes this run of `node` at `at` (at `now`: once the turns already due now are done), and restarts it `restartAfter` ms later. */
  crashAt(node: SimNode, at: number, restartAfter: number, then?: () => void): void {
    this.schedule(at, { kind: 'crash', node: node.index, generation: node.generation, restartAfter, loseLastSends: false, then });
  }

  /**
   * Crashes `node` right after the processing turn its last message started;
   * what it sent in that turn is lost with it (still in its socket buffers).
   */
  crashAfterTurn(node: SimNode, restartAfter: number, loseSaves: boolean): void {
    this.schedule(this.now, { kind: 'crash', node: node.index, generation: node.generation, restartAfter, loseLastSends: !loseSaves, loseSaves });
  }

  /** Messages `node` sent at the current virtual time never arrive. */
  private loseLastSends(node: SimNode): void {
    if (this.lastSends.at !== this.now) return;
    for (const event of this.lastSends.events) if (event.from === node.id) event.lost = true;
  }

  /** Runs `callback` (a listener or promise handler of a node), keeping the first failure for the run loop. */
  guard(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.asyncFailure ??= error;
    }
  }

  // ---------------------------------------------------------------- nodes

  /** Starts a new run of `node` on its storage: the shipped RaftInterface, with the simulation's listeners. */
  startNode(node: SimNode): void {
    node.generation++;
    node.alive = true;
    node.machine = [];
    node.machineIds = new Set();
    node.pending = new Map();
    node.maxCommit = 0;
    node.maxApplied = 0;
    // The term this run starts from is what the storage holds: it must not go back from there.
    node.maxTerm = node.storage.durable.hardState?.term ?? 0;
    node.clock = new SimClock(this, node);
    const raft = SimRaft.start(node, this, {
      peers: node.peers,
      storage: node.storage,
      clock: node.clock,
      random: node.rng.fn,
      snapshotThreshold: this.snapshotThreshold > 0 ? this.snapshotThreshold : undefined,
      ...this.coreKnobs,
    });
    node.raft = raft;
    const generation = node.generation;
    const current = () => node.alive && node.generation === generation;
    // Every entry the core hands out for application, noops and configurations included (state machine safety).
    const core = node.core;
    const takeReady = core.ready.bind(core);
    core.ready = () => {
      const ready = takeReady();
      if (current()) this.guard(() => {
        for (const entry of ready.committedEntries) this.invariants.committedEntry(node, entry);
      });
      return ready;
    };
    raft.listen('apply', (entry: AppliedEntry, index: number) => {
      if (current()) this.guard(() => this.applied(node, entry, index));
    });
    raft.listen('refresh', (snapshot: SnapshotImage) => {
      if (current()) this.guard(() => this.refreshed(node, snapshot));
    });
    raft.listen('state changed', (state: string) => {
      if (!current()) return;
      this.guard(() => {
        // Role events fire when the getters already show the role they announce.
        if (raft.state !== state || raft.status().state !== state) this.fail(`${node.id}: 'state changed' to ${state} fired while state is ${raft.state} and status().state ${raft.status().state}`);
        this.invariants.checkPublicView(node);
      });
    });
    raft.listen('invalid message', (from: string, error: Error & { code?: string }) => {
      // A node removed from the configuration (and still running) is refused as it should be; nothing else honest is.
      if (error.code === 'NOT_A_MEMBER') return;
      if (current()) this.guard(() => this.fail(`${node.id} rejected a message from ${from}: ${error.code} ${error.message}`));
    });
    raft.listen('error', (error: unknown, where?: string) => {
      if (!current()) return;
      if (error instanceof InjectedSaveFailure) {
        // The node stops on a failed save (its disk state is unknown); an operator restarts it.
        this.trace(`${node.id} save FAILED: the node stops`);
        this.stats.saveFailures++;
        this.stopRun(node);
        this.schedule(this.now + this.rng.range(50, 1500), { kind: 'restart', node: node.index });
        return;
      }
      this.asyncFailure ??= error instanceof SimFailure ? error : new SimFailure(`${node.id} reported an error${where ? ` in '${where}'` : ''}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    });
    this.trace(`${node.id} start run ${generation}${node.peers.length === 0 ? ' (peers [])' : ''}: stored term ${node.maxTerm}, snapshot ${node.storage.durable.snapshot?.index ?? 0}, ${node.storage.durable.entries.length} entries`);
  }

  /** Ends this run of `node` as a process death would: no more timers or turns, and of the saves in flight only the first `landed` reach the disk. */
  stopRun(node: SimNode, landed = 0): void {
    if (!node.alive) return;
    node.alive = false;
    node.clock.dead = true;
    node.storage.crash(landed);
    const counters = node.core.counters;
    this.stats.probeResets += counters.probeResets;
    this.stats.snapshotsSent += counters.snapshotsSent;
  }

  /** The process dies: the saves in flight are lost, or some landed without the node learning of it (none with `loseSaves`). */
  crash(node: SimNode, loseSaves = false): void {
    if (!node.alive) return;
    const inflight = node.storage.savesInFlight;
    const landed = inflight > 0 && !loseSaves ? this.rng.int(inflight + 1) : 0;
    this.trace(`${node.id} CRASH (saves in flight: ${inflight}, landed ${landed})`);
    this.stopRun(node, landed);
    this.stats.crashes++;
  }

  byId(id: string): SimNode {
    return this.nodes[id.charCodeAt(0) - 97];
  }

  /** The running leader of the highest term, if any. */
  currentLeader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes) if (n.alive && n.core.isLeader && (!best || n.core.term > best.core.term)) best = n;
    return best;
  }

  // ---------------------------------------------------------------- storage (SimHost)

  nextSave(): { delay: number; fails: boolean } {
    const delay = this.saveLatency === 0 ? 0 : this.rng.int(this.saveLatency + 1);
    const fails = this.faults && this.saveFailRate > 0 && this.storageRng.chance(this.saveFailRate);
    return { delay, fails };
  }

  /** A save became durable: log matching on what became durable, and the configuration of a saved snapshot. */
  persisted(node: SimNode, update: StorageUpdate, durable: Durable): void {
    if (update.snapshot) this.invariants.checkSnapshotConfiguration(node, update.snapshot, 'saved');
    if (!update.entries) return;
    // An entry a node appended but lost in a crash before saving never existed for anyone else.
    const first = (durable.snapshot?.index ?? 0) + 1;
    for (const e of update.entries) {
      if (e.index < first) continue;
      const prev = e.index - 1;
      const prevTerm = prev === 0 ? 0 : prev === (durable.snapshot?.index ?? 0) ? durable.snapshot?.term : durable.entries[prev - first]?.term;
      this.invariants.checkEntry(node, e, prevTerm);
    }
  }

  // ---------------------------------------------------------------- network (SimHost)

  send(from: string, to: string, payload: object): void {
    this.stats.messages++;
    const link = `${from}>${to}`;
    const text = JSON.stringify(payload);
    if (this.faults && (this.blocked.has(link) || this.patterns.drops(from, to) || (this.dropRate > 0 && this.rng.chance(this.dropRate)))) {
      this.stats.dropped++;
      if (this.options.trace) this.trace(`  drop ${describeMessage(from, payload)}`);
      return;
    }
    const epoch = this.byId(from).epoch;
    if (this.faults && this.replayRate > 0) this.maybeReplay({ from, to, text, epoch });
    const copies = this.faults && this.dupRate > 0 && this.rng.chance(this.dupRate) ? 2 : 1;
    if (copies > 1) this.stats.duplicated++;
    if (this.lastSends.at !== this.now) this.lastSends = { at: this.now, events: [] };
    const extraDelay = this.faults ? this.patterns.extraDelay(payload) : 0;
    for (let c = 0; c < copies; c++) {
      let delay = 1 + this.rng.int(this.maxLatency) + extraDelay;
      if (this.faults && this.slowRate > 0 && this.rng.chance(this.slowRate)) delay += this.rng.int(400);
      const event: Extract<SimEvent, { kind: 'deliver' }> = extraDelay > 0 ? { kind: 'deliver', from, to, text, epoch, replay: true } : { kind: 'deliver', from, to, text, epoch };
      this.lastSends.events.push(event);
      this.schedule(this.now + delay, event);
    }
    if (this.options.trace) this.trace(`  send ${describeMessage(from, payload)}${copies > 1 ? ' (x2)' : ''}`);
  }

  /** Remembers `sent` and, with chance replayRate, schedules an earlier message to arrive again much later. */
  private maybeReplay(sent: { from: string; to: string; text: string; epoch: number }): void {
    this.sentHistory[this.sentCount++ % REPLAY_HISTORY] = sent;
    if (!this.replayRng.chance(this.replayRate)) return;
    const old = this.sentHistory[this.replayRng.int(Math.min(this.sentCount, REPLAY_HISTORY))];
    this.stats.replayed++;
    if (this.options.trace) this.trace(`  replay later ${old.from}>${old.to} ${old.text.slice(0, 120)}`);
    this.schedule(this.now + this.replayRng.range(50, 2000), { kind: 'deliver', ...old, replay: true });
  }

  private deliver(from: string, to: string, text: string): void {
    const node = this.byId(to);
    if (!node || !node.alive) return;
    if (this.faults && (this.blocked.has(`${from}>${to}`) || this.patterns.drops(from, to))) {
      this.stats.dropped++;
      return;
    }
    const payload = JSON.parse(text) as Record<string, unknown>;
    if (this.options.trace) this.trace(`${to} recv @${node.localNow(this.now)} ${describeMessage(from, payload)}`);
    const raft = node.raft;
    // Only campaigns of removed servers are watched (§4.2.3); a removed old leader's TimeoutNow
    // handover or a last response from a member being removed are ordinary protocol.
    const watch = this.quietMembers !== null && this.quietMembers.has(node.id) && !this.quietMembers.has(from) && 'requestVoteRequest' in payload;
    const termBefore = raft.currentTerm;
    const leaderBefore = raft.leaderID;
    if (this.faults) this.patterns.beforeDelivery(node, from, payload);
    const core = node.core;
    const before = { commitIndex: core.commitIndex, votedFor: core.votedFor, lastIndex: core.log.lastIndex() };
    raft.gotData(from, payload);
    this.patterns.afterDelivery(node, from, payload, before);
    if (watch && node.alive && (raft.currentTerm !== termBefore || (leaderBefore !== null && raft.leaderID !== leaderBefore))) {
      this.fail(
        `disruption: a RequestVote from ${from}, not a member of the final configuration, ` +
          `moved ${node.id} from term ${termBefore} leader ${leaderBefore} to term ${raft.currentTerm} leader ${raft.leaderID} (preVote ${this.coreKnobs.preVote}, checkQuorum ${this.coreKnobs.checkQuorum})`,
      );
    }
  }

  // ---------------------------------------------------------------- state machine (listeners)

  private applied(node: SimNode, entry: AppliedEntry, index: number): void {
    const id = commandId(entry.command);
    this.invariants.applied(node, id, index, entry.term);
    this.stats.applied++;
    if (this.options.trace) this.trace(`${node.id} apply ${index}/${entry.term} ${id}`);
  }

  private refreshed(node: SimNode, snapshot: SnapshotImage): void {
    const data = snapshot.data as unknown as AppliedCommand[];
    if (!Array.isArray(data)) this.fail(`${node.id} got a snapshot at ${snapshot.index} whose data is not the state machine: ${JSON.stringify(snapshot.data).slice(0, 200)}`);
    this.invariants.checkSnapshotData(node, snapshot, data);
    node.machine = data.map((c) => ({ i: c.i, id: c.id }));
    node.machineIds = new Set(node.machine.map((c) => c.id));
    this.stats.snapshotsInstalled++;
    this.trace(`${node.id} refresh from snapshot ${snapshot.index}/${snapshot.term} (${data.length} commands)`);
  }

  // ---------------------------------------------------------------- client load

  propose(node: SimNode, liveness = false): string | null {
    if (!node.alive) return null;
    const id = `${liveness ? 'L' : 'p'}${this.nextCommand++}`;
    const generation = node.generation;
    node.pending.set(id, { id, proposedAt: node.localNow(this.now), timeout: SIM_TIMING.messageTimeout });
    this.stats.proposals++;
    if (this.options.trace) this.trace(`${node.id} propose ${id} (${node.raft.state}, leader ${node.raft.leaderID})`);
    node.raft.propose({ id } as JsonValue).then(
      ({ index }) =>
        this.guard(() => {
          if (node.generation !== generation || !node.alive) return;
          node.pending.delete(id);
          this.invariants.settle(node, id, index);
          if (this.options.trace) this.trace(`${node.id} proposal ${id} settled at ${index}`);
        }),
      (error: { code?: string }) => {
        if (node.generation === generation) node.pending.delete(id);
        if (this.options.trace) this.trace(`${node.id} proposal ${id} failed: ${error.code}`);
      },
    );
    return id;
  }

  private issueRead(): void {
    const running = this.nodes.filter((n) => n.alive);
    if (running.length === 0) return;
    this.read(this.rng.pick(running));
  }

  /** A readBarrier on `node`; when it resolves, `node` must have applied everything committed before the call. */
  read(node: SimNode): void {
    if (!node.alive) return;
    // A read must see everything committed before it started, wherever that commit is known.
    const minIndex = this.invariants.maxCommit;
    const generation = node.generation;
    this.stats.reads++;
    if (this.options.trace) this.trace(`${node.id} readBarrier (${node.raft.state}, leader ${node.raft.leaderID}, cluster commit ${minIndex})`);
    node.raft.readBarrier().then(
      () =>
        this.guard(() => {
          if (node.generation !== generation || !node.alive) return;
          const applied = node.raft.status().lastApplied;
          if (applied < minIndex) {
            this.fail(`linearizable read: ${node.id}'s readBarrier resolved with ${applied} applied, but ${minIndex} was committed before the read was issued`);
          }
          this.stats.readsOk++;
          if (this.options.trace) this.trace(`${node.id} read confirmed, applied ${applied} (issued at cluster commit ${minIndex})`);
        }),
      (error: { code?: string }) => {
        if (this.options.trace) this.trace(`${node.id} read failed: ${error.code}`);
      },
    );
  }

  private issueTransfer(): void {
    const rng = this.rng;
    const leaders = this.nodes.filter((n) => n.alive && n.core.isLeader);
    const running = this.nodes.filter((n) => n.alive);
    if (running.length === 0) return;
    const node = leaders.length > 0 && rng.chance(0.7) ? rng.pick(leaders) : rng.pick(running);
    const voters = node.core.configuration.voters;
    let target: string | null = null;
    const roll = rng.next();
    if (roll < 0.1) target = rng.pick(this.ids);
    else if (roll < 0.85 && voters.length > 0) target = rng.pick(voters);
    const timeout = Math.max(SIM_TIMING.messageTimeout, 2 * SIM_TIMING.electionTimeout); // the longest a transfer may wait
    this.lastTransferDeadline = Math.max(this.lastTransferDeadline, this.now + Math.ceil(timeout / node.drift) + 10);
    const issuer = node.id;
    const term = node.core.term;
    const targetWasVoter = target === null || isVoter(node.core.configuration, target);
    this.stats.transfers++;
    this.trace(`${node.id} transferLeadership(${target ?? ''}) (${node.raft.state} term ${term})`);
    node.raft.transferLeadership(target ?? undefined).then(
      () =>
        this.guard(() => {
          this.trace(`${issuer} transfer to ${target ?? 'any'}: ok`);
          if (!targetWasVoter) this.fail(`transfer to ${target}, not a voter of ${issuer}'s configuration, reported success`);
          // Success means the target (any other node when none was named) led a term at or after the request.
          let ok = false;
          for (const [t, leader] of this.invariants.leaderOfTerm) {
            if (t >= term && (target === null ? leader !== issuer : leader === target)) ok = true;
          }
          if (!ok) {
            const since = [...this.invariants.leaderOfTerm].filter(([t]) => t >= term).map(([t, l]) => `${t}:${l}`).join(' ');
            this.fail(`transfer from ${issuer} (term ${term}) to ${target ?? 'any'} reported success, but the leaders since were ${since || 'none'}`);
          }
          this.stats.transfersOk++;
        }),
      (error: { code?: string }) => this.trace(`${issuer} transfer to ${target ?? 'any'}: ${error.code}`),
    );
  }

  // ---------------------------------------------------------------- faults

  private chaos(): void {
    const rng = this.rng;
    this.checkMachinesAgree();
    if (rng.chance(0.15)) this.issueRead();
    if (this.faults && rng.chance(0.04)) this.issueTransfer();
    if (this.churn.enabled && this.faults && rng.chance(0.15)) this.churn.action();
    if (this.faults && this.patterns.maybeStart()) return;
    if (this.patterns.busy) {
      // A directed scenario owns the network and the crashes for now: load only.
      this.propose(rng.pick(this.nodes));
      return;
    }
    const roll = rng.next();
    if (roll < 0.45 || !this.faults) {
      if (rng.chance(this.faults ? 1 : 0.6)) this.propose(rng.pick(this.nodes));
      return;
    }
    if (roll < 0.55) {
      // Half the crashes hit a leader: that is where uncommitted entries and elections race.
      const leaders = this.nodes.filter((n) => n.alive && n.core.isLeader);
      const node = leaders.length > 0 && rng.chance(0.5) ? rng.pick(leaders) : rng.pick(this.nodes);
      if (node.alive) {
        this.crash(node);
        this.schedule(this.now + rng.range(50, 1500), { kind: 'restart', node: node.index });
      }
      return;
    }
    if (roll < 0.75) {
      this.partition();
      return;
    }
    if (roll < 0.9) {
      if (this.blocked.size > 0) this.trace(`HEAL partitions`);
      this.blocked.clear();
      return;
    }
    this.dropRate = rng.chance(0.5) ? 0 : rng.next() * 0.2;
    this.trace(`network: drop ${this.dropRate.toFixed(3)}`);
  }

  private partition(): void {
    const rng = this.rng;
    this.blocked.clear();
    this.stats.partitions++;
    const kind = rng.int(3);
    if (kind === 0) {
      const a = rng.pick(this.ids);
      for (const b of this.ids) if (b !== a) this.block(a, b, true);
      this.trace(`PARTITION isolate ${a}`);
    } else if (kind === 1) {
      const side = new Set(this.ids.filter(() => rng.chance(0.5)));
      for (const a of this.ids) for (const b of this.ids) if (side.has(a) && !side.has(b)) this.block(a, b, true);
      this.trace(`PARTITION split {${[...side].join(',')}} | {${this.ids.filter((i) => !side.has(i)).join(',')}}`);
    } else {
      const links: string[] = [];
      for (const a of this.ids) for (const b of this.ids) if (a !== b && rng.chance(0.3)) {
        this.block(a, b, false);
        links.push(`${a}>${b}`);
      }
      this.trace(`PARTITION one-way ${links.join(' ') || '(none)'}`);
    }
  }

  block(a: string, b: string, both: boolean): void {
    this.blocked.add(`${a}>${b}`);
    if (both) this.blocked.add(`${b}>${a}`);
  }

  heal(): void {
    this.faults = false;
    this.blocked.clear();
    this.patterns.stop();
    this.trace(`HEAL everything (step ${this.steps})`);
    for (const node of this.nodes) if (!node.alive && !node.retired) this.startNode(node);
    this.churn.reviveRetiredMembers();
  }

  // ---------------------------------------------------------------- liveness and final checks

  /** After healing: a leader is elected and a fresh proposal is applied on every member of the final configuration in bounded time. */
  private async liveness(): Promise<void> {
    const deadline = this.now + this.options.livenessMs;
    let id = this.propose(this.livenessProposer(), true);
    if (id) this.livenessIds.add(id);
    let nextRetry = this.now + 3500;
    let nextRevive = this.now + 100;
    while (!this.livenessDone()) {
      if (this.now >= deadline || !(await this.step())) {
        const views = this.nodes
          .map((n) => `${n.id}: ${n.alive ? '' : n.retired ? 'retired ' : 'down '}${n.core.state} term ${n.core.term} leader ${n.core.leaderId} commit ${n.core.commitIndex} applied ${n.raft.status().lastApplied} last ${n.core.log.lastIndex()} config ${configKey(n.core.configuration)}`)
          .join('; ');
        this.fail(`liveness: no fresh proposal applied on every member within ${this.options.livenessMs} ms after healing (${views})`);
      }
      if (this.now >= nextRevive) {
        this.churn.reviveRetiredMembers();
        if (!this.coreKnobs.preVote && !this.coreKnobs.checkQuorum) this.churn.retireDisruptors();
        nextRevive = this.now + 100;
      }
      if (this.now >= nextRetry) {
        // A client retries a proposal that timed out with a new one.
        id = this.propose(this.livenessProposer(), true);
        if (id) this.livenessIds.add(id);
        nextRetry = this.now + 3500;
      }
    }
  }

  /** A random running node that counts itself a voter (a spare or removed node may not reach the leader). */
  private livenessProposer(): SimNode {
    const leader = this.currentLeader();
    if (leader) {
      const inConfig = members(leader.core.configuration).map((a) => this.byId(a)).filter((n) => n.alive);
      if (inConfig.length > 0) return this.rng.pick(inConfig);
    }
    const voters = this.nodes.filter((n) => n.alive && isVoter(n.core.configuration, n.id));
    return voters.length > 0 ? this.rng.pick(voters) : this.rng.pick(this.nodes);
  }

  private livenessDone(): boolean {
    const leader = this.currentLeader();
    if (!leader) return false;
    const core = leader.core;
    const config = core.configuration;
    if (!isVoter(config, leader.id)) return false;
    // The final configuration is committed.
    for (let i = core.commitIndex + 1; i <= core.log.lastIndex(); i++) if (core.log.entryAt(i)?.type === 'configuration') return false;
    for (const address of members(config)) {
      const node = this.byId(address);
      if (!node.alive) return false;
      let found = false;
      for (const id of this.livenessIds) if (node.machineIds.has(id)) found = true;
      if (!found) return false;
    }
    return true;
  }

  /** Running members' state machines agree on every index both applied (state machine safety, as the application sees it). */
  private checkMachinesAgree(): void {
    let reference: SimNode | null = null;
    for (const node of this.nodes) {
      if (!node.alive) continue;
      if (!reference) {
        reference = node;
        continue;
      }
      const a = reference.machine;
      const b = node.machine;
      const upTo = Math.min(reference.raft.status().lastApplied, node.raft.status().lastApplied);
      for (let i = 0, j = 0; ; i++, j++) {
        const x = i < a.length && a[i].i <= upTo ? a[i] : undefined;
        const y = j < b.length && b[j].i <= upTo ? b[j] : undefined;
        if (!x && !y) break;
        if (!x || !y || x.i !== y.i || x.id !== y.id) {
          this.fail(`state machines differ up to ${upTo}: ${reference.id} has ${x ? `${x.id}@${x.i}` : 'nothing'} where ${node.id} has ${y ? `${y.id}@${y.i}` : 'nothing'}`);
        }
      }
    }
  }

  private async finalChecks(): Promise<void> {
    this.checkMachinesAgree();
    for (const node of this.nodes) {
      if (!node.alive) continue;
      const log = node.core.log;
      for (let i = log.firstIndex(); i <= log.lastIndex(); i++) this.invariants.checkEntry(node, log.entryAt(i) as LogEntry);
      // A proposal never hangs: it settles (applied or failed) by its deadline.
      const local = node.localNow(this.now);
      for (const p of node.pending.values()) {
        if (local > p.proposedAt + p.timeout + 1000) this.fail(`${node.id} proposal ${p.id} (proposed at ${p.proposedAt}, timeout ${p.timeout}) is still pending at ${local}`);
      }
      this.invariants.checkConfiguration(node);
    }
    for (const [id, index] of this.invariants.settled) {
      if (this.invariants.appliedAt.get(id) !== index) this.fail(`proposal ${id} settled at ${index} but applied at ${this.invariants.appliedAt.get(id)}`);
    }
    this.churn.finalChecks();
  }

  // ---------------------------------------------------------------- invariants

  private checkInvariants(): void {
    this.invariants.checkNodes(this.nodes);
    this.stats.leaders = this.invariants.leaders;
  }

  // ---------------------------------------------------------------- helpers

  fail(message: string): never {
    throw new SimFailure(`${message} [seed ${this.seed}, t=${this.now}ms, step ${this.steps}]`);
  }

  trace(line: string): void {
    if (!this.options.trace) return;
    this.traceLines.push(`[${String(this.now).padStart(6)} #${this.steps}] ${line}`);
    if (this.traceLines.length > this.options.traceLimit * 2) this.traceLines.splice(0, this.traceLines.length - this.options.traceLimit);
  }

  /** The last `traceLimit` lines. */
  get lastTrace(): string[] {
    return this.traceLines.slice(-this.options.traceLimit);
  }
}

/** Runs one seed. */
export async function runSeed(options: SimOptions): Promise<SimResult> {
  const sim = new Simulation(options);
  const result = await sim.run();
  if (options.trace) result.trace = sim.lastTrace;
  return result;
}
