/**
 * Deterministic simulation of a WebRaft cluster (in the spirit of FoundationDB's
 * simulator and hashicorp/raft's fuzzy tests).
 *
 * K pure RaftCores are driven exactly as src/api/raft-interface.ts drives one
 * (take a Ready, persist it, advance, send, apply with a SessionTable), minus
 * promises: every asynchronous step is an event in a seeded priority queue
 * over virtual time. Each node sees its own drifting clock. Storage is an
 * honest model (a save is durable only when it completes; a crash loses the
 * save in flight, or lands it without the node knowing). Messages take the
 * real wire path: toPayload -> JSON.stringify -> JSON.parse -> fromPayload.
 *
 * Faults (all from the seed): drop, duplication, delay and reordering,
 * replay of old messages long after they were sent (stale terms, rounds and
 * answers), symmetric and asymmetric partitions, crash and restart, compaction.
 * Client load: proposals, ReadIndex reads and leadership transfers on random
 * nodes. Churn seeds (half of them, unless `churn: false`) also start spare
 * nodes with `peers: []` and add and remove members from random nodes while
 * proposing (the leader included), retire removed nodes or keep them running,
 * and re-add them, sometimes wiped (fresh storage, `peers: []`).
 * Invariants are checked after every step (among them: each membership
 * request is carried out at most once); a liveness check with the final
 * configuration ends each run, and churn seeds then check that a removed node
 * left running does not disrupt the members.
 */
import { bootstrapConfiguration, isMember, isVoter, members } from '../../src/core/membership.js';
import { snapshotCatchUpEntries } from '../../src/api/options.js';
import { RaftCore } from '../../src/core/raft.js';
import type { Ready } from '../../src/core/ready.js';
import { readyNeedsSave } from '../../src/core/ready.js';
import { SessionTable } from '../../src/core/sessions.js';
import type { Configuration, HardState, JsonValue, LogEntry, Message, Snapshot } from '../../src/core/types.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';
import { TimedQueue } from '../../src/testing/timed-queue.js';
import { fromPayload, toPayload } from '../../src/wire/index.js';

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
  /** Old messages delivered again long after they were sent. */
  replayed: number;
  crashes: number;
  partitions: number;
  proposals: number;
  applied: number;
  compactions: number;
  snapshotsInstalled: number;
  leaders: number;
  /** Churn seeds: spare nodes, membership changes issued / committed, wipes (fresh re-adds), retirements. */
  churn: boolean;
  spares: number;
  membershipIssued: number;
  membershipOk: number;
  wipes: number;
  retired: number;
  /** ReadIndex reads issued / confirmed with a read index. */
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

export class SimFailure extends Error {}

/** The repro command for one seed. */
export function reproCommand(options: { seed: number; nodes: number; steps?: number; churn?: boolean }): string {
  const steps = options.steps !== undefined && options.steps !== DEFAULT_STEPS ? ` --steps ${options.steps}` : '';
  const churn = options.churn === false ? ' --no-churn' : '';
  return `npm run sim -- --seed ${options.seed} --nodes ${options.nodes}${steps}${churn} --trace`;
}

// ------------------------------------------------------------------ event queue

type SimEvent =
  | { kind: 'deliver'; from: string; to: string; text: string; epoch: number; replay?: true }
  | { kind: 'saved'; node: number; generation: number; ready: Ready }
  | { kind: 'chaos' }
  | { kind: 'restart'; node: number };

// ------------------------------------------------------------------ nodes

interface Durable {
  hardState: HardState | null;
  snapshot: Snapshot | null;
  entries: LogEntry[];
}

/** One applied command in the state machine. */
interface AppliedCommand {
  i: number;
  id: string;
}

interface PendingProposal {
  id: string;
  proposedAt: number;
  timeout: number;
}

class SimNode {
  alive = false;
  generation = 0;
  core!: RaftCore;
  sessions = new SessionTable();
  /** The state machine: admitted commands in apply order. */
  machine: AppliedCommand[] = [];
  machineIds = new Set<string>();
  lastApplied = 0;
  /** The Ready being persisted (at most one, as in RaftInterface.process). */
  saving: Ready | null = null;
  /** Global virtual time of the next tick, or Infinity. */
  timerAt = Infinity;
  /** Proposals in flight: sequence -> command id. */
  pending = new Map<number, PendingProposal>();
  // Monotonic within one run.
  maxTerm = 0;
  maxCommit = 0;
  maxApplied = 0;
  /** Bootstrap peers when the storage is empty: the initial voters, or [] for a spare or a wiped node. */
  peers: string[] = [];
  /** Removed and stopped for good (until re-added): never restarted by a heal. */
  retired = false;
  /** Incremented when the storage is wiped: messages of an earlier incarnation are dropped. */
  epoch = 0;
  /** The configuration object last checked (the core replaces it whenever it changes). */
  checkedConfig: Configuration | null = null;
  checkedLast = -1;
  checkedSnapshot = -1;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly drift: number,
    readonly offset: number,
    readonly rng: SeededRandom,
    public durable: Durable,
  ) {}

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

interface AppliedRecord {
  term: number;
  fingerprint: string;
  /** Command id when admitted (applied to the state machine), else ''. */
  id: string;
  by: string;
}

function fingerprint(entry: LogEntry): string {
  return `${entry.term}|${entry.type}|${entry.clientId ?? ''}|${entry.sequence ?? 0}|${entry.firstOutstandingSequence ?? 0}|${
    entry.command === undefined ? '' : JSON.stringify(entry.command)
  }|${entry.configuration ? JSON.stringify(entry.configuration) : ''}`;
}

function commandId(entry: LogEntry): string {
  const c = entry.command as { id?: unknown } | undefined;
  return c && typeof c === 'object' && typeof c.id === 'string' ? c.id : '';
}

// ------------------------------------------------------------------ simulation

export class Simulation {
  readonly seed: number;
  readonly options: Required<Omit<SimOptions, 'seed'>>;
  private readonly rng: SeededRandom;
  private readonly queue = new TimedQueue<SimEvent>();
  private readonly nodes: SimNode[] = [];
  private readonly ids: string[];
  private now = 0;
  private steps = 0;
  private faults = true;
  private readonly traceLines: string[] = [];
  readonly stats: SimStats = {
    messages: 0,
    dropped: 0,
    replayed: 0,
    crashes: 0,
    partitions: 0,
    proposals: 0,
    applied: 0,
    compactions: 0,
    snapshotsInstalled: 0,
    leaders: 0,
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
  private dropRate: number;
  private dupRate: number;
  private slowRate: number;
  /**
   * Chance per message sent that an earlier message (any link, any type, from
   * the last REPLAY_HISTORY sent) is delivered once more, 50-2000 ms later.
   * Drawn from its own stream, so seeds without replay run exactly as before.
   */
  private readonly replayRate: number;
  private readonly replayRng: SeededRandom;
  /** The most recent messages sent, for replay (a ring of REPLAY_HISTORY). */
  private readonly sentHistory: { from: string; to: string; text: string; epoch: number }[] = [];
  private sentCount = 0;
  private maxLatency: number;
  private readonly saveLatency: number;
  /** Compact once this many entries were applied after the last snapshot (RaftInterface's snapshotThreshold); 0: never. */
  private readonly snapshotThreshold: number;
  private readonly coreKnobs: { preVote: boolean; checkQuorum: boolean; maxEntriesPerMessage: number; maxInflight: number; snapshotChunkBytes: number; leaseReads: boolean; maxClockDrift: number; snapshotCatchUpEntries: number };
  /** Directed links "a>b" that drop everything. */
  private readonly blocked = new Set<string>();

  // History for the invariants.
  private readonly leaderOfTerm = new Map<number, string>();
  /** Term -> highest commit index its leader reached (what that term committed). */
  private readonly committedInTerm = new Map<number, number>();
  /** `${index}:${term}` -> entry fingerprint and the term of the entry before it (log matching). */
  private readonly logRegistry = new Map<string, { fingerprint: string; prevTerm: number | undefined }>();
  /** Index -> what was applied there (state machine safety). */
  private readonly applied: AppliedRecord[] = [];
  /** Command id -> index where it was applied (exactly once across the cluster). */
  private readonly appliedAt = new Map<string, number>();
  /** Command id -> index its proposer was told it was applied at. */
  private readonly settled = new Map<string, number>();
  private nextCommand = 1;
  private livenessIds = new Set<string>();

  // Membership, reads and transfers.
  /** Membership churn in this seed. */
  private readonly churn: boolean;
  /** The voters every initial member bootstraps with. */
  private readonly initialVoters: string[];
  /** Highest commit index any node ever reported: everything up to it is committed. */
  private maxCommit = 0;
  /** Committed configuration entries in index order (first application of each index). */
  private readonly committedConfigs: { index: number; config: string; voters: string[]; members: string[] }[] = [];
  /** `${node}:${generation}:${requestId}` -> what was asked. */
  private readonly reads = new Map<string, { minIndex: number }>();
  private readonly readsDone: { node: SimNode; generation: number; readIndex: number }[] = [];
  private readonly transfers = new Map<string, { target: string | null; issuer: string; term: number; targetWasVoter: boolean }>();
  private readonly membershipRequests = new Map<string, { changeType: 'addVoter' | 'remove'; address: string }>();
  /** `addVoter:x` / `remove:x` -> how many such requests were issued. */
  private readonly issuedChanges = new Map<string, number>();
  /** `addVoter:x` (x became a voter) / `remove:x` (x left) -> how many committed configurations did it. */
  private readonly committedChanges = new Map<string, number>();
  /** The latest committed configuration seen (by first application). */
  private lastCommittedConfig: Configuration | null = null;
  private readonly membershipAdded = new Set<string>();
  /** After the fault phase: a message from a non-member must not change a member's term or leader. */
  private quietMembers: Set<string> | null = null;
  /** Latest deadline of a transfer request issued (no transfer may still be under way after it). */
  private lastTransferDeadline = 0;

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
    this.churn = (options.churn ?? true) && rng.chance(0.5);
    const spares = this.churn ? Math.min(rng.range(1, 2), 26 - options.nodes) : 0;
    this.stats.churn = this.churn;
    this.stats.spares = spares;
    this.ids = Array.from({ length: options.nodes + spares }, (_, i) => String.fromCharCode(97 + i));
    this.initialVoters = this.ids.slice(0, options.nodes);
    this.dropRate = rng.chance(0.3) ? 0 : rng.next() * 0.15;
    this.dupRate = rng.chance(0.5) ? 0 : rng.next() * 0.1;
    this.slowRate = rng.next() * 0.1;
    this.replayRng = new SeededRandom(options.seed * 31 + 17);
    this.replayRate = this.replayRng.chance(0.5) ? 0 : this.replayRng.next() * 0.05;
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
      // What RaftInterface passes (src/api/raft-interface.ts); derived, so the seeded stream is unchanged.
      snapshotCatchUpEntries: snapshotCatchUpEntries(this.snapshotThreshold),
    };
    for (let i = 0; i < this.ids.length; i++) {
      const node = new SimNode(i, this.ids[i], 0.9 + rng.next() * 0.2, rng.int(1000), rng.fork(), { hardState: null, snapshot: null, entries: [] });
      // Spares are created with peers [] and wait until a member adds them.
      node.peers = i < options.nodes ? [...this.initialVoters] : [];
      this.nodes.push(node);
    }
  }

  // ---------------------------------------------------------------- running

  run(): SimResult {
    let error: string | undefined;
    try {
      this.trace(
        `seed ${this.seed}: nodes ${this.ids.join(',')} drift ${this.nodes.map((n) => n.drift.toFixed(3)).join(',')} drop ${this.dropRate.toFixed(3)} dup ${this.dupRate.toFixed(3)} ` +
          `slow ${this.slowRate.toFixed(3)} replay ${this.replayRate.toFixed(3)} latency<=${this.maxLatency} save<=${this.saveLatency} snapshotThreshold ${this.snapshotThreshold} ${JSON.stringify(this.coreKnobs)}` +
          (this.churn ? ` churn: voters ${this.initialVoters.join(',')}, spares ${this.ids.slice(this.initialVoters.length).join(',')}` : ''),
      );
      for (const node of this.nodes) this.startNode(node);
      this.queue.push(this.rng.range(1, 50), { kind: 'chaos' });
      const faultSteps = Math.floor(this.options.steps * 0.7);
      while (this.steps < this.options.steps) {
        if (this.steps === faultSteps) this.heal();
        if (!this.step()) break;
      }
      if (this.faults) this.heal();
      this.liveness();
      if (this.churn) this.disruptionPhase();
      this.finalChecks();
    } catch (thrown) {
      error = thrown instanceof SimFailure ? thrown.message : thrown instanceof Error ? `${thrown.name}: ${thrown.message}\n${thrown.stack ?? ''}` : String(thrown);
      this.trace(`FAILURE: ${error.split('\n')[0]}`);
    }
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

  /** Processes the earliest event or timer. Returns false when nothing is left to do. */
  private step(): boolean {
    let timerNode: SimNode | null = null;
    let at = this.queue.peekAt();
    for (const node of this.nodes) {
      if (node.alive && node.timerAt < at) {
        at = node.timerAt;
        timerNode = node;
      }
    }
    if (!Number.isFinite(at)) return false;
    if (at > this.now) this.now = at;
    this.steps++;
    if (timerNode) {
      this.tickNode(timerNode);
    } else {
      this.handle(this.queue.pop() as SimEvent);
    }
    this.checkInvariants();
    return true;
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'deliver':
        // A wiped node is a new incarnation: what its old one sent is gone with its connections.
        if (event.epoch !== this.byId(event.from).epoch) return;
        // Replays are a fault: the healed network of the liveness phase stops them. (A replayed
        // TimeoutNow would start an election there, as it may anywhere: Raft cannot tell it from a fresh one.)
        if (event.replay && !this.faults) return;
        return this.deliver(event.from, event.to, event.text);
      case 'saved':
        return this.saved(this.nodes[event.node], event.generation, event.ready);
      case 'chaos':
        this.chaos();
        this.queue.push(this.now + this.rng.range(5, 120), { kind: 'chaos' });
        return;
      case 'restart': {
        const node = this.nodes[event.node];
        if (!node.alive && !node.retired) this.startNode(node);
        return;
      }
    }
  }

  // ---------------------------------------------------------------- node loop

  private startNode(node: SimNode): void {
    node.generation++;
    node.alive = true;
    node.sessions = new SessionTable();
    node.machine = [];
    node.machineIds = new Set();
    node.lastApplied = 0;
    node.saving = null;
    node.pending = new Map();
    node.maxCommit = 0;
    node.maxApplied = 0;
    node.core = new RaftCore({
      id: node.id,
      clientId: `${node.id}#${node.generation}`,
      timing: { heartbeatFrequency: () => 50, heartbeatTimeout: () => 300, electionTimeout: () => 300 },
      random: node.rng.fn,
      ...this.coreKnobs,
    });
    const stored = cloneDurable(node.durable);
    node.core.start(stored, node.peers, node.localNow(this.now));
    node.maxTerm = node.core.term;
    this.trace(`${node.id} start gen ${node.generation}${node.peers.length === 0 ? ' (peers [])' : ''}: term ${node.core.term} vote ${node.core.votedFor} commit ${node.core.commitIndex} log ${node.core.log.firstIndex()}..${node.core.log.lastIndex()} snapshot ${node.durable.snapshot?.index ?? 0}`);
    this.pump(node);
  }

  private crash(node: SimNode): void {
    if (!node.alive) return;
    // The save in flight is lost, or landed without the node learning of it.
    const landed = node.saving !== null && this.rng.chance(0.5);
    if (node.saving && landed) this.persist(node, node.saving);
    this.trace(`${node.id} CRASH (save in flight: ${node.saving ? (landed ? 'landed' : 'lost') : 'none'})`);
    node.alive = false;
    node.saving = null;
    node.timerAt = Infinity;
    this.stats.crashes++;
  }

  private tickNode(node: SimNode): void {
    const local = node.localNow(this.now);
    if (this.options.trace) this.trace(`${node.id} tick @${local} (${node.core.state} term ${node.core.term})`);
    node.core.tick(local);
    this.pump(node);
  }

  /** RaftInterface.process: take Readies until one needs a save; resume when it completes. */
  private pump(node: SimNode): void {
    while (node.alive && node.saving === null && node.core.hasReady()) {
      const ready = node.core.ready();
      if (readyNeedsSave(ready)) {
        node.saving = ready;
        const delay = this.saveLatency === 0 ? 0 : this.rng.int(this.saveLatency + 1);
        this.queue.push(this.now + delay, { kind: 'saved', node: node.index, generation: node.generation, ready });
        break;
      }
      this.finishReady(node, ready);
    }
    this.updateTimer(node);
  }

  private saved(node: SimNode, generation: number, ready: Ready): void {
    if (!node.alive || node.generation !== generation || node.saving !== ready) return;
    this.persist(node, ready);
    node.saving = null;
    this.finishReady(node, ready);
    this.pump(node);
  }

  /** The storage model: what MemoryStorage.save does, applied when the save completes. */
  private persist(node: SimNode, ready: Ready): void {
    const d = node.durable;
    if (ready.snapshot) {
      const snapshot = cloneJson(ready.snapshot);
      const first = (d.snapshot?.index ?? 0) + 1;
      const kept = d.entries[snapshot.index - first];
      d.entries = kept && kept.term === snapshot.term ? d.entries.slice(snapshot.index - first + 1) : [];
      d.snapshot = snapshot;
    }
    if (ready.entries.length > 0) {
      const first = (d.snapshot?.index ?? 0) + 1;
      const start = ready.entries[0].index;
      const keep = Math.max(0, start - first);
      if (keep > d.entries.length) this.fail(`${node.id} saved entries from ${start} but its stored log ends at ${first + d.entries.length - 1} (a hole)`);
      d.entries.length = keep;
      for (const e of ready.entries) if (e.index >= first) d.entries.push({ ...e });
      // Log matching is checked on what became durable (an entry a node appended but lost in a
      // crash before saving never existed for anyone else), with predecessors from the stored log.
      for (const e of ready.entries) {
        if (e.index < first) continue;
        const prev = e.index - 1;
        const prevTerm = prev === 0 ? 0 : prev === (d.snapshot?.index ?? 0) ? d.snapshot?.term : d.entries[prev - first]?.term;
        this.checkEntry(node, e, prevTerm);
      }
    }
    if (ready.hardState) d.hardState = { ...ready.hardState };
  }

  /** After the save: advance, send, apply (RaftInterface.process). */
  private finishReady(node: SimNode, ready: Ready): void {
    node.core.advance(ready);
    for (const message of ready.messages) this.send(message);
    if (ready.snapshotToApply) this.applySnapshot(node, ready.snapshotToApply);
    for (const entry of ready.committedEntries) this.applyEntry(node, entry);
    for (const failure of ready.proposalFailures) {
      const p = node.pending.get(failure.sequence);
      if (!p) continue;
      node.pending.delete(failure.sequence);
      this.trace(`${node.id} proposal ${p.id} failed: ${failure.code}`);
    }
    for (const result of ready.readResults) this.readResult(node, result);
    for (const result of ready.membershipResults) this.membershipResult(node, result);
    for (const result of ready.transferResults) this.transferResult(node, result);
    if (this.snapshotThreshold > 0 && node.lastApplied - node.core.log.snapshotIndex >= this.snapshotThreshold) this.compact(node);
  }

  private updateTimer(node: SimNode): void {
    node.timerAt = node.alive ? node.core && node.globalFor(node.core.nextDeadline(), this.now) : Infinity;
  }

  // ---------------------------------------------------------------- network

  private send(message: Message): void {
    this.stats.messages++;
    const payload = toPayload(message);
    const link = `${message.from}>${message.to}`;
    if (this.faults && (this.blocked.has(link) || (this.dropRate > 0 && this.rng.chance(this.dropRate)))) {
      this.stats.dropped++;
      if (this.options.trace) this.trace(`  drop ${describe(message)}`);
      return;
    }
    const text = JSON.stringify(payload);
    if (this.faults && this.replayRate > 0) this.maybeReplay({ from: message.from, to: message.to, text, epoch: this.byId(message.from).epoch });
    const copies = this.faults && this.dupRate > 0 && this.rng.chance(this.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      let delay = 1 + this.rng.int(this.maxLatency);
      if (this.faults && this.slowRate > 0 && this.rng.chance(this.slowRate)) delay += this.rng.int(400);
      this.queue.push(this.now + delay, { kind: 'deliver', from: message.from, to: message.to, text, epoch: this.byId(message.from).epoch });
    }
    if (this.options.trace) this.trace(`  send ${describe(message)}${copies > 1 ? ' (x2)' : ''}`);
  }

  /** Remembers `sent` and, with chance replayRate, schedules an earlier message to arrive again much later. */
  private maybeReplay(sent: { from: string; to: string; text: string; epoch: number }): void {
    this.sentHistory[this.sentCount++ % REPLAY_HISTORY] = sent;
    if (!this.replayRng.chance(this.replayRate)) return;
    const old = this.sentHistory[this.replayRng.int(Math.min(this.sentCount, REPLAY_HISTORY))];
    this.stats.replayed++;
    if (this.options.trace) this.trace(`  replay later ${old.from}>${old.to} ${old.text.slice(0, 120)}`);
    this.queue.push(this.now + this.replayRng.range(50, 2000), { kind: 'deliver', ...old, replay: true });
  }

  private deliver(from: string, to: string, text: string): void {
    const node = this.nodes[to.charCodeAt(0) - 97];
    if (!node || !node.alive) return;
    if (this.faults && this.blocked.has(`${from}>${to}`)) {
      this.stats.dropped++;
      return;
    }
    const result = fromPayload(JSON.parse(text), { from });
    if (!result.ok) this.fail(`wire rejected a core message from ${from} to ${to}: ${result.error.message}\n${text.slice(0, 400)}`);
    const message = result.message;
    if (message.to !== node.id) this.fail(`message for ${message.to} arrived at ${node.id}`);
    const local = node.localNow(this.now);
    if (this.options.trace) this.trace(`${to} recv @${local} ${describe(message)}`);
    const core = node.core;
    // Only campaigns of removed servers are watched (§4.2.3); a removed old leader's TimeoutNow
    // handover or a last response from a member being removed are ordinary protocol.
    const watch = this.quietMembers !== null && this.quietMembers.has(node.id) && !this.quietMembers.has(from) && message.body.type === 'RequestVoteRequest';
    const termBefore = core.term;
    const leaderBefore = core.leaderId;
    core.step(message, local);
    this.pump(node);
    if (watch && node.alive && (core.term !== termBefore || (leaderBefore !== null && core.leaderId !== leaderBefore))) {
      this.fail(
        `disruption: ${describe(message)} from ${from}, not a member of the final configuration, ` +
          `moved ${node.id} from term ${termBefore} leader ${leaderBefore} to term ${core.term} leader ${core.leaderId} (preVote ${this.coreKnobs.preVote}, checkQuorum ${this.coreKnobs.checkQuorum})`,
      );
    }
  }

  // ---------------------------------------------------------------- state machine

  /** RaftInterface.applyEntry, with the checks. */
  private applyEntry(node: SimNode, entry: LogEntry): void {
    if (entry.index !== node.lastApplied + 1) this.fail(`${node.id} applies index ${entry.index} after ${node.lastApplied} (not in order)`);
    const admitted = entry.type === 'command' && node.sessions.admit(entry);
    const id = commandId(entry);
    if (admitted) {
      if (node.machineIds.has(id)) this.fail(`exactly once: ${node.id} applied command ${id} twice (again at index ${entry.index}, term ${entry.term})`);
      node.machineIds.add(id);
      node.machine.push({ i: entry.index, id });
      const at = this.appliedAt.get(id);
      if (at === undefined) this.appliedAt.set(id, entry.index);
      else if (at !== entry.index) this.fail(`exactly once: command ${id} applied at index ${at} and, by ${node.id}, at ${entry.index}`);
      this.stats.applied++;
    }
    const record: AppliedRecord = { term: entry.term, fingerprint: fingerprint(entry), id: admitted ? id : '', by: node.id };
    const previous = this.applied[entry.index];
    if (previous === undefined) {
      this.applied[entry.index] = record;
      if (entry.type === 'configuration' && entry.configuration) {
        const last = this.committedConfigs[this.committedConfigs.length - 1];
        if (last && last.index >= entry.index) this.fail(`committed configuration at ${entry.index} first applied after the one at ${last.index}`);
        this.committedConfigs.push({ index: entry.index, config: configKey(entry.configuration), voters: [...entry.configuration.voters], members: members(entry.configuration) });
        this.checkMembershipChange(entry.index, entry.configuration);
        this.trace(`${node.id} applies configuration ${entry.index}/${entry.term} ${configKey(entry.configuration)}`);
      }
    } else if (previous.fingerprint !== record.fingerprint || previous.id !== record.id) {
      this.fail(
        `state machine safety: index ${entry.index} applied as ${previous.fingerprint} (admitted ${previous.id || 'no'}) by ${previous.by} ` +
          `but as ${record.fingerprint} (admitted ${record.id || 'no'}) by ${node.id}`,
      );
    }
    node.lastApplied = entry.index;
    node.core.appliedTo(entry.index);
    if (this.options.trace && entry.type === 'command') this.trace(`${node.id} apply ${entry.index}/${entry.term} ${id}${admitted ? '' : ' (duplicate, skipped)'}`);
    // The core says which of the node's proposals the entry settles (RaftInterface.settleProposalOf).
    const settled = entry.type === 'command' ? node.core.takeSettledProposalAt(entry.index) : undefined;
    if (settled !== undefined) {
      const p = node.pending.get(settled);
      if (p) {
        node.pending.delete(settled);
        const where = (entry.clientId ? node.sessions.lookup(entry.clientId, settled) : undefined) ?? { index: entry.index, term: entry.term };
        this.settle(node, p, where.index);
      }
    }
  }

  private settle(node: SimNode, p: PendingProposal, index: number): void {
    const record = this.applied[index];
    if (!record || record.id !== p.id) {
      this.fail(`proposal ${p.id} of ${node.id} settled as applied at ${index}, where ${record ? `${record.id || 'no command'} was applied` : 'nothing was applied'}`);
    }
    this.settled.set(p.id, index);
    if (this.options.trace) this.trace(`${node.id} proposal ${p.id} settled at ${index}`);
  }

  /** RaftInterface.applySnapshot (a refresh). */
  private applySnapshot(node: SimNode, snapshot: Snapshot): void {
    this.checkSnapshotConfiguration(node, snapshot, 'installed');
    node.sessions.restore(snapshot.sessions);
    const data = snapshot.data as unknown as AppliedCommand[];
    if (!Array.isArray(data)) this.fail(`${node.id} got a snapshot at ${snapshot.index} whose data is not the state machine: ${JSON.stringify(snapshot.data).slice(0, 200)}`);
    node.machine = data.map((c) => ({ i: c.i, id: c.id }));
    node.machineIds = new Set();
    for (const c of node.machine) {
      if (node.machineIds.has(c.id)) this.fail(`exactly once: snapshot at ${snapshot.index} holds command ${c.id} twice`);
      node.machineIds.add(c.id);
      const record = this.applied[c.i];
      if (c.i > snapshot.index || !record || record.id !== c.id) {
        this.fail(`snapshot at ${snapshot.index} installed on ${node.id} holds ${c.id} at ${c.i}, but ${record ? record.id || 'no command' : 'nothing'} was applied there`);
      }
    }
    node.lastApplied = Math.max(node.lastApplied, snapshot.index);
    node.core.appliedTo(node.lastApplied);
    this.stats.snapshotsInstalled++;
    this.trace(`${node.id} refresh from snapshot ${snapshot.index}/${snapshot.term} (${data.length} commands)`);
    for (const [sequence, p] of [...node.pending]) {
      const applied = node.sessions.lookup(node.core.clientId, sequence);
      if (applied) {
        node.pending.delete(sequence);
        this.settle(node, p, applied.index);
      }
    }
  }

  /** RaftInterface.maybeSnapshot at a random applied point. */
  private compact(node: SimNode): void {
    const core = node.core;
    const index = node.lastApplied;
    const term = core.log.termAt(index);
    if (term === undefined || index > core.log.stableIndex || index <= core.log.snapshotIndex) return;
    const data = node.machine.map((c) => ({ i: c.i, id: c.id })) as unknown as JsonValue;
    const snapshot: Snapshot = { index, term, configuration: core.configurationAt(index), data, sessions: node.sessions.toSnapshot() };
    this.checkSnapshotConfiguration(node, snapshot, 'taken');
    core.compact(snapshot);
    this.stats.compactions++;
    this.trace(`${node.id} compact to ${index}/${term}`);
  }

  // ---------------------------------------------------------------- faults and load

  private chaos(): void {
    const rng = this.rng;
    if (rng.chance(0.15)) this.issueRead();
    if (this.faults && rng.chance(0.04)) this.issueTransfer();
    if (this.churn && this.faults && rng.chance(0.15)) this.churnAction();
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
        this.queue.push(this.now + rng.range(50, 1500), { kind: 'restart', node: node.index });
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

  private block(a: string, b: string, both: boolean): void {
    this.blocked.add(`${a}>${b}`);
    if (both) this.blocked.add(`${b}>${a}`);
  }

  private propose(node: SimNode, liveness = false): string | null {
    if (!node.alive) return null;
    const id = `${liveness ? 'L' : 'p'}${this.nextCommand++}`;
    const timeout = 3000;
    const sequence = node.core.propose({ id }, timeout);
    node.pending.set(sequence, { id, proposedAt: node.localNow(this.now), timeout });
    this.stats.proposals++;
    if (this.options.trace) this.trace(`${node.id} propose ${id} as ${node.core.clientId}/${sequence} (${node.core.state}, leader ${node.core.leaderId})`);
    this.pump(node);
    return id;
  }

  private heal(): void {
    this.faults = false;
    this.blocked.clear();
    this.trace(`HEAL everything (step ${this.steps})`);
    for (const node of this.nodes) if (!node.alive && !node.retired) this.startNode(node);
    this.reviveRetiredMembers();
  }

  /**
   * Without PreVote and CheckQuorum nothing stops a removed server that never
   * learned of its removal from disrupting the cluster with higher terms
   * (dissertation §4.2.3; WebRaft enables both by default). For liveness in
   * such seeds, operators would stop it: removed nodes that may still
   * campaign are retired. That includes a node whose own log holds its
   * removal uncommitted: it stays promotable until the removal commits, which
   * it never hears of once the leader stops replicating to it (seed 205047,
   * 5 nodes, --steps 4000: such a node deposed the leader again and again).
   */
  private retireDisruptors(): void {
    const leader = this.currentLeader();
    if (!leader) return;
    for (const node of this.nodes) {
      if (!node.alive || isMember(leader.core.configuration, node.id) || !node.core.promotable) continue;
      node.alive = false;
      node.saving = null;
      node.timerAt = Infinity;
      node.retired = true;
      this.trace(`${node.id} RETIRED for liveness (removed, would disrupt without PreVote/CheckQuorum)`);
    }
  }

  /** A retired node that some configuration still (or again) names is restarted from its storage. */
  private reviveRetiredMembers(): void {
    for (const node of this.nodes) {
      if (node.alive || !node.retired) continue;
      // With a leader, its configuration decides (as in retireDisruptors: otherwise a removed node's stale
      // configuration revives what the leader's retires, forever). Without one, any running node's does, or
      // the node's own (when churn retired every member of the last configuration, no running node names them).
      const leader = this.currentLeader();
      const named = leader
        ? isMember(leader.core.configuration, node.id)
        : isMember(node.core.configuration, node.id) || this.nodes.some((n) => n.alive && isMember(n.core.configuration, node.id));
      if (named) {
        node.retired = false;
        this.trace(`${node.id} is a member again: restart from storage`);
        this.startNode(node);
      }
    }
  }

  /** After healing: a leader is elected and a fresh proposal is applied on every member of the final configuration in bounded time. */
  private liveness(): void {
    const deadline = this.now + this.options.livenessMs;
    let id = this.propose(this.livenessProposer(), true);
    if (id) this.livenessIds.add(id);
    let nextRetry = this.now + 3500;
    let nextRevive = this.now + 100;
    while (!this.livenessDone()) {
      if (this.now >= deadline || !this.step()) {
        const views = this.nodes
          .map((n) => `${n.id}: ${n.alive ? '' : n.retired ? 'retired ' : 'down '}${n.core.state} term ${n.core.term} leader ${n.core.leaderId} commit ${n.core.commitIndex} applied ${n.lastApplied} last ${n.core.log.lastIndex()} config ${configKey(n.core.configuration)}`)
          .join('; ');
        this.fail(`liveness: no fresh proposal applied on every member within ${this.options.livenessMs} ms after healing (${views})`);
      }
      if (this.now >= nextRevive) {
        this.reviveRetiredMembers();
        if (!this.coreKnobs.preVote && !this.coreKnobs.checkQuorum) this.retireDisruptors();
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

  /** The running leader of the highest term, if any. */
  private currentLeader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.nodes) if (n.alive && n.core.isLeader && (!best || n.core.term > best.core.term)) best = n;
    return best;
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

  /**
   * Churn seeds, after liveness: the leader removes a follower that keeps
   * running (it never hears of its removal: the leader stops replicating to
   * it at once), then for a quiet while no message of a non-member may change
   * a member's term or leader, and the leader and every member's term stay
   * put (dissertation §4.2.3: needs PreVote or CheckQuorum's lease).
   */
  private disruptionPhase(): void {
    if (!this.coreKnobs.preVote) {
      // Without PreVote a removed server's higher-term RequestVote can bump the term of a member
      // that is between leaders (its lease lapsed): Raft needs PreVote for §4.2.3 (etcd documents
      // the same). PreVote is WebRaft's default; only seeds with it are held to the rule.
      this.trace('disruption phase skipped: PreVote off');
      return;
    }
    let leader = this.currentLeader();
    if (!leader) this.fail('disruption phase: no leader after liveness');
    // Let transfers issued during the faults run out first.
    while (this.now < this.lastTransferDeadline + 50) if (!this.step()) break;
    leader = this.currentLeader();
    if (!leader) return;
    const followers = leader.core.configuration.voters.filter((v) => v !== leader!.id && this.byId(v).alive);
    if (followers.length > 0 && leader.core.configuration.voters.length >= 3) {
      const victim = this.rng.pick(followers);
      const requestId = leader.core.changeMembership('remove', victim, 3000);
      const key = `${leader.index}:${leader.generation}:${requestId}`;
      this.membershipRequests.set(key, { changeType: 'remove', address: victim });
      this.countIssued('remove', victim);
      this.stats.membershipIssued++;
      this.trace(`${leader.id} (leader) removes ${victim}, which keeps running`);
      this.pump(leader);
      const deadline = this.now + 4000;
      while (this.membershipRequests.has(key) && this.now < deadline) if (!this.step()) break;
    }
    // A leader that removed itself hands over: give the cluster time to elect the next one.
    const electBy = this.now + 5000;
    while (!this.currentLeader() && this.now < electBy) if (!this.step()) break;
    leader = this.currentLeader();
    if (!leader) this.fail('disruption phase: no leader after the removal');
    const outsiders = this.nodes.filter((n) => n.alive && !isMember(leader!.core.configuration, n.id) && isVoter(n.core.configuration, n.id));
    if (outsiders.length === 0) {
      this.trace('disruption phase: no removed node that still counts itself a voter is running');
      return;
    }
    // Let queued membership changes finish first (one may remove the leader itself: a legitimate hand-over).
    const settleBy = this.now + 3000;
    while (this.now < settleBy) {
      const current = this.currentLeader();
      if (current && current.core.latestConfigurationIndex <= current.core.commitIndex && isVoter(current.core.configuration, current.id)) break;
      if (!this.step()) break;
    }
    const settled = this.currentLeader();
    if (!settled || settled.core.latestConfigurationIndex > settled.core.commitIndex || !isVoter(settled.core.configuration, settled.id)) {
      this.trace('disruption phase: membership did not settle; skipped');
      return;
    }
    leader = settled;
    this.stats.disruptionChecked++;
    const config = configKey(leader.core.configuration);
    const memberNodes = members(leader.core.configuration).map((a) => this.byId(a));
    const terms = memberNodes.map((n) => n.core.term);
    const leaderTerm = leader.core.term;
    const stableAtStart = memberNodes.every((n) => n.alive && n.core.term === leaderTerm && (n === leader || n.core.leaderId === leader!.id));
    this.trace(`QUIET: leader ${leader.id} term ${leaderTerm}, members ${memberNodes.map((n) => n.id).join(',')}, removed but running: ${outsiders.map((n) => n.id).join(',')}`);
    this.quietMembers = new Set(memberNodes.map((n) => n.id));
    const end = this.now + 2500;
    while (this.now < end) if (!this.step()) break;
    this.quietMembers = null;
    if (configKey(leader.core.configuration) !== config) {
      this.trace('disruption phase: the configuration changed during the quiet phase (a late change); state not compared');
      return;
    }
    if (!stableAtStart) {
      // An election was still settling when the quiet phase began: only the per-message watch applies.
      this.trace('disruption phase: members were not all following the leader at the start; end state not compared');
      return;
    }
    if (!leader.alive || !leader.core.isLeader || leader.core.term !== leaderTerm) {
      this.fail(`disruption: leader ${leader.id} of term ${leaderTerm} is now ${leader.core.state} in term ${leader.core.term} with removed node(s) ${outsiders.map((n) => n.id).join(',')} running`);
    }
    memberNodes.forEach((n, i) => {
      if (n.core.term !== terms[i]) this.fail(`disruption: member ${n.id}'s term went from ${terms[i]} to ${n.core.term} with removed node(s) ${outsiders.map((o) => `${o.id} (term ${o.core.term})`).join(',')} running`);
    });
  }

  // ---------------------------------------------------------------- membership, reads, transfers

  private byId(id: string): SimNode {
    return this.nodes[id.charCodeAt(0) - 97];
  }

  /** The configuration as the running leader of the highest term sees it, else as the most advanced running node does. */
  private viewConfiguration(): Configuration | null {
    const leader = this.currentLeader();
    if (leader) return leader.core.configuration;
    let best: SimNode | null = null;
    for (const n of this.nodes) {
      if (!n.alive || n.core.configuration.voters.length === 0) continue;
      if (!best || n.core.term > best.core.term || (n.core.term === best.core.term && n.core.log.lastIndex() > best.core.log.lastIndex())) best = n;
    }
    return best ? best.core.configuration : null;
  }

  /** The latest configuration in a node's durable state (what it restarts with). */
  private durableConfiguration(node: SimNode): Configuration {
    const d = node.durable;
    for (let i = d.entries.length - 1; i >= 0; i--) {
      const e = d.entries[i];
      if (e.type === 'configuration' && e.configuration) return e.configuration;
    }
    if (d.snapshot) return d.snapshot.configuration;
    if (!d.hardState && d.entries.length === 0) return bootstrapConfiguration(node.id, node.peers);
    return { voters: [], learners: [] };
  }

  /**
   * True when the cluster has removed `node`, so wiping its storage loses no
   * vote or entry the cluster needs: it is not a member of the latest committed
   * configuration, and no other node (running or not) counts it a member. The
   * node's own view does not matter: one removed while it was down never
   * learned of it, and wiping it then is how an operator replaces it. (Going
   * only by the other nodes' views, seed 337 with --steps 12000 wiped the last
   * voter while it was down: the other nodes all held older logs.)
   */
  private safeToWipe(node: SimNode): boolean {
    const committed = this.committedConfigs[this.committedConfigs.length - 1];
    if (committed && committed.members.includes(node.id)) return false;
    for (const n of this.nodes) {
      if (n === node) continue;
      const config = n.alive ? n.core.configuration : this.durableConfiguration(n);
      if (isMember(config, node.id)) return false;
    }
    return true;
  }

  /** Restarts a node with empty storage and peers []: a new server under the old address. */
  private wipe(node: SimNode): void {
    if (node.alive) {
      node.alive = false;
      node.saving = null;
      node.timerAt = Infinity;
    }
    node.durable = { hardState: null, snapshot: null, entries: [] };
    node.peers = [];
    node.epoch++;
    node.retired = false;
    this.stats.wipes++;
    this.trace(`${node.id} WIPED (fresh storage, peers [])`);
    this.startNode(node);
  }

  /** One membership action: add a spare or removed node (re-adding it, wiped or not), remove a member (sometimes the leader), or retire a removed node. */
  private churnAction(): void {
    const rng = this.rng;
    const config = this.viewConfiguration();
    if (!config) return;
    const outsiders = this.nodes.filter((n) => !isMember(config, n.id));
    const roll = rng.next();
    if (roll < 0.2 && outsiders.some((n) => n.alive)) {
      // Retire a removed node: stopped for good unless it is added again.
      const node = rng.pick(outsiders.filter((n) => n.alive));
      node.alive = false;
      node.saving = null;
      node.timerAt = Infinity;
      node.retired = true;
      this.stats.retired++;
      this.trace(`${node.id} RETIRED (removed, stopped)`);
      return;
    }
    let changeType: 'addVoter' | 'remove';
    let target: SimNode;
    if (roll < 0.6 && outsiders.length > 0) {
      changeType = 'addVoter';
      target = rng.pick(outsiders);
      const wasMember = target.peers.length > 0 || target.durable.hardState !== null;
      if (wasMember && (!target.alive || rng.chance(0.5)) && this.safeToWipe(target)) this.wipe(target);
      else if (!target.alive) {
        target.retired = false;
        this.trace(`${target.id} restarted from storage to be re-added`);
        this.startNode(target);
      }
    } else {
      const all = members(config);
      if (all.length <= 1) return;
      changeType = 'remove';
      const leader = this.currentLeader();
      target = leader && rng.chance(0.3) ? leader : this.byId(rng.pick(all));
    }
    const running = this.nodes.filter((n) => n.alive);
    if (running.length === 0) return;
    const from = rng.pick(running);
    const requestId = from.core.changeMembership(changeType, target.id, rng.range(500, 4000));
    this.membershipRequests.set(`${from.index}:${from.generation}:${requestId}`, { changeType, address: target.id });
    this.countIssued(changeType, target.id);
    this.stats.membershipIssued++;
    this.trace(`${from.id} asks ${changeType} ${target.id} (${from.core.state}, leader ${from.core.leaderId}, config ${configKey(from.core.configuration)})`);
    this.pump(from);
  }

  private countIssued(changeType: 'addVoter' | 'remove', address: string): void {
    const key = `${changeType}:${address}`;
    this.issuedChanges.set(key, (this.issuedChanges.get(key) ?? 0) + 1);
  }

  /**
   * Membership requests are carried out at most once: no address becomes a
   * voter, or leaves, more often than such a change was requested (a retried
   * request carried out again would exceed it).
   */
  private checkMembershipChange(index: number, next: Configuration): void {
    const previous = this.lastCommittedConfig;
    this.lastCommittedConfig = { voters: [...next.voters], learners: [...next.learners] };
    if (!previous) return;
    const changes: string[] = [];
    for (const address of next.voters) if (!previous.voters.includes(address)) changes.push(`addVoter:${address}`);
    for (const address of members(previous)) if (!isMember(next, address)) changes.push(`remove:${address}`);
    for (const key of changes) {
      const committed = (this.committedChanges.get(key) ?? 0) + 1;
      this.committedChanges.set(key, committed);
      const issued = this.issuedChanges.get(key) ?? 0;
      if (committed > issued) {
        this.fail(`membership at most once: ${key} committed ${committed} times (at ${index}, ${configKey(previous)} -> ${configKey(next)}) but requested ${issued} times`);
      }
    }
  }

  private membershipResult(node: SimNode, result: { requestId: number; code?: string }): void {
    const key = `${node.index}:${node.generation}:${result.requestId}`;
    const request = this.membershipRequests.get(key);
    if (!request) this.fail(`${node.id} got a membership result for unknown request ${result.requestId}`);
    this.membershipRequests.delete(key);
    this.trace(`${node.id} ${request.changeType} ${request.address}: ${result.code ?? 'ok'}`);
    if (result.code) return;
    this.stats.membershipOk++;
    if (request.changeType === 'addVoter') this.membershipAdded.add(request.address);
  }

  private issueRead(): void {
    const running = this.nodes.filter((n) => n.alive);
    if (running.length === 0) return;
    const node = this.rng.pick(running);
    // A read must see everything committed before it started, wherever that commit is known.
    const minIndex = this.maxCommit;
    const requestId = node.core.readIndex(this.rng.range(300, 3000));
    this.reads.set(`${node.index}:${node.generation}:${requestId}`, { minIndex });
    this.stats.reads++;
    if (this.options.trace) this.trace(`${node.id} readIndex #${requestId} (${node.core.state}, leader ${node.core.leaderId}, cluster commit ${minIndex})`);
    this.pump(node);
  }

  private readResult(node: SimNode, result: { requestId: number; code?: string; readIndex?: number }): void {
    const key = `${node.index}:${node.generation}:${result.requestId}`;
    const read = this.reads.get(key);
    if (!read) this.fail(`${node.id} got a read result for unknown request ${result.requestId}`);
    this.reads.delete(key);
    if (result.code) {
      if (this.options.trace) this.trace(`${node.id} read #${result.requestId} failed: ${result.code}`);
      return;
    }
    const readIndex = result.readIndex ?? -1;
    if (readIndex < read.minIndex) {
      this.fail(`linearizable read: ${node.id} read #${result.requestId} returned read index ${readIndex}, but ${read.minIndex} was committed before the read was issued`);
    }
    if (readIndex > this.maxCommit) this.fail(`read #${result.requestId} on ${node.id} returned read index ${readIndex}, beyond any commit index (${this.maxCommit})`);
    this.stats.readsOk++;
    this.readsDone.push({ node, generation: node.generation, readIndex });
    if (this.options.trace) this.trace(`${node.id} read #${result.requestId} at ${readIndex} (issued at cluster commit ${read.minIndex})`);
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
    const timeout = rng.range(200, 1500);
    this.lastTransferDeadline = Math.max(this.lastTransferDeadline, this.now + Math.ceil(timeout / node.drift) + 10);
    const requestId = node.core.transferLeadership(target, timeout);
    this.transfers.set(`${node.index}:${node.generation}:${requestId}`, {
      target,
      issuer: node.id,
      term: node.core.term,
      targetWasVoter: target === null || isVoter(node.core.configuration, target),
    });
    this.stats.transfers++;
    this.trace(`${node.id} transferLeadership(${target ?? 'null'}) (${node.core.state} term ${node.core.term})`);
    this.pump(node);
  }

  private transferResult(node: SimNode, result: { requestId: number; code?: string }): void {
    const key = `${node.index}:${node.generation}:${result.requestId}`;
    const t = this.transfers.get(key);
    if (!t) this.fail(`${node.id} got a transfer result for unknown request ${result.requestId}`);
    this.transfers.delete(key);
    this.trace(`${node.id} transfer to ${t.target ?? 'null'}: ${result.code ?? 'ok'}`);
    if (result.code) return;
    if (!t.targetWasVoter) this.fail(`transfer to ${t.target}, not a voter of ${t.issuer}'s configuration, reported success`);
    // Success means the target (any other node when none was named) led a term at or after the request.
    let ok = false;
    for (const [term, leader] of this.leaderOfTerm) {
      if (term >= t.term && (t.target === null ? leader !== t.issuer : leader === t.target)) ok = true;
    }
    if (!ok) {
      const leaders = [...this.leaderOfTerm].filter(([term]) => term >= t.term).map(([term, l]) => `${term}:${l}`).join(' ');
      this.fail(`transfer from ${t.issuer} (term ${t.term}) to ${t.target ?? 'null'} reported success, but the leaders since were ${leaders || 'none'}`);
    }
    this.stats.transfersOk++;
  }

  /** Membership travels in snapshots: a snapshot's configuration is the committed one in force at its index. */
  private checkSnapshotConfiguration(node: SimNode, snapshot: Snapshot, what: string): void {
    const expected = this.committedConfigurationAt(snapshot.index);
    if (expected !== undefined && configKey(snapshot.configuration) !== expected) {
      this.fail(`snapshot ${what} on ${node.id} at ${snapshot.index} holds configuration ${configKey(snapshot.configuration)}, but ${expected} was in force at that index`);
    }
  }

  /** The committed configuration in force at `index`, when every entry up to it was applied somewhere. */
  private committedConfigurationAt(index: number): string | undefined {
    if (index >= this.applied.length) return undefined;
    const list = this.committedConfigs;
    let lo = 0;
    let hi = list.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].index <= index) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? list[found].config : undefined;
  }

  // ---------------------------------------------------------------- invariants

  private checkInvariants(): void {
    for (const node of this.nodes) {
      if (!node.alive) continue;
      const core = node.core;
      if (core.isLeader) {
        const known = this.leaderOfTerm.get(core.term);
        if (known === undefined) {
          this.leaderOfTerm.set(core.term, node.id);
          this.stats.leaders++;
          this.trace(`${node.id} is LEADER of term ${core.term} (log ${core.log.firstIndex()}..${core.log.lastIndex()}, commit ${core.commitIndex}, config ${configKey(core.configuration)})`);
          // Election safety with changing voter sets: only a voter of its own configuration wins.
          if (!mayCampaign(core, node.id)) this.fail(`${node.id} became leader of term ${core.term} but is not a voter of its configuration ${configKey(core.configuration)}`);
          this.checkLeaderCompleteness(node);
        } else if (known !== node.id) {
          this.fail(`election safety: ${known} and ${node.id} are both leaders of term ${core.term}`);
        }
        if ((this.committedInTerm.get(core.term) ?? 0) < core.commitIndex) this.committedInTerm.set(core.term, core.commitIndex);
      }
      if (core.state === 'candidate' && !mayCampaign(core, node.id)) {
        this.fail(`${node.id} campaigns (term ${core.term}) but is not a voter of its configuration ${configKey(core.configuration)}`);
      }
      if (core.commitIndex > this.maxCommit) this.maxCommit = core.commitIndex;
      if (core.isLeader) this.checkPendingConfigurations(node);
      const log = core.log;
      if (core.configuration !== node.checkedConfig || log.lastIndex() < node.checkedLast || log.snapshotIndex !== node.checkedSnapshot) this.checkConfiguration(node);
      node.checkedLast = log.lastIndex();
      // Bounded log (CONTRACT: a small multiple of snapshotThreshold): the entries a snapshot covers
      // that stay in memory for followers still installing an older one are at most snapshotCatchUpEntries.
      if (log.snapshotIndex - log.firstIndex() + 1 > this.coreKnobs.snapshotCatchUpEntries) {
        this.fail(`${node.id} keeps ${log.snapshotIndex - log.firstIndex() + 1} entries behind its snapshot at ${log.snapshotIndex}, more than ${this.coreKnobs.snapshotCatchUpEntries}`);
      }
      if (core.term < node.maxTerm) this.fail(`${node.id} term went back from ${node.maxTerm} to ${core.term}`);
      node.maxTerm = core.term;
      if (core.commitIndex < node.maxCommit) this.fail(`${node.id} commit index went back from ${node.maxCommit} to ${core.commitIndex}`);
      node.maxCommit = core.commitIndex;
      if (node.lastApplied < node.maxApplied) this.fail(`${node.id} applied index went back from ${node.maxApplied} to ${node.lastApplied}`);
      node.maxApplied = node.lastApplied;
      if (node.lastApplied > core.commitIndex) this.fail(`${node.id} applied ${node.lastApplied} beyond its commit index ${core.commitIndex}`);
    }
  }

  /**
   * At most one configuration change is uncommitted in a leader's log (§4.1):
   * every configuration entry a leader appends follows one it knew committed,
   * so above the cluster's commit index a log holds at most one.
   */
  private checkPendingConfigurations(node: SimNode): void {
    const log = node.core.log;
    let pending = 0;
    for (let i = Math.max(this.maxCommit, log.snapshotIndex) + 1; i <= log.lastIndex(); i++) {
      if (log.entryAt(i)?.type === 'configuration' && ++pending > 1) {
        this.fail(`leader ${node.id} (term ${node.core.term}) has two uncommitted configuration entries (the second at ${i}; cluster commit ${this.maxCommit})`);
      }
    }
  }

  /**
   * A node's configuration is the latest one in its log, or its snapshot's
   * when the log holds none (dissertation §4.1): so two nodes whose logs
   * match at an index (log matching) use the same configuration there.
   */
  private checkConfiguration(node: SimNode): void {
    const core = node.core;
    const log = core.log;
    node.checkedConfig = core.configuration;
    node.checkedSnapshot = log.snapshotIndex;
    let expected: Configuration | undefined;
    let from = 'its snapshot';
    for (let i = log.lastIndex(); i > log.snapshotIndex; i--) {
      const entry = log.entryAt(i);
      if (entry?.type === 'configuration' && entry.configuration) {
        expected = entry.configuration;
        from = `its entry ${i}/${entry.term}`;
        break;
      }
    }
    expected ??= core.latestSnapshot?.configuration;
    if (expected === undefined) {
      if (log.lastIndex() === 0 && core.configuration.voters.length === 0 && core.configuration.learners.length === 0) return;
      if (log.lastIndex() === 0) return;
      this.fail(`${node.id} has a log ${log.firstIndex()}..${log.lastIndex()} without configuration entry or snapshot, and uses ${configKey(core.configuration)}`);
    }
    if (configKey(expected) !== configKey(core.configuration)) {
      this.fail(`${node.id} uses configuration ${configKey(core.configuration)} but ${from} says ${configKey(expected)} (log ${log.firstIndex()}..${log.lastIndex()})`);
    }
  }

  /**
   * Leader completeness (§5.4): every entry committed in an earlier term is in
   * the new leader's log. Only earlier terms: a leader of a lower term can
   * still be elected after a higher term committed (its votes were cast
   * before, and arrive late); it just cannot commit anything.
   */
  private checkLeaderCompleteness(node: SimNode): void {
    const log = node.core.log;
    let required = 0;
    for (const [term, commit] of this.committedInTerm) if (term < node.core.term && commit > required) required = commit;
    const end = Math.min(required + 1, this.applied.length);
    for (let i = log.firstIndex(); i < end; i++) {
      const record = this.applied[i];
      if (!record) continue;
      const term = log.termAt(i);
      if (term !== record.term) {
        this.fail(`leader completeness: ${node.id}, leader of term ${node.core.term}, has ${term === undefined ? 'no entry' : `term ${term}`} at committed index ${i} (applied with term ${record.term} by ${record.by})`);
      }
    }
  }

  /** Log matching (§5.3): entries with the same index and term are identical, and so are their predecessors' terms. */
  private checkEntry(node: SimNode, entry: LogEntry, knownPrevTerm?: number): void {
    const key = `${entry.index}:${entry.term}`;
    const fp = fingerprint(entry);
    const prevTerm = knownPrevTerm ?? (entry.index === 1 ? 0 : node.core.log.termAt(entry.index - 1));
    const known = this.logRegistry.get(key);
    if (!known) {
      this.logRegistry.set(key, { fingerprint: fp, prevTerm });
      return;
    }
    if (known.fingerprint !== fp) this.fail(`log matching: two different entries at index ${entry.index} term ${entry.term}: ${known.fingerprint} and, on ${node.id}, ${fp}`);
    if (prevTerm !== undefined) {
      if (known.prevTerm === undefined) known.prevTerm = prevTerm;
      else if (known.prevTerm !== prevTerm) {
        this.fail(`log matching: entry ${entry.index}/${entry.term} follows term ${known.prevTerm} in one log and term ${prevTerm} on ${node.id}`);
      }
    }
  }

  private finalChecks(): void {
    for (const node of this.nodes) {
      if (!node.alive) continue;
      const log = node.core.log;
      for (let i = log.firstIndex(); i <= log.lastIndex(); i++) this.checkEntry(node, log.entryAt(i) as LogEntry);
      // A proposal never hangs: it settles (applied or failed) by its deadline.
      const local = node.localNow(this.now);
      for (const p of node.pending.values()) {
        if (local > p.proposedAt + p.timeout + 1000) this.fail(`${node.id} proposal ${p.id} (proposed at ${p.proposedAt}, timeout ${p.timeout}) is still pending at ${local}`);
      }
    }
    for (const [id, index] of this.settled) {
      if (this.appliedAt.get(id) !== index) this.fail(`proposal ${id} settled at ${index} but applied at ${this.appliedAt.get(id)}`);
    }
    for (const node of this.nodes) if (node.alive) this.checkConfiguration(node);
    // A confirmed read is eventually applied by its node (when that node is still a member, in the same run).
    const leader = this.currentLeader();
    const unapplied = () =>
      this.readsDone.filter(
        (r) => r.node.alive && r.node.generation === r.generation && leader !== null && isMember(leader.core.configuration, r.node.id) && r.node.lastApplied < r.readIndex,
      );
    const drainUntil = this.now + 2000;
    while (unapplied().length > 0 && this.now < drainUntil) if (!this.step()) break;
    for (const read of unapplied()) this.fail(`${read.node.id} confirmed a read at ${read.readIndex} but has applied only ${read.node.lastApplied}`);
    // An addVoter reported done put its node in a committed configuration as a voter.
    for (const address of this.membershipAdded) {
      if (!this.committedConfigs.some((c) => c.voters.includes(address))) this.fail(`addVoter ${address} reported success, but no committed configuration has it as a voter`);
    }
  }

  // ---------------------------------------------------------------- helpers

  private fail(message: string): never {
    throw new SimFailure(`${message} [seed ${this.seed}, t=${this.now}ms, step ${this.steps}]`);
  }

  private trace(line: string): void {
    if (!this.options.trace) return;
    this.traceLines.push(`[${String(this.now).padStart(6)} #${this.steps}] ${line}`);
    if (this.traceLines.length > this.options.traceLimit * 2) this.traceLines.splice(0, this.traceLines.length - this.options.traceLimit);
  }

  /** The last `traceLimit` lines. */
  get lastTrace(): string[] {
    return this.traceLines.slice(-this.options.traceLimit);
  }
}

function configKey(config: Configuration): string {
  return `voters [${config.voters.join(',')}] learners [${config.learners.join(',')}]`;
}

function cloneJson<T>(value: T): T {
  return structuredClone(value);
}

function cloneDurable(d: Durable): Durable {
  return { hardState: d.hardState ? { ...d.hardState } : null, snapshot: d.snapshot ? cloneJson(d.snapshot) : null, entries: d.entries.map((e) => ({ ...e })) };
}

function describe(m: Message): string {
  const b = m.body;
  const head = `${m.from}->${m.to} t${m.term} ${b.type}`;
  switch (b.type) {
    case 'RequestVoteRequest':
      return `${head}${b.preVote ? ' pre' : ''}${b.leadershipTransfer ? ' transfer' : ''} last ${b.lastLogIndex}/${b.lastLogTerm}`;
    case 'RequestVoteResponse':
      return `${head}${b.preVote ? ' pre' : ''} ${b.voteGranted ? 'granted' : 'rejected'}`;
    case 'AppendEntriesRequest':
      return `${head} prev ${b.prevLogIndex}/${b.prevLogTerm} entries ${b.entries.length ? `${b.entries[0].index}..${b.entries[b.entries.length - 1].index}` : '-'} commit ${b.leaderCommit}${b.readRound ? ` round ${b.readRound}` : ''}`;
    case 'AppendEntriesResponse':
      return `${head} ${b.success ? 'ok' : 'reject'} match ${b.matchIndex} conflict ${b.conflictIndex}/${b.conflictTerm} last ${b.lastLogIndex}`;
    case 'InstallSnapshotRequest':
      return `${head} ${b.lastIncludedIndex}/${b.lastIncludedTerm} offset ${b.offset} len ${b.data.length}${b.done ? ' done' : ''}`;
    case 'InstallSnapshotResponse':
      return `${head} ${b.lastIncludedIndex} next ${b.nextOffset}${b.done ? ' done' : ''}`;
    case 'ProposeRequest':
      return `${head} ${b.clientId}/${b.sequence} fos ${b.firstOutstandingSequence} ${JSON.stringify(b.command)}`;
    case 'ProposeResponse':
      return `${head} ${b.clientId}/${b.sequence} at ${b.index}/${b.logTerm}${b.errorCode ? ` ${b.errorCode}` : ''}`;
    default:
      return head;
  }
}

/** Runs one seed. */
export function runSeed(options: SimOptions): SimResult {
  const sim = new Simulation(options);
  const result = sim.run();
  if (options.trace) result.trace = sim.lastTrace;
  return result;
}

/**
 * A node may campaign (and lead) when it is a voter of its latest
 * configuration, or when that configuration removes it, is not committed yet,
 * and it was a voter of the configuration before (computed here from the log,
 * independently of the core's own bookkeeping).
 */
function mayCampaign(core: RaftCore, id: string): boolean {
  if (isVoter(core.configuration, id)) return true;
  const index = core.latestConfigurationIndex;
  return index > core.commitIndex && isVoter(core.configurationAt(index - 1), id);
}
