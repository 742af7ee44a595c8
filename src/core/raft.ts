import { InvariantError } from './errors.js';
import { IntKeyMap } from './int-key-map.js';
import { RaftLog } from './log.js';
import {
  bootstrapConfiguration,
  cloneConfiguration,
  diffMembers,
  isMember,
  isVoter,
  members,
  withLearner,
  withVoter,
  without,
} from './membership.js';
import { Progress } from './progress.js';
import { majorityMatchIndex, quorumSize, tallyVotes } from './quorum.js';
import type { CoreEvent, ProposalFailure, Ready, RequestResult, RoleState, RoleView } from './ready.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { checkBounds, MAX_TERM } from './bounds.js';
import { requestIdStart } from './request-ids.js';
import type {
  AppendEntriesRequest,
  AppendEntriesResponse,
  Configuration,
  HardState,
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  JsonValue,
  LogEntry,
  MembershipChangeRecord,
  MembershipChangeRequest,
  MembershipChangeResponse,
  MembershipChangeType,
  Message,
  MessageBody,
  ProposeRequest,
  ProposeResponse,
  ReadIndexRequest,
  ReadIndexResponse,
  RequestVoteRequest,
  RequestVoteResponse,
  Snapshot,
} from './types.js';

/** Timing in milliseconds of logical time, read each time it is needed (so it may vary). */
export interface CoreTiming {
  /** How long a follower waits without hearing from a leader before campaigning. */
  heartbeatTimeout(): number;
  /** How long a candidate waits for an election to finish before starting another. */
  electionTimeout(): number;
  /** Interval between leader heartbeats. */
  heartbeatFrequency(): number;
}

export interface CoreOptions {
  /** This node's address. */
  id: string;
  /** This run's client session id for exactly-once proposals (unique per run, §6.3). */
  clientId: string;
  timing: CoreTiming;
  /** Uniform random numbers in [0, 1), seeded by the caller for deterministic runs. */
  random: () => number;
  /** etcd PreVote (dissertation §9.6). Default true. */
  preVote?: boolean;
  /** etcd CheckQuorum: a leader that has not heard from a quorum steps down. Default true. */
  checkQuorum?: boolean;
  /** Most entries in one AppendEntries. Default 512. */
  maxEntriesPerMessage?: number;
  /**
   * Most bytes of entries in one AppendEntries, by the wire's size estimate
   * (see `entryByteSize`); one entry is sent even when it alone is larger. Default 64 KiB.
   */
  maxBytesPerMessage?: number;
  /** Most unacknowledged AppendEntries per follower while replicating. Default 64. */
  maxInflight?: number;
  /** Bytes of snapshot per InstallSnapshot chunk. Default 64 KiB. */
  snapshotChunkBytes?: number;
  /**
   * Most entries covered by its latest snapshot that a leader keeps in memory
   * for followers still installing an older snapshot, so each can go on with
   * AppendEntries once installed instead of needing the next snapshot (see
   * `compact`). Default 0: compaction drops every entry the snapshot covers.
   */
  snapshotCatchUpEntries?: number;
  /**
   * Lease-based reads (dissertation §6.4.1): a leader that heard from a quorum
   * recently answers reads without a confirmation round. Needs CheckQuorum.
   * Safe only if no node's clock runs faster than another's by more than
   * `maxClockDrift` and `heartbeatTimeout()` does not shrink. Default false.
   */
  leaseReads?: boolean;
  /** Bound on relative clock rate difference assumed by lease reads. Default 0.25 (25%). */
  maxClockDrift?: number;
  /**
   * Bounds on an incoming snapshot (§7): its serialized size, and the nesting
   * depth and string length inside its state machine data (the payloads'
   * maxJsonDepth and maxStringLength). A snapshot beyond them is refused.
   * Defaults: 256 MiB, depth 64, strings of 1 MiB.
   */
  snapshotLimits?: Partial<SnapshotLimits>;
}

/** Bounds on an incoming snapshot (see CoreOptions.snapshotLimits). */
export interface SnapshotLimits {
  maxBytes: number;
  maxJsonDepth: number;
  maxStringLength: number;
}

/** Default of CoreOptions.snapshotLimits. */
export const DEFAULT_SNAPSHOT_LIMITS: Readonly<SnapshotLimits> = Object.freeze({ maxBytes: 256 * 1024 * 1024, maxJsonDepth: 64, maxStringLength: 1024 * 1024 });

/** State loaded from storage at start. */
export interface CoreInitialState {
  hardState: HardState | null;
  snapshot: Snapshot | null;
  entries: LogEntry[];
}

/** Counters of replication events (see RaftCore.counters). */
export interface CoreCounters {
  /** A follower's progress went from replicate back to probe (a rejection, or acknowledgements lost). */
  probeResets: number;
  /** Snapshot transfers started to a follower (§7). */
  snapshotsSent: number;
}

type InternalState = 'follower' | 'precandidate' | 'candidate' | 'leader';

interface PendingProposal {
  sequence: number;
  command: JsonValue;
  /** Approximate encoded size of the command, when the caller knows it. */
  byteSize?: number;
  deadline: number;
  /** Leaders it was forwarded to: a ProposeResponse is taken only from one of them. */
  sentTo: string[];
  /** unsent: waiting for a leader; sent: forwarded, no answer; acked: appended at index/term. */
  status: 'unsent' | 'sent' | 'acked';
  /**
   * Ever sent to a leader in a ProposeRequest. Until then the proposal has had
   * at most one copy in any log, appended by this node as leader without the
   * session (see appendOwnCommand); from then on every copy carries the
   * session, because a forwarded copy may still commit after any retry (§6.3).
   */
  forwarded: boolean;
  lastSentAt: number;
  index: number;
  term: number;
}

interface PendingRead {
  requestId: number;
  /** Address that asked; this node's own address for local reads. */
  origin: string;
  /** Confirmation round this read waits for; 0 until one is started. */
  round: number;
  readIndex: number;
}

interface ForwardedRequest {
  requestId: number;
  deadline: number;
  lastSentAt: number;
  /** Leaders it was sent to: an answer is taken only from one of them. */
  sentTo: string[];
  /** Sent to the leader already (forwarded) and not yet answered. */
  sent: boolean;
}

interface MembershipRequest extends ForwardedRequest {
  changeType: MembershipChangeType;
  address: string;
}

interface LeaderMembershipChange {
  origin: string;
  requestId: number;
  changeType: MembershipChangeType;
  address: string;
  deadline: number;
  /** Index of the configuration entry that completes the change, once appended. */
  finalIndex: number;
}

interface Transfer {
  requestId: number;
  target: string;
  deadline: number;
  timeoutNowSent: boolean;
}

interface IncomingSnapshot {
  index: number;
  term: number;
  chunks: Uint8Array[];
  received: number;
}

const NO_ENTRIES: LogEntry[] = [];
const NO_MESSAGES: Message[] = [];
const NO_EVENTS: readonly CoreEvent[] = Object.freeze([]) as readonly CoreEvent[];

/** How many answers to other nodes' membership changes a leader keeps for retried requests. */
const FINISHED_CHANGES_KEPT = 1024;
/** How many completed membership requests a snapshot remembers (see Snapshot.membershipChanges). */
const MEMBERSHIP_CHANGES_KEPT = 64;

function finishedChangeKey(origin: string, requestId: number): string {
  return `${origin}\u0000${requestId}`;
}

/** Default of `CoreOptions.maxEntriesPerMessage`. */
export const DEFAULT_MAX_ENTRIES_PER_MESSAGE = 512;
/** Default of `CoreOptions.maxBytesPerMessage`: 64 KiB (see docs/decisions.md). */
export const DEFAULT_MAX_BYTES_PER_MESSAGE = 64 * 1024;
/** Default of `CoreOptions.snapshotChunkBytes`: 64 KiB. */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 64 * 1024;

/** A client announces its settled sequences (firstOutstandingSequence) once they advanced by this much. */
const LOW_WATER_ANNOUNCE_STEP = 16;

/**
 * The Raft state machine (§5, with the dissertation's membership changes,
 * PreVote, ReadIndex, leadership transfer and client sessions). Pure and
 * deterministic: no timers, no I/O, no randomness of its own. Time arrives as
 * `tick(now)`, messages as `step(message)`, and everything the node must do
 * is collected into a `Ready` (see ready.ts).
 */
export class RaftCore {
  readonly id: string;
  readonly clientId: string;
  private readonly timing: CoreTiming;
  private readonly random: () => number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxEntriesPerMessage: number;
  private readonly maxBytesPerMessage: number;
  private readonly maxInflight: number;
  private readonly snapshotChunkBytes: number;
  private readonly snapshotCatchUpEntries: number;
  private readonly leaseReads: boolean;
  private readonly maxClockDrift: number;
  private readonly snapshotLimits: Readonly<SnapshotLimits>;

  /** Counts of replication events, for tests, the simulation and metrics (only ever grow). */
  readonly counters: CoreCounters = { probeResets: 0, snapshotsSent: 0 };

  // Persistent state (§5.1, Figure 2). Invariant: term never decreases.
  term = 0;
  votedFor: string | null = null;
  readonly log = new RaftLog();
  private lastSavedHardState: HardState = { term: 0, votedFor: null, commitIndex: 0 };

  // Volatile state.
  private internalState: InternalState = 'follower';
  leaderId: string | null = null;
  /** Latest configuration in the log, committed or not (dissertation §4.1). */
  configuration: Configuration = { voters: [], learners: [] };
  /** Index of the entry that set `configuration` (0: bootstrap or snapshot). */
  private configurationIndex = 0;
  /** Voters of the configuration before `configuration` (see `promotable`). */
  private previousVoters: string[] = [];
  /**
   * Highest index this node has learned is committed in the cluster, from a
   * leader's leaderCommit or an installed snapshot (its own commit index never
   * exceeds its log, so it does not matter here). It may be beyond the node's
   * log (a node catching up), and it is persisted while it is
   * (HardState.knownCommitIndex). Why: a server whose storage was lost and
   * that rejoins under the same address receives the log from index 1 (or an
   * old snapshot) while catching up; configurations in that prefix may list it
   * as a voter, and two such servers could then elect each other in a
   * configuration the cluster left long ago and overwrite committed entries.
   * Such a server knows the leader's commit index from its first
   * AppendEntries, so it neither campaigns nor votes for a candidate whose log
   * ends before it (a legitimate leader holds every committed entry, §5.4.1).
   */
  private knownCommitIndex = 0;
  /** Index up to which committed entries were handed out to be applied. */
  private handedOutIndex = 0;
  /** Highest index the state machine has applied (reported by the API layer). */
  appliedIndex = 0;
  private now = 0;
  private electionDeadline = 0;
  private heartbeatDeadline = 0;
  private checkQuorumDeadline = 0;
  /** Last time a current leader was heard from (for §4.2.3 vote stickiness). */
  private lastLeaderContact = -Infinity;
  private readonly votes = new Map<string, boolean>();
  private readonly progress = new Map<string, Progress>();
  /** Index of the last configuration entry a leader appended; a new change waits until it commits. */
  private pendingConfigIndex = 0;

  // Snapshots (§7).
  private snapshot: Snapshot | null = null;
  private snapshotBytes: Uint8Array | null = null;
  private snapshotToPersist: Snapshot | undefined;
  private snapshotToApply: Snapshot | undefined;
  private incomingSnapshot: IncomingSnapshot | null = null;

  // Client sessions (dissertation §6.3).
  private nextSequence = 1;
  /** Outstanding proposals of this node's session, by sequence number. */
  private readonly proposals = new IntKeyMap<PendingProposal>();
  /** No sequence below this one is outstanding (only grows; see firstOutstandingSequence). */
  private lowestOutstanding = 1;
  /** The low-water mark last put on an entry or ProposeRequest (see lowWaterToAnnounce). */
  private announcedLowWater = 0;
  /** A proposal was abandoned: announce the low-water mark on the next proposal (see lowWaterToAnnounce). */
  private lowWaterUrgent = false;
  /** Log index -> sequence of my proposals the leader acknowledged at that index. */
  private readonly ackedByIndex = new IntKeyMap<number>();
  /**
   * Log index -> sequence of my proposal that the entry handed out at that
   * index settles (a session entry of mine, or my own session-less copy): the
   * API layer resolves the proposal once it has applied the entry (takeSettledProposalAt).
   */
  private readonly settledByIndex = new IntKeyMap<number>();
  /** Logical time pending requests were last checked for expiry and retries. */
  private lastRequestsCheck = 0;

  /** Id of this node's next request (read barrier, membership change, transfer); see requestIdStart. */
  private nextRequestId: number;

  // ReadIndex (§6.4).
  private readRound = 0;
  private readonly readAcks = new Map<string, number>();
  /** Leader time at which each read round began (lease reads). */
  private readonly roundStartedAt = new Map<number, number>();
  /** Per voter: start time of the latest round it acknowledged (lease reads). */
  private readonly leaseAcks = new Map<string, number>();
  private pendingReads: PendingRead[] = [];
  private readonly forwardedReads = new Map<number, ForwardedRequest>();

  // Membership and transfer.
  private readonly membershipRequests = new Map<number, MembershipRequest>();
  private readonly leaderChanges: LeaderMembershipChange[] = [];
  /**
   * Answers to membership changes this node finished as leader for other
   * nodes, by origin and request id (the last FINISHED_CHANGES_KEPT). Changes
   * that needed no entry (a join of a voter, a leave of a non-member) leave no
   * trace in the log: a retry whose first answer was lost gets this answer
   * again instead of being carried out later against a changed configuration.
   */
  private readonly finishedChanges = new Map<string, { errorCode: string; index: number }>();
  private transfer: Transfer | null = null;
  /**
   * The term in which this node, as leader, last sent a TimeoutNow. Its
   * target may campaign whenever that message arrives, and voters grant a
   * transfer vote without waiting out the lease (§3.10), so no lease holds
   * for the rest of that term, even after the transfer was given up.
   */
  private timeoutNowSentInTerm = 0;
  private readonly transferRequests = new Map<number, { target: string | null; deadline: number }>();

  /** Proposals were appended since the last broadcast: send them in one batch at the next Ready. */
  private broadcastPending = false;

  // Output collected for the next Ready.
  private messages: Message[] = [];
  private events: CoreEvent[] = [];
  private proposalFailures: ProposalFailure[] = [];
  private readResults: RequestResult[] = [];
  private membershipResults: RequestResult[] = [];
  private transferResults: RequestResult[] = [];
  private lastReportedState: RoleState = 'follower';
  private lastReportedLeader: string | null = null;

  constructor(options: CoreOptions) {
    this.id = options.id;
    this.clientId = options.clientId;
    this.timing = options.timing;
    this.random = options.random;
    this.nextRequestId = requestIdStart(this.clientId);
    this.preVote = options.preVote ?? true;
    this.checkQuorum = options.checkQuorum ?? true;
    this.maxEntriesPerMessage = options.maxEntriesPerMessage ?? DEFAULT_MAX_ENTRIES_PER_MESSAGE;
    this.maxBytesPerMessage = options.maxBytesPerMessage ?? DEFAULT_MAX_BYTES_PER_MESSAGE;
    this.maxInflight = options.maxInflight ?? 64;
    this.snapshotChunkBytes = options.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES;
    this.snapshotCatchUpEntries = options.snapshotCatchUpEntries ?? 0;
    this.leaseReads = (options.leaseReads ?? false) && this.checkQuorum;
    this.maxClockDrift = options.maxClockDrift ?? 0.25;
    this.snapshotLimits = { ...DEFAULT_SNAPSHOT_LIMITS, ...options.snapshotLimits };
  }

  // ---------------------------------------------------------------- start-up

  /**
   * Restores from storage, or bootstraps a new cluster from `peers` when the
   * storage is empty: every initial member writes the same configuration entry
   * at index 1, term 1, so their logs agree from the start.
   */
  start(initial: CoreInitialState, peers: readonly string[], now: number): void {
    this.now = now;
    const empty = !initial.hardState && !initial.snapshot && initial.entries.length === 0;
    if (empty) {
      const configuration = bootstrapConfiguration(this.id, peers);
      this.configuration = configuration;
      if (configuration.voters.length > 0) {
        const entry: LogEntry = { index: 1, term: 1, type: 'configuration', configuration: cloneConfiguration(configuration) };
        this.term = 1;
        this.log.appendOne(entry);
        this.log.commitIndex = 1;
        this.configurationIndex = 1;
      }
    } else {
      if (initial.snapshot) {
        this.snapshot = initial.snapshot;
        this.log.restore(initial.snapshot);
        this.configuration = cloneConfiguration(initial.snapshot.configuration);
        this.snapshotToApply = initial.snapshot;
        this.handedOutIndex = initial.snapshot.index;
      }
      this.log.append(initial.entries);
      this.log.stableIndex = this.log.lastIndex();
      this.log.unstableFrom = this.log.lastIndex() + 1;
      if (initial.hardState) {
        this.term = initial.hardState.term;
        this.votedFor = initial.hardState.votedFor;
        this.log.commitIndex = Math.min(Math.max(initial.hardState.commitIndex, this.log.snapshotIndex), this.log.lastIndex());
        this.knownCommitIndex = initial.hardState.knownCommitIndex ?? 0;
        this.lastSavedHardState = { ...initial.hardState };
      }
      this.recomputeConfiguration(false);
    }
    // A (re)started node may have acknowledged a leader just before it stopped: it honours
    // that leader's lease as if it had just heard from it (matters for lease-based reads).
    this.lastLeaderContact = now;
    this.resetElectionDeadline();
  }

  // ------------------------------------------------------------------ getters

  /** The public role: a pre-candidate reports 'candidate'. */
  get state(): RoleState {
    return this.internalState === 'precandidate' ? 'candidate' : this.internalState;
  }

  get isLeader(): boolean {
    return this.internalState === 'leader';
  }

  /**
   * The role, term and leader as of now: the one source of the public view
   * (the API's getters and status() read it). A node is 'leader' here only
   * in a term it leads: any higher term it sees makes it a follower in the
   * same call (§5.1).
   */
  view(): RoleView {
    return { state: this.state, term: this.term, leader: this.leaderId };
  }

  get commitIndex(): number {
    return this.log.commitIndex;
  }

  /** The latest snapshot this node holds, if any. */
  get latestSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  /**
   * True when this node may campaign: it is a voter of its latest
   * configuration, or its latest configuration removes it but is not committed
   * yet while it was a voter before. In that second case it may hold the only
   * up-to-date log (a leader that appended its own removal and then lost
   * leadership): it campaigns counting only the new voters, commits the change
   * and steps down, like a leader that removed itself (dissertation §4.2.2).
   *
   * In both cases its log must reach the highest index it knows is committed
   * ({@link knownCommitIndex}): a node without a committed entry can never be
   * a legitimate leader (§5.4.1), and a node that is still catching up may hold
   * an old configuration that lists it as a voter.
   */
  get promotable(): boolean {
    if (this.log.lastIndex() < this.knownCommitIndex) return false;
    if (isVoter(this.configuration, this.id)) return true;
    return this.configurationIndex > this.log.commitIndex && this.previousVoters.includes(this.id);
  }

  /** Index of the entry (or snapshot) that set the latest configuration. */
  get latestConfigurationIndex(): number {
    return this.configurationIndex;
  }

  // --------------------------------------------------------------- time

  /** Advances logical time and fires whatever timers have expired. */
  tick(now: number): void {
    if (now > this.now) this.now = now;
    if (this.internalState === 'leader') this.tickLeader();
    else this.tickElection();
    this.tickRequests();
  }

  /** The earliest logical time at which `tick` has work to do. */
  nextDeadline(): number {
    let deadline = Infinity;
    if (this.internalState === 'leader') {
      deadline = Math.min(this.heartbeatDeadline, this.checkQuorum ? this.checkQuorumDeadline : Infinity);
      if (this.transfer) deadline = Math.min(deadline, this.transfer.deadline);
      // Only the head of the queue expires, and only before its entry is appended (expireLeaderChanges):
      // a later deadline that tick cannot act on would keep nextDeadline in the past (a busy timer).
      const head = this.leaderChanges[0];
      if (head && head.finalIndex === 0) deadline = Math.min(deadline, head.deadline);
    } else if (this.promotable) {
      deadline = this.electionDeadline;
    }
    // Requests (proposals, reads, changes, transfers) are checked periodically rather
    // than each at its own deadline, so this stays O(1) with thousands in flight.
    if (this.proposals.size > 0 || this.forwardedReads.size > 0 || this.membershipRequests.size > 0 || this.transferRequests.size > 0) {
      deadline = Math.min(deadline, this.lastRequestsCheck + this.requestCheckInterval());
    }
    return deadline;
  }

  /** How often pending requests are checked for expiry and retries: at most 25 ms late. */
  private requestCheckInterval(): number {
    return Math.max(1, Math.min(25, this.timing.heartbeatFrequency()));
  }

  private retryInterval(): number {
    return Math.max(1, this.timing.heartbeatTimeout());
  }

  private resetElectionDeadline(): void {
    const base = this.internalState === 'follower' ? this.timing.heartbeatTimeout() : this.timing.electionTimeout();
    // Randomized in [base, 2 * base) so split votes resolve (§5.2).
    this.electionDeadline = this.now + base + Math.floor(this.random() * base);
  }

  private tickElection(): void {
    if (!this.promotable) return;
    if (this.now < this.electionDeadline) return;
    if (this.internalState === 'follower') this.events.push({ type: 'heartbeatTimeout' });
    this.campaign(this.preVote ? 'preVote' : 'election');
  }

  private tickLeader(): void {
    if (this.checkQuorum && this.now >= this.checkQuorumDeadline) {
      this.checkQuorumDeadline = this.now + this.timing.heartbeatTimeout();
      if (!this.quorumActive()) {
        this.becomeFollower(this.term, null);
        return;
      }
    }
    if (this.transfer && this.now >= this.transfer.deadline) this.abortTransfer('TIMEOUT', 'leadership transfer timed out');
    this.expireLeaderChanges();
    if (this.now >= this.heartbeatDeadline) {
      this.heartbeatDeadline = this.now + this.timing.heartbeatFrequency();
      if (this.leaseReads) this.startReadRound();
      this.broadcastHeartbeat();
    }
  }

  /** True when a quorum of voters (this node included) was heard from since the last check. */
  private quorumActive(): boolean {
    let active = 0;
    for (const voter of this.configuration.voters) {
      if (voter === this.id) active++;
      else if (this.progress.get(voter)?.recentActive) active++;
    }
    for (const pr of this.progress.values()) pr.recentActive = false;
    return active >= quorumSize(this.configuration.voters.length);
  }

  // ------------------------------------------------------------ transitions

  /**
   * Becomes a follower in `term`. The election timer restarts unless
   * `keepTimer` (Figure 2: only AppendEntries from the current leader or a
   * granted vote restart it; merely learning a higher term from a candidate
   * does not, or candidates that cannot win would hold off those that can).
   */
  private becomeFollower(term: number, leader: string | null, keepTimer = false): void {
    const wasLeader = this.internalState === 'leader';
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
    }
    this.internalState = 'follower';
    this.setLeader(leader);
    this.votes.clear();
    if (wasLeader) this.stepDownCleanup();
    if (!keepTimer || wasLeader) this.resetElectionDeadline();
    this.reportRole();
  }

  /** Starts a pre-vote or an election (§5.2, dissertation §9.6 and §3.10). */
  private campaign(kind: 'preVote' | 'election' | 'transfer'): void {
    // No campaign beyond the ceiling on terms (bounds.ts): a term there stays exact, and no peer accepts more.
    if (!this.promotable || this.term >= MAX_TERM) return;
    this.events.push({ type: 'startElection' });
    const preVote = kind === 'preVote';
    const campaignTerm = this.term + 1;
    if (preVote) {
      this.internalState = 'precandidate';
    } else {
      this.term = campaignTerm;
      this.votedFor = this.id;
      this.internalState = 'candidate';
    }
    this.setLeader(null);
    this.votes.clear();
    this.votes.set(this.id, true);
    this.resetElectionDeadline();
    this.reportRole();
    if (tallyVotes(this.configuration.voters, this.votes) === 'won') {
      if (preVote) this.campaign('election');
      else this.becomeLeader();
      return;
    }
    for (const voter of this.configuration.voters) {
      if (voter === this.id) continue;
      this.send(voter, campaignTerm, {
        type: 'RequestVoteRequest',
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        preVote,
        leadershipTransfer: kind === 'transfer',
      });
    }
  }

  private becomeLeader(): void {
    if (this.internalState !== 'candidate') throw new InvariantError('only a candidate can become leader');
    this.internalState = 'leader';
    this.setLeader(this.id);
    this.progress.clear();
    for (const member of members(this.configuration)) {
      if (member !== this.id) this.progress.set(member, new Progress(this.log.lastIndex() + 1));
    }
    this.readAcks.clear();
    this.readRound = 0;
    this.roundStartedAt.clear();
    this.leaseAcks.clear();
    this.heartbeatDeadline = this.now;
    this.checkQuorumDeadline = this.now + this.timing.heartbeatTimeout();
    for (const pr of this.progress.values()) pr.recentActive = true;
    // A change appended by an earlier leader may still be uncommitted: wait for it (§4.1).
    this.pendingConfigIndex = this.log.lastIndex();
    this.reportRole();
    // The no-op commits entries of earlier terms (§5.4.2, §8) and unblocks membership changes.
    this.appendEntry({ type: 'noop' });
    this.broadcastAppend();
    this.heartbeatDeadline = this.now + this.timing.heartbeatFrequency();
    for (const p of this.proposals.values()) if (p.status !== 'acked') this.submitProposal(p);
    this.maybeCommit();
  }

  private stepDownCleanup(): void {
    this.progress.clear();
    // An open transfer request now settles by who becomes leader (see setLeader) or times out.
    this.transfer = null;
    for (const read of this.pendingReads) {
      this.finishRead(read, { code: 'LEADERSHIP_LOST', message: 'leadership lost before the read was confirmed' });
    }
    this.pendingReads = [];
    for (const change of this.leaderChanges.splice(0)) {
      this.finishLeaderChange(change, 'LEADERSHIP_LOST', 'leadership lost before the change committed');
    }
  }

  private setLeader(leader: string | null): void {
    this.leaderId = leader;
    if (leader !== null && leader !== this.id) {
      // Forward what was waiting for a leader.
      for (const p of this.proposals.values()) if (p.status === 'unsent') this.submitProposal(p);
      for (const [id, r] of this.forwardedReads) if (!r.sent) this.sendForwardedRead(id, r);
      for (const r of this.membershipRequests.values()) if (!r.sent) this.sendMembershipRequest(r);
    }
    if (this.transfer === null) {
      for (const [requestId, t] of this.transferRequests) {
        if (leader !== null && leader !== this.id && t.target !== null && leader === t.target) {
          this.transferRequests.delete(requestId);
          this.transferResults.push({ requestId });
        } else if (leader !== null && leader !== this.id) {
          this.transferRequests.delete(requestId);
          this.transferResults.push({ requestId, code: 'TRANSFER_FAILED', message: `${leader} became leader instead` });
        }
      }
    }
  }

  private reportRole(): void {
    const state = this.state;
    if (state !== this.lastReportedState) {
      this.lastReportedState = state;
      this.lastReportedLeader = this.leaderId;
      this.events.push({ type: 'state', view: this.view() });
    } else if (this.leaderId !== this.lastReportedLeader) {
      this.lastReportedLeader = this.leaderId;
      this.events.push({ type: 'leaderChanged', view: this.view() });
    }
  }

  // -------------------------------------------------------------- messages

  private send(to: string, term: number, body: MessageBody): void {
    this.messages.push({ from: this.id, to, term, body });
  }

  private reply(to: string, body: MessageBody): void {
    this.send(to, this.term, body);
  }

  /**
   * Handles one incoming message (already validated by the wire layer).
   * Term rules first (§5.1), then the role-specific handler.
   */
  step(message: Message, now: number): void {
    if (now > this.now) this.now = now;
    if (message.to !== this.id || message.from === this.id) return;
    const body = message.body;
    const outOfBounds = checkBounds(message, this.term, isMember(this.configuration, this.id));
    if (outOfBounds) {
      this.reject(message.from, outOfBounds.code, outOfBounds.message);
      return;
    }
    if (!this.acceptsFrom(message)) {
      this.reject(message.from, 'NOT_A_MEMBER', `${body.type} from ${message.from}, which is not a member of this node's configuration`);
      return;
    }
    switch (body.type) {
      case 'ProposeRequest':
        return this.handleProposeRequest(message.from, body);
      case 'ProposeResponse':
        return this.handleProposeResponse(message.from, body);
      case 'ReadIndexRequest':
        return this.handleReadIndexRequest(message.from, body);
      case 'ReadIndexResponse':
        return this.handleReadIndexResponse(message.from, body);
      case 'MembershipChangeRequest':
        return this.handleMembershipChangeRequest(message.from, body);
      case 'MembershipChangeResponse':
        return this.handleMembershipChangeResponse(message.from, body);
      default:
        break;
    }

    if (message.term > this.term) {
      if (body.type === 'RequestVoteRequest') {
        // §4.2.3: a node that heard from a current leader recently ignores
        // campaigns, so a removed or partitioned server cannot disrupt it.
        const inLease =
          this.checkQuorum && this.now - this.lastLeaderContact < this.timing.heartbeatTimeout();
        const leaderIsSelf = this.internalState === 'leader';
        // A transfer vote skips the lease (§3.10), but only for a voter of our configuration: a TimeoutNow
        // may reach a server after it was removed, and the removed server must not depose the leader.
        const transfer = body.leadershipTransfer && isVoter(this.configuration, message.from);
        if (!transfer && (inLease || (leaderIsSelf && this.checkQuorum))) return;
        if (!body.preVote) this.becomeFollower(message.term, null, true);
      } else if (body.type === 'RequestVoteResponse' && body.preVote) {
        // A granted pre-vote carries the term we would campaign in; a rejection carries a newer term.
        if (!body.voteGranted) this.becomeFollower(message.term, null);
      } else {
        const fromLeader = body.type === 'AppendEntriesRequest' || body.type === 'InstallSnapshotRequest' || body.type === 'TimeoutNowRequest';
        this.becomeFollower(message.term, fromLeader ? message.from : null);
      }
    } else if (message.term < this.term) {
      if (body.type === 'AppendEntriesRequest' || body.type === 'InstallSnapshotRequest') {
        // Tell a stale leader about the newer term so it steps down.
        this.reply(message.from, { type: 'AppendEntriesResponse', success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, readRound: 0, lastLogIndex: this.log.lastIndex(), rejectedIndex: 0 });
      } else if (body.type === 'RequestVoteRequest') {
        this.reply(message.from, { type: 'RequestVoteResponse', voteGranted: false, preVote: body.preVote });
      }
      return;
    }

    switch (body.type) {
      case 'RequestVoteRequest':
        return this.handleRequestVote(message, body);
      case 'RequestVoteResponse':
        return this.handleRequestVoteResponse(message, body);
      case 'AppendEntriesRequest':
        return this.handleAppendEntries(message, body);
      case 'AppendEntriesResponse':
        return this.handleAppendEntriesResponse(message, body);
      case 'InstallSnapshotRequest':
        return this.handleInstallSnapshot(message, body);
      case 'InstallSnapshotResponse':
        return this.handleInstallSnapshotResponse(message, body);
      case 'TimeoutNowRequest':
        return this.handleTimeoutNow(message);
      default:
        return;
    }
  }

  /**
   * True when `address` is a peer this node talks to: a member of its latest
   * configuration, a voter of the one before it (a leader that removed itself
   * keeps leading until its removal commits), or the leader it follows. The
   * API layer creates NodeInstances only for these.
   */
  isKnownPeer(address: string): boolean {
    return isMember(this.configuration, address) || this.previousVoters.includes(address) || (address === this.leaderId && address !== this.id);
  }

  /**
   * Who a message is taken from: known peers (see isKnownPeer), so that a
   * non-member cannot propose, read, change the configuration, vote or answer
   * a request. One kind of message is taken from an unknown sender: a
   * leader's AppendEntries or InstallSnapshot of a newer term (or of this
   * term while this node knows no leader). Configurations reach a node only
   * through the log (dissertation §4.1), so a node that lags, or is being
   * added with `peers: []`, may not know its leader yet; refusing it would
   * leave the node behind for good. A non-member can therefore claim
   * leadership with a higher term, as in any Raft: only an authenticated
   * transport keeps it out (docs/security.md).
   */
  private acceptsFrom(message: Message): boolean {
    if (this.isKnownPeer(message.from)) return true;
    const type = message.body.type;
    if (type !== 'AppendEntriesRequest' && type !== 'InstallSnapshotRequest') return false;
    return message.term > this.term || (message.term === this.term && this.leaderId === null);
  }

  /** Reports a refused message (the API emits 'invalid message'). */
  private reject(from: string, code: string, message: string): void {
    this.events.push({ type: 'rejected', from, code, message });
  }

  /** §5.2, §5.4.1: grant when we have not voted for another in this term and the candidate's log is at least as up to date. */
  private handleRequestVote(message: Message, body: RequestVoteRequest): void {
    const canVote =
      this.votedFor === message.from ||
      (this.votedFor === null && this.leaderId === null) ||
      (body.preVote && message.term > this.term);
    const lastTerm = this.log.lastTerm();
    const upToDate =
      (body.lastLogTerm > lastTerm || (body.lastLogTerm === lastTerm && body.lastLogIndex >= this.log.lastIndex())) &&
      // A candidate without an index we know is committed cannot be a legitimate leader (see knownCommitIndex).
      body.lastLogIndex >= this.knownCommitIndex;
    if (canVote && upToDate) {
      // A pre-vote answer carries the requested term so the candidate can count it.
      this.send(message.from, body.preVote ? message.term : this.term, { type: 'RequestVoteResponse', voteGranted: true, preVote: body.preVote });
      if (!body.preVote) {
        this.votedFor = message.from;
        this.resetElectionDeadline();
      }
    } else {
      this.reply(message.from, { type: 'RequestVoteResponse', voteGranted: false, preVote: body.preVote });
    }
  }

  private handleRequestVoteResponse(message: Message, body: RequestVoteResponse): void {
    const expected = body.preVote ? this.internalState === 'precandidate' && message.term === this.term + 1 : this.internalState === 'candidate';
    if (!expected && !(body.preVote && !body.voteGranted && this.internalState === 'precandidate')) return;
    if (!this.configuration.voters.includes(message.from)) return;
    this.votes.set(message.from, body.voteGranted);
    const result = tallyVotes(this.configuration.voters, this.votes);
    if (result === 'won') {
      if (this.internalState === 'precandidate') this.campaign('election');
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, null);
    }
  }

  /** §5.3: the consistency check, conflict removal, append and commit. */
  private handleAppendEntries(message: Message, body: AppendEntriesRequest): void {
    if (this.internalState === 'leader') {
      // Raft allows one leader per term (§5.2): the sender is broken or forged. Name it, and carry on leading.
      this.reject(message.from, 'CONFLICTING_LEADER', `AppendEntries of term ${message.term} from ${message.from}, but this node leads term ${this.term}`);
      return;
    }
    if (this.internalState !== 'follower' || this.leaderId !== message.from) this.becomeFollower(this.term, message.from);
    this.lastLeaderContact = this.now;
    this.resetElectionDeadline();
    // A leader's commit index is committed, whether or not our log matches its log yet.
    if (body.leaderCommit > this.knownCommitIndex) this.knownCommitIndex = body.leaderCommit;
    const response: AppendEntriesResponse = {
      type: 'AppendEntriesResponse',
      success: true,
      matchIndex: 0,
      conflictIndex: 0,
      conflictTerm: 0,
      readRound: body.readRound,
      lastLogIndex: 0,
      rejectedIndex: 0,
    };
    if (body.prevLogIndex < this.log.commitIndex) {
      // Everything up to our commit index matches every leader's log (§5.4): report it.
      response.matchIndex = this.log.commitIndex;
    } else if (this.log.matchTerm(body.prevLogIndex, body.prevLogTerm)) {
      this.appendFromLeader(body.entries);
      const lastNew = body.prevLogIndex + body.entries.length;
      response.matchIndex = lastNew;
      this.maybeFollowCommit(Math.min(body.leaderCommit, lastNew));
    } else {
      const hintIndex = this.log.lastIndexAtOrBelowTerm(body.prevLogTerm, Math.min(body.prevLogIndex, this.log.lastIndex()));
      response.success = false;
      response.rejectedIndex = body.prevLogIndex;
      response.conflictIndex = hintIndex;
      response.conflictTerm = this.log.termAt(hintIndex) ?? 0;
    }
    response.lastLogIndex = this.log.lastIndex();
    this.reply(message.from, response);
  }

  private appendFromLeader(entries: LogEntry[]): void {
    if (entries.length === 0) return;
    const previousLast = this.log.lastIndex();
    const firstWritten = this.log.maybeAppend(entries);
    if (firstWritten === undefined) return;
    const truncated = firstWritten <= previousLast;
    if (truncated || entries.some((e) => e.type === 'configuration' && e.index >= firstWritten)) {
      this.recomputeConfiguration(true);
    }
  }

  private maybeFollowCommit(commit: number): void {
    if (commit > this.log.commitIndex) this.log.commitIndex = Math.min(commit, this.log.lastIndex());
  }

  private handleAppendEntriesResponse(message: Message, body: AppendEntriesResponse): void {
    if (this.internalState !== 'leader') return;
    const pr = this.progress.get(message.from);
    if (!pr) return;
    pr.recentActive = true;
    if (body.readRound > 0) this.ackReadRound(message.from, body.readRound);
    if (!body.success) {
      if (pr.state === 'snapshot' || isStaleRejection(pr, body.rejectedIndex)) return;
      if (pr.state === 'replicate') {
        pr.becomeProbe();
        this.counters.probeResets++;
      }
      // Never probe beyond the follower's hint: below our log the search returns its offset (firstIndex - 1),
      // which would probe the same prevLogIndex forever instead of falling back to InstallSnapshot.
      const probeIndex =
        body.conflictTerm > 0 ? Math.min(body.conflictIndex, this.log.lastIndexAtOrBelowTerm(body.conflictTerm, body.conflictIndex)) : body.conflictIndex;
      const followerMatchesThere = probeIndex === body.conflictIndex && this.log.termAt(probeIndex) === body.conflictTerm;
      if (probeIndex < this.log.firstIndex() && !followerMatchesThere && this.snapshot) {
        // The follower diverges at or below the start of our log: only the snapshot can repair it (§7).
        // (Probing at the log's offset again would be rejected forever.)
        pr.sendingSnapshot = null;
        this.sendSnapshotChunk(message.from, pr, false);
        return;
      }
      pr.nextIndex = Math.max(pr.matchIndex + 1, Math.min(pr.nextIndex, probeIndex + 1));
      pr.probeSent = false;
      this.sendAppend(message.from);
      return;
    }
    const advanced = pr.maybeUpdate(body.matchIndex);
    if (pr.state === 'probe' && (advanced || body.matchIndex === pr.matchIndex)) {
      pr.becomeReplicate();
    }
    if (advanced) {
      if (this.maybeCommit()) this.broadcastAppend();
      this.maybeSendTimeoutNow(message.from);
      this.advanceLeaderChanges();
    }
    this.sendAppend(message.from);
  }

  private handleTimeoutNow(message: Message): void {
    if (this.internalState === 'leader' || this.leaderId !== message.from) return;
    this.campaign('transfer');
  }

  // ------------------------------------------------------------- replication

  /** Appends an entry as leader; returns it. */
  private appendEntry(partial: Omit<LogEntry, 'index' | 'term'>): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex() + 1, term: this.term, ...partial };
    this.log.appendOne(entry);
    return entry;
  }

  /**
   * Appends a client's command (§6.3 session fields) as the leader: built in
   * one object literal. `commandBytes` is the command's JSON size when already
   * measured.
   */
  private appendCommand(command: JsonValue, clientId: string, sequence: number, firstOutstandingSequence: number, commandBytes?: number): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex() + 1, term: this.term, type: 'command', command, clientId, sequence, firstOutstandingSequence };
    this.log.appendOne(entry, commandBytes);
    return entry;
  }

  /**
   * Appends this node's own never-forwarded proposal as the leader, without
   * the session fields: the per-proposal path of a leader's own proposals.
   * It needs no deduplication (§6.3): this is its only copy in any log, and
   * it is retried only once another entry has committed at its index (see
   * settleProposals), which proves this copy can never commit. Each entry on
   * the wire is then about a seventh smaller for a 256-byte command, and no
   * node keeps a session record for it.
   */
  private appendOwnCommand(command: JsonValue, commandBytes?: number): LogEntry {
    const entry: LogEntry = { index: this.log.lastIndex() + 1, term: this.term, type: 'command', command };
    this.log.appendOne(entry, commandBytes);
    return entry;
  }

  /** Sends entries or a heartbeat to every follower (§5.3). */
  private broadcastAppend(): void {
    for (const peer of this.progress.keys()) this.sendAppend(peer);
  }

  private broadcastHeartbeat(round = this.readRound): void {
    for (const [peer, pr] of this.progress) {
      if (pr.state === 'snapshot') {
        this.sendSnapshotChunk(peer, pr, true);
        continue;
      }
      if (pr.state === 'probe' && pr.probeSent && this.now - pr.lastSendAt >= this.retryInterval()) pr.probeSent = false;
      if (pr.state === 'replicate' && pr.inflight.length > 0 && this.now - pr.lastSendAt >= this.retryInterval()) {
        // Acknowledgements went missing: fall back to probing from the last known match.
        pr.becomeProbe();
        this.counters.probeResets++;
      }
      if (!this.sendAppend(peer)) this.sendHeartbeat(peer, pr, round);
    }
  }

  /**
   * Tells replicating followers about a commit index they have not heard yet,
   * so they apply (and settle their proposals) without waiting for the next
   * heartbeat. Followers that just got entries already carry it.
   */
  private sendCommitUpdates(): void {
    const commit = this.log.commitIndex;
    for (const [peer, pr] of this.progress) {
      if (pr.state === 'replicate' && pr.commitSent < commit && pr.matchIndex > pr.commitSent) this.sendHeartbeat(peer, pr, this.readRound);
    }
  }

  private sendHeartbeat(peer: string, pr: Progress, round: number): void {
    const prevLogIndex = Math.max(pr.matchIndex, this.log.firstIndex() - 1);
    const prevLogTerm = this.log.termAt(prevLogIndex);
    if (prevLogTerm === undefined) return;
    this.send(peer, this.term, {
      type: 'AppendEntriesRequest',
      prevLogIndex,
      prevLogTerm,
      entries: NO_ENTRIES,
      // The full commit index: a follower commits only up to prevLogIndex (§5.3), and one that is
      // catching up learns how far the committed log reaches (knownCommitIndex).
      leaderCommit: this.log.commitIndex,
      readRound: round,
    });
    pr.commitSent = Math.max(pr.commitSent, Math.min(this.log.commitIndex, prevLogIndex));
  }

  /**
   * Sends the next AppendEntries to `peer` when its progress allows (pipelined
   * up to maxInflight in replicate state). Returns true when something was sent.
   */
  private sendAppend(peer: string): boolean {
    const pr = this.progress.get(peer);
    if (!pr) return false;
    let sent = false;
    while (pr.canSend(this.maxInflight)) {
      const prevLogIndex = pr.nextIndex - 1;
      const prevLogTerm = this.log.termAt(prevLogIndex);
      if (prevLogTerm === undefined) {
        // The entries it needs were compacted away: stream the snapshot (§7).
        if (this.snapshot) {
          pr.sendingSnapshot = null;
          this.sendSnapshotChunk(peer, pr, false);
          return true;
        }
        return sent;
      }
      const entries = this.log.slice(pr.nextIndex, this.log.lastIndex(), this.maxEntriesPerMessage, this.maxBytesPerMessage);
      if (entries.length === 0 && (pr.state === 'replicate' || sent)) break;
      this.send(peer, this.term, {
        type: 'AppendEntriesRequest',
        prevLogIndex,
        prevLogTerm,
        entries,
        leaderCommit: this.log.commitIndex,
        readRound: this.readRound,
      });
      pr.commitSent = Math.max(pr.commitSent, this.log.commitIndex);
      sent = true;
      pr.lastSendAt = this.now;
      if (pr.state === 'probe') {
        pr.probeSent = true;
        break;
      }
      const last = entries[entries.length - 1].index;
      pr.nextIndex = last + 1;
      pr.inflight.push(last);
    }
    return sent;
  }

  /** §5.3, §5.4.2: commit the highest index stored on a majority, only by counting entries of the current term. */
  private maybeCommit(): boolean {
    const matches: number[] = [];
    for (const voter of this.configuration.voters) {
      if (voter === this.id) matches.push(this.log.stableIndex);
      else matches.push(this.progress.get(voter)?.matchIndex ?? 0);
    }
    const candidate = majorityMatchIndex(matches);
    if (candidate <= this.log.commitIndex || this.log.termAt(candidate) !== this.term) return false;
    this.log.commitIndex = candidate;
    this.afterCommit();
    return true;
  }

  private afterCommit(): void {
    // A leader removed by a committed configuration steps down (dissertation §4.2.2).
    if (this.internalState === 'leader' && this.configurationIndex <= this.log.commitIndex && !isVoter(this.configuration, this.id)) {
      this.handOverAfterRemoval();
      return;
    }
    this.advanceLeaderChanges();
    this.confirmReadsAfterCommit();
  }

  private handOverAfterRemoval(): void {
    let best: string | null = null;
    let bestMatch = -1;
    for (const voter of this.configuration.voters) {
      const pr = this.progress.get(voter);
      if (pr && pr.matchIndex > bestMatch) {
        best = voter;
        bestMatch = pr.matchIndex;
      }
    }
    this.broadcastAppend();
    if (best !== null && bestMatch === this.log.lastIndex()) {
      this.timeoutNowSentInTerm = this.term;
      this.send(best, this.term, { type: 'TimeoutNowRequest' });
    }
    this.finishLeaderChangesAt(this.log.commitIndex);
    this.becomeFollower(this.term, null);
  }

  // --------------------------------------------------------------- snapshots

  /**
   * Records a snapshot the application took at `snapshot.index` (<= applied)
   * and compacts the log up to it (§7). The snapshot is persisted with the next Ready.
   *
   * A leader keeps the entries after the oldest snapshot it is still sending
   * to a follower that has acknowledged part of it, at most
   * `snapshotCatchUpEntries` of them behind the new snapshot. Without them a
   * follower whose transfer takes longer than the leader takes to apply the
   * next snapshot's worth of entries finds, once installed, that its next
   * entry is gone, and needs the next snapshot, and the next (a snapshot
   * treadmill: it never returns to AppendEntries). The entries kept are in
   * memory only: storage drops what the snapshot covers.
   */
  compact(snapshot: Snapshot): void {
    if (snapshot.index <= this.log.snapshotIndex) return;
    if (snapshot.index > this.appliedIndex) throw new InvariantError(`snapshot at ${snapshot.index} beyond applied ${this.appliedIndex}`);
    if (snapshot.index > this.log.stableIndex) throw new InvariantError(`snapshot at ${snapshot.index} beyond stable ${this.log.stableIndex}`);
    snapshot = { ...snapshot, membershipChanges: this.membershipChangesUpTo(snapshot.index) };
    this.snapshot = snapshot;
    this.snapshotBytes = null;
    this.log.compactTo(snapshot.index, snapshot.term, this.catchUpFloor(snapshot.index));
    this.snapshotToPersist = snapshot;
  }

  /** The index after which compacting to `index` keeps entries in memory (see `compact`). */
  private catchUpFloor(index: number): number {
    let keepAfter = index;
    if (this.internalState !== 'leader' || this.snapshotCatchUpEntries === 0) return keepAfter;
    for (const pr of this.progress.values()) {
      // Only for a transfer the follower is taking (it acknowledged a chunk): for one that is cut off
      // or down the leader would keep entries nobody can use yet.
      if (pr.state === 'snapshot' && pr.snapshotOffset > 0 && pr.snapshotIndex < keepAfter) keepAfter = pr.snapshotIndex;
    }
    return Math.max(keepAfter, index - this.snapshotCatchUpEntries);
  }

  /**
   * The completed membership requests a snapshot at `index` remembers: the
   * previous snapshot's, then those of the configuration entries it covers,
   * the last MEMBERSHIP_CHANGES_KEPT (retries come within a request's timeout).
   */
  private membershipChangesUpTo(index: number): MembershipChangeRecord[] {
    const records = [...(this.snapshot?.membershipChanges ?? [])];
    for (let i = this.log.snapshotIndex + 1; i <= index; i++) {
      const entry = this.log.entryAt(i);
      if (entry?.type === 'configuration' && entry.clientId !== undefined && entry.sequence !== undefined) {
        records.push({ origin: entry.clientId, requestId: entry.sequence, index: i });
      }
    }
    return records.slice(-MEMBERSHIP_CHANGES_KEPT);
  }

  /** Configuration in force at `index` (<= lastIndex), for snapshots taken at that index. */
  configurationAt(index: number): Configuration {
    for (let i = Math.min(index, this.log.lastIndex()); i > this.log.snapshotIndex; i--) {
      const entry = this.log.entryAt(i);
      if (entry?.type === 'configuration' && entry.configuration) return cloneConfiguration(entry.configuration);
    }
    if (this.snapshot && this.snapshot.index <= index) return cloneConfiguration(this.snapshot.configuration);
    return { voters: [], learners: [] };
  }

  private sendSnapshotChunk(peer: string, pr: Progress, retry: boolean): void {
    if (pr.state !== 'snapshot' || pr.sendingSnapshot === null) {
      const snapshot = this.snapshot;
      if (!snapshot) return;
      this.snapshotBytes ??= encodeSnapshot(snapshot);
      pr.becomeSnapshot(snapshot.index);
      this.counters.snapshotsSent++;
      pr.sendingSnapshot = { snapshot, bytes: this.snapshotBytes };
    }
    if (retry && this.now - pr.lastSendAt < this.retryInterval()) return;
    const { snapshot, bytes } = pr.sendingSnapshot as NonNullable<Progress['sendingSnapshot']>;
    const offset = Math.min(pr.snapshotOffset, bytes.length);
    const end = Math.min(bytes.length, offset + this.snapshotChunkBytes);
    this.send(peer, this.term, {
      type: 'InstallSnapshotRequest',
      lastIncludedIndex: snapshot.index,
      lastIncludedTerm: snapshot.term,
      offset,
      data: bytes.subarray(offset, end),
      done: end === bytes.length,
      configuration: cloneConfiguration(snapshot.configuration),
    });
    pr.lastSendAt = this.now;
  }

  private handleInstallSnapshot(message: Message, body: InstallSnapshotRequest): void {
    if (this.internalState !== 'follower' || this.leaderId !== message.from) this.becomeFollower(this.term, message.from);
    this.lastLeaderContact = this.now;
    this.resetElectionDeadline();
    const respond = (nextOffset: number, done: boolean) =>
      this.reply(message.from, { type: 'InstallSnapshotResponse', lastIncludedIndex: body.lastIncludedIndex, nextOffset, done });
    if (body.lastIncludedIndex <= this.log.commitIndex) {
      // We already hold everything the snapshot covers.
      respond(0, true);
      return;
    }
    let incoming = this.incomingSnapshot;
    if (body.offset === 0 && (!incoming || incoming.index !== body.lastIncludedIndex || incoming.term !== body.lastIncludedTerm || incoming.received > 0)) {
      incoming = { index: body.lastIncludedIndex, term: body.lastIncludedTerm, chunks: [], received: 0 };
      this.incomingSnapshot = incoming;
    }
    if (!incoming || incoming.index !== body.lastIncludedIndex || incoming.term !== body.lastIncludedTerm) {
      respond(0, false);
      return;
    }
    if (body.offset !== incoming.received) {
      respond(incoming.received, false);
      return;
    }
    if (incoming.received + body.data.length > this.snapshotLimits.maxBytes) {
      // No answer: the leader retries later; a snapshot this large needs a larger limit on this node.
      this.incomingSnapshot = null;
      this.reject(message.from, 'SNAPSHOT_TOO_LARGE', `snapshot at ${body.lastIncludedIndex} exceeds maxSnapshotBytes (${this.snapshotLimits.maxBytes}) at offset ${incoming.received + body.data.length}`);
      return;
    }
    incoming.chunks.push(body.data.slice());
    incoming.received += body.data.length;
    if (!body.done) {
      respond(incoming.received, false);
      return;
    }
    this.incomingSnapshot = null;
    const decoded = decodeSnapshot(concat(incoming.chunks, incoming.received), this.snapshotLimits);
    const snapshot = typeof decoded === 'string' ? null : decoded;
    if (!snapshot || snapshot.index !== body.lastIncludedIndex || snapshot.term !== body.lastIncludedTerm) {
      const why = typeof decoded === 'string' ? decoded : `it is for ${snapshot?.index}/${snapshot?.term}, not ${body.lastIncludedIndex}/${body.lastIncludedTerm}`;
      this.reject(message.from, 'SNAPSHOT_INVALID', `snapshot at ${body.lastIncludedIndex} refused: ${why}`);
      respond(0, false);
      return;
    }
    this.installSnapshot(snapshot);
    respond(incoming.received, true);
  }

  /** Replaces log and state machine with a snapshot from the leader (§7). */
  private installSnapshot(snapshot: Snapshot): void {
    const previous = this.configuration;
    this.snapshot = snapshot;
    this.snapshotBytes = null;
    this.log.restore(snapshot);
    this.log.commitIndex = Math.max(this.log.commitIndex, snapshot.index);
    this.knownCommitIndex = Math.max(this.knownCommitIndex, snapshot.index);
    this.snapshotToPersist = snapshot;
    this.snapshotToApply = snapshot;
    this.handedOutIndex = Math.max(this.handedOutIndex, snapshot.index);
    this.configuration = cloneConfiguration(snapshot.configuration);
    this.configurationIndex = snapshot.index;
    this.recomputeConfiguration(false);
    this.reportMembershipDiff(previous, this.configuration);
    // A session-less own proposal (see appendOwnCommand) the snapshot covers has no record in it:
    // whether its entry committed is unknown here, so it stays pending until it times out.
    for (const p of this.proposals.values()) {
      const applied = snapshot.sessions.find((s) => s.clientId === this.clientId)?.applied.find((a) => a.sequence === p.sequence);
      if (applied) this.proposals.delete(p.sequence);
    }
  }

  private handleInstallSnapshotResponse(message: Message, body: InstallSnapshotResponse): void {
    if (this.internalState !== 'leader') return;
    const pr = this.progress.get(message.from);
    if (!pr) return;
    pr.recentActive = true;
    if (body.done) {
      pr.maybeUpdate(body.lastIncludedIndex);
      if (pr.state === 'snapshot') pr.becomeProbe();
      this.maybeCommit();
      this.advanceLeaderChanges();
      this.sendAppend(message.from);
      return;
    }
    if (pr.state !== 'snapshot' || body.lastIncludedIndex !== pr.snapshotIndex) return;
    pr.snapshotOffset = body.nextOffset;
    this.sendSnapshotChunk(message.from, pr, false);
  }

  // -------------------------------------------------------------- configuration

  /** Sets `configuration` from the latest configuration entry in the log (or the snapshot). */
  private recomputeConfiguration(report: boolean): void {
    const previous = this.configuration;
    let found = false;
    for (let i = this.log.lastIndex(); i > this.log.snapshotIndex; i--) {
      const entry = this.log.entryAt(i);
      if (entry?.type === 'configuration' && entry.configuration) {
        this.configuration = cloneConfiguration(entry.configuration);
        this.configurationIndex = i;
        found = true;
        break;
      }
    }
    if (!found && this.snapshot) {
      this.configuration = cloneConfiguration(this.snapshot.configuration);
      this.configurationIndex = this.snapshot.index;
    }
    this.previousVoters = this.configurationIndex > 0 ? this.configurationAt(this.configurationIndex - 1).voters : [];
    if (report) this.reportMembershipDiff(previous, this.configuration);
  }

  private reportMembershipDiff(previous: Configuration, next: Configuration): void {
    const { joined, left } = diffMembers(previous, next);
    for (const address of joined) this.events.push({ type: 'join', address });
    for (const address of left) this.events.push({ type: 'leave', address });
  }

  /**
   * Leader: appends a configuration entry; it takes effect at once (dissertation
   * §4.1). The entry that completes a requested change (a removal, or the
   * promotion of a learner) names the request: `clientId` is the node that asked
   * and `sequence` its request id (see findExecutedChange).
   */
  private appendConfiguration(next: Configuration, completes?: LeaderMembershipChange): LogEntry {
    const previous = this.configuration;
    const entry = this.appendEntry(
      completes
        ? { type: 'configuration', configuration: cloneConfiguration(next), clientId: completes.origin, sequence: completes.requestId }
        : { type: 'configuration', configuration: cloneConfiguration(next) },
    );
    this.previousVoters = [...previous.voters];
    this.configuration = cloneConfiguration(next);
    this.configurationIndex = entry.index;
    this.pendingConfigIndex = entry.index;
    for (const member of members(next)) {
      if (member !== this.id && !this.progress.has(member)) {
        const pr = new Progress(this.log.lastIndex());
        pr.recentActive = true;
        this.progress.set(member, pr);
      }
    }
    for (const peer of [...this.progress.keys()]) if (!isMember(next, peer)) this.progress.delete(peer);
    this.reportMembershipDiff(previous, next);
    return entry;
  }

  // ------------------------------------------------------------------ proposals

  /**
   * Proposes a user command through this run's client session (§6.3). Returns
   * its sequence number; the API layer settles it when the entry is applied,
   * or through `proposalFailures` when the core gives up at `timeoutMs`.
   */
  propose(command: JsonValue, timeoutMs: number, byteSize?: number): number {
    const sequence = this.nextSequence++;
    const proposal: PendingProposal = {
      sequence,
      command,
      deadline: this.now + timeoutMs,
      byteSize,
      status: 'unsent',
      forwarded: false,
      sentTo: [],
      lastSentAt: this.now,
      index: 0,
      term: 0,
    };
    this.proposals.set(sequence, proposal);
    this.submitProposal(proposal);
    return sequence;
  }

  /** Lowest sequence this client has not settled. */
  private firstOutstandingSequence(): number {
    // Sequences are never reused, so the low-water mark only moves up: amortized O(1).
    while (this.lowestOutstanding < this.nextSequence && !this.proposals.has(this.lowestOutstanding)) this.lowestOutstanding++;
    return this.lowestOutstanding;
  }

  /**
   * The `firstOutstandingSequence` to put on the next entry or ProposeRequest,
   * or 0 ("no news", omitted on the wire). Settled sequences are announced in
   * steps of LOW_WATER_ANNOUNCE_STEP rather than on every proposal: sessions
   * then remember at most that many more proposals, and each entry on the wire
   * is smaller. An abandoned proposal (timed out) is announced at once, so its
   * entry, if it still commits later, is skipped as before (§6.3).
   */
  private lowWaterToAnnounce(): number {
    const low = this.firstOutstandingSequence();
    if (low <= this.announcedLowWater) return 0;
    if (!this.lowWaterUrgent && low < this.announcedLowWater + LOW_WATER_ANNOUNCE_STEP) return 0;
    this.announcedLowWater = low;
    this.lowWaterUrgent = false;
    return low;
  }

  private submitProposal(p: PendingProposal): void {
    p.lastSentAt = this.now;
    if (this.internalState === 'leader') {
      if (this.transfer) {
        p.status = 'unsent';
        return;
      }
      const entry = p.forwarded
        ? this.appendCommand(p.command, this.clientId, p.sequence, this.lowWaterToAnnounce(), p.byteSize)
        : this.appendOwnCommand(p.command, p.byteSize);
      p.status = 'acked';
      p.index = entry.index;
      p.term = entry.term;
      this.ackedByIndex.set(p.index, p.sequence);
      this.broadcastPending = true;
    } else if (this.leaderId !== null) {
      p.status = 'sent';
      p.forwarded = true;
      rememberDestination(p.sentTo, this.leaderId);
      this.send(this.leaderId, this.term, {
        type: 'ProposeRequest',
        clientId: this.clientId,
        sequence: p.sequence,
        firstOutstandingSequence: this.lowWaterToAnnounce(),
        command: p.command,
      });
    } else {
      p.status = 'unsent';
    }
  }

  private handleProposeRequest(from: string, body: ProposeRequest): void {
    const base = { type: 'ProposeResponse' as const, clientId: body.clientId, sequence: body.sequence };
    if (this.internalState !== 'leader' || this.transfer) {
      const code = this.internalState === 'leader' ? 'TRANSFER_IN_PROGRESS' : 'NOT_LEADER';
      this.reply(from, { ...base, index: 0, logTerm: 0, errorCode: code, leaderHint: this.leaderId ?? '' });
      return;
    }
    const entry = this.appendCommand(body.command, body.clientId, body.sequence, body.firstOutstandingSequence);
    this.reply(from, { ...base, index: entry.index, logTerm: entry.term, errorCode: '', leaderHint: this.id });
    this.broadcastPending = true;
  }

  private handleProposeResponse(from: string, body: ProposeResponse): void {
    if (body.clientId !== this.clientId) return;
    const p = this.proposals.get(body.sequence);
    if (!p || p.status === 'acked') return;
    if (!p.sentTo.includes(from)) {
      this.reject(from, 'UNEXPECTED_SENDER', `ProposeResponse for proposal ${body.sequence} from ${from}, which it was not sent to`);
      return;
    }
    if (body.errorCode === '' && body.index <= this.handedOutIndex) {
      // A late answer (e.g. from an earlier leader) naming a slot already handed out:
      // that slot holds another entry (ours would have settled p), so retry (deduplicated, §6.3).
      p.status = 'unsent';
    } else if (body.errorCode === '') {
      p.status = 'acked';
      p.index = body.index;
      p.term = body.logTerm;
      this.ackedByIndex.set(p.index, p.sequence);
    } else {
      // Retried at the next tick (retryInterval), or when a new leader is learned.
      p.status = 'unsent';
      this.ackedByIndex.delete(p.index);
    }
  }

  /** Settles proposals whose entries are being handed out for application. */
  private settleProposals(entries: readonly LogEntry[]): void {
    if (this.proposals.size === 0) return;
    for (const entry of entries) {
      const mine = entry.type === 'command' && entry.clientId === this.clientId && entry.sequence !== undefined;
      if (mine && this.proposals.delete(entry.sequence as number)) this.settledByIndex.set(entry.index, entry.sequence as number);
      const ackedSequence = this.ackedByIndex.get(entry.index);
      if (ackedSequence === undefined) continue;
      this.ackedByIndex.delete(entry.index);
      const p = this.proposals.get(ackedSequence);
      if (!p) continue;
      if (!p.forwarded && entry.term === p.term) {
        // Our own session-less copy: in its term only we, the leader, wrote an entry at this index (§5.2, §5.3).
        this.proposals.delete(p.sequence);
        this.settledByIndex.set(entry.index, p.sequence);
      } else if (!(mine && entry.sequence === ackedSequence)) {
        // Another entry took the slot: this copy was lost to a new leader and can never
        // commit. Retry (a forwarded copy is deduplicated by its session, §6.3).
        p.status = 'unsent';
        this.submitProposal(p);
      }
    }
  }

  /**
   * The sequence of this node's proposal that the entry at `index`, handed
   * out for application, settles (see settleProposals), once: the API layer
   * resolves the proposal when it has applied the entry.
   */
  takeSettledProposalAt(index: number): number | undefined {
    const sequence = this.settledByIndex.get(index);
    if (sequence !== undefined) this.settledByIndex.delete(index);
    return sequence;
  }

  private tickRequests(): void {
    if (this.now < this.lastRequestsCheck + this.requestCheckInterval()) return;
    this.lastRequestsCheck = this.now;
    const retry = this.retryInterval();
    for (const p of this.proposals.values()) {
      if (this.now >= p.deadline) {
        this.proposals.delete(p.sequence);
        this.lowWaterUrgent = true;
        if (p.status === 'acked') this.ackedByIndex.delete(p.index);
        const code = this.leaderId === null ? 'NO_LEADER' : 'TIMEOUT';
        this.proposalFailures.push({
          sequence: p.sequence,
          code,
          message: code === 'NO_LEADER' ? 'no leader was available before the proposal timed out' : 'the proposal did not commit in time',
        });
      } else if (p.status !== 'acked' && this.now - p.lastSentAt >= retry) {
        this.submitProposal(p);
      }
    }
    for (const [requestId, r] of [...this.forwardedReads]) {
      if (this.now >= r.deadline) {
        this.forwardedReads.delete(requestId);
        this.readResults.push({ requestId, code: this.leaderId === null ? 'NO_LEADER' : 'TIMEOUT', message: 'the read barrier was not confirmed in time' });
      } else if (this.now - r.lastSentAt >= retry) {
        this.sendForwardedRead(requestId, r);
      }
    }
    for (const r of [...this.membershipRequests.values()]) {
      if (this.now >= r.deadline) {
        this.membershipRequests.delete(r.requestId);
        this.membershipResults.push({ requestId: r.requestId, code: this.leaderId === null ? 'NO_LEADER' : 'TIMEOUT', message: `${r.changeType === 'addVoter' ? 'join' : 'leave'} of ${r.address} did not commit in time` });
      } else if (this.now - r.lastSentAt >= retry) {
        this.sendMembershipRequest(r);
      }
    }
    for (const [requestId, t] of [...this.transferRequests]) {
      if (this.now >= t.deadline && (!this.transfer || this.transfer.requestId !== requestId)) {
        this.transferRequests.delete(requestId);
        this.transferResults.push({ requestId, code: 'TIMEOUT', message: 'leadership transfer did not complete in time' });
      }
    }
  }

  // ---------------------------------------------------------------- ReadIndex

  /**
   * Asks for a linearizable read point (dissertation §6.4). The result, with
   * the index to wait for, arrives in `readResults` under the returned id.
   */
  readIndex(timeoutMs: number): number {
    const requestId = this.nextRequestId++;
    if (this.internalState === 'leader') {
      this.pendingReads.push({ requestId, origin: this.id, round: 0, readIndex: 0 });
      this.confirmReadsAfterCommit();
    } else {
      const r: ForwardedRequest = { requestId, deadline: this.now + timeoutMs, lastSentAt: this.now, sent: false, sentTo: [] };
      this.forwardedReads.set(requestId, r);
      this.sendForwardedRead(requestId, r);
    }
    return requestId;
  }

  private sendForwardedRead(requestId: number, r: ForwardedRequest): void {
    r.lastSentAt = this.now;
    if (this.leaderId === null || this.leaderId === this.id) {
      r.sent = false;
      if (this.internalState === 'leader') {
        this.forwardedReads.delete(requestId);
        this.pendingReads.push({ requestId, origin: this.id, round: 0, readIndex: 0 });
        this.confirmReadsAfterCommit();
      }
      return;
    }
    r.sent = true;
    rememberDestination(r.sentTo, this.leaderId);
    this.send(this.leaderId, this.term, { type: 'ReadIndexRequest', requestId });
  }

  private handleReadIndexRequest(from: string, body: ReadIndexRequest): void {
    if (this.internalState !== 'leader') {
      this.reply(from, { type: 'ReadIndexResponse', requestId: body.requestId, readIndex: 0, errorCode: 'NOT_LEADER' });
      return;
    }
    if (this.pendingReads.some((r) => r.origin === from && r.requestId === body.requestId)) return;
    this.pendingReads.push({ requestId: body.requestId, origin: from, round: 0, readIndex: 0 });
    this.confirmReadsAfterCommit();
  }

  private handleReadIndexResponse(from: string, body: ReadIndexResponse): void {
    const r = this.forwardedReads.get(body.requestId);
    if (!r) return;
    if (!r.sentTo.includes(from)) {
      // Taking it would let anyone who saw the request confirm a read the leader never confirmed: a stale read.
      this.reject(from, 'UNEXPECTED_SENDER', `ReadIndexResponse for read ${body.requestId} from ${from}, which it was not sent to`);
      return;
    }
    if (body.errorCode !== '') {
      r.sent = false;
      return;
    }
    this.forwardedReads.delete(body.requestId);
    this.readResults.push({ requestId: body.requestId, readIndex: body.readIndex });
  }

  /** True when an entry of the current term is committed, so commitIndex is current (§6.4 step 1). */
  private committedInCurrentTerm(): boolean {
    return this.log.termAt(this.log.commitIndex) === this.term;
  }

  /** Starts a confirmation round for reads that have none yet; finishes those already confirmed. */
  private confirmReadsAfterCommit(): void {
    if (this.internalState !== 'leader' || this.pendingReads.length === 0 || !this.committedInCurrentTerm()) return;
    if (this.holdsLease()) {
      // No round needed: no other leader can exist before the lease runs out.
      for (const read of this.pendingReads) {
        if (read.round === 0) read.readIndex = this.log.commitIndex;
        this.finishRead(read, {});
      }
      this.pendingReads = [];
      return;
    }
    let needsRound = false;
    for (const read of this.pendingReads) {
      if (read.round === 0) {
        read.readIndex = this.log.commitIndex;
        needsRound = true;
      }
    }
    if (needsRound) {
      this.startReadRound();
      for (const read of this.pendingReads) if (read.round === 0) read.round = this.readRound;
      if (this.configuration.voters.length > 1 || !isVoter(this.configuration, this.id)) {
        for (const [peer, pr] of this.progress) this.sendHeartbeat(peer, pr, this.readRound);
      }
    }
    this.finishConfirmedReads();
  }

  /** Opens a new confirmation round; heartbeats carry it and followers echo it. */
  private startReadRound(): void {
    this.readRound++;
    if (this.leaseReads) {
      this.roundStartedAt.set(this.readRound, this.now);
      this.roundStartedAt.delete(this.readRound - 256);
    }
  }

  private ackReadRound(peer: string, round: number): void {
    if ((this.readAcks.get(peer) ?? 0) < round) this.readAcks.set(peer, round);
    const startedAt = this.roundStartedAt.get(round);
    if (startedAt !== undefined && startedAt > (this.leaseAcks.get(peer) ?? -Infinity)) this.leaseAcks.set(peer, startedAt);
    this.finishConfirmedReads();
  }

  /**
   * Lease-based reads (dissertation §6.4.1): a quorum acknowledged a round
   * begun at leader time T, so none of them votes for another candidate, or
   * campaigns, until heartbeatTimeout of its own clock has passed since then;
   * in this leader's time that is at least T + heartbeatTimeout / (1 + maxClockDrift).
   * Except after a TimeoutNow of this term (see timeoutNowSentInTerm): its
   * target campaigns whenever it arrives and voters grant it at once (§3.10).
   */
  private holdsLease(): boolean {
    if (!this.leaseReads || this.internalState !== 'leader' || this.transfer !== null || !isVoter(this.configuration, this.id)) return false;
    if (this.timeoutNowSentInTerm === this.term) return false;
    const starts = this.configuration.voters.map((v) => (v === this.id ? this.now : this.leaseAcks.get(v) ?? -Infinity));
    const sorted = starts.sort((a, b) => b - a);
    const quorumStart = sorted[quorumSize(sorted.length) - 1];
    return this.now < quorumStart + this.timing.heartbeatTimeout() / (1 + this.maxClockDrift);
  }

  /** Highest round acknowledged by a quorum of voters (this node counts for every round). */
  private confirmedRound(): number {
    const acks = this.configuration.voters.map((v) => (v === this.id ? this.readRound : this.readAcks.get(v) ?? 0));
    return majorityMatchIndex(acks);
  }

  private finishConfirmedReads(): void {
    if (this.pendingReads.length === 0) return;
    const confirmed = this.confirmedRound();
    const remaining: PendingRead[] = [];
    for (const read of this.pendingReads) {
      if (read.round !== 0 && read.round <= confirmed) this.finishRead(read, {});
      else remaining.push(read);
    }
    this.pendingReads = remaining;
  }

  private finishRead(read: PendingRead, outcome: { code?: string; message?: string }): void {
    if (read.origin === this.id) {
      if (outcome.code) this.readResults.push({ requestId: read.requestId, code: outcome.code, message: outcome.message });
      else this.readResults.push({ requestId: read.requestId, readIndex: read.readIndex });
    } else {
      this.reply(read.origin, { type: 'ReadIndexResponse', requestId: read.requestId, readIndex: read.readIndex, errorCode: outcome.code ?? '' });
    }
  }

  // -------------------------------------------------------------- membership

  /**
   * Requests a single-server change (dissertation §4.1): adding a voter goes
   * through a learner stage until it has caught up. The result arrives in
   * `membershipResults` once the change has committed.
   */
  changeMembership(changeType: MembershipChangeType, address: string, timeoutMs: number): number {
    const requestId = this.nextRequestId++;
    const request: MembershipRequest = { requestId, changeType, address, deadline: this.now + timeoutMs, lastSentAt: this.now, sent: false, sentTo: [] };
    this.membershipRequests.set(requestId, request);
    this.sendMembershipRequest(request);
    return requestId;
  }

  private sendMembershipRequest(r: MembershipRequest): void {
    r.lastSentAt = this.now;
    if (this.internalState === 'leader') {
      this.membershipRequests.delete(r.requestId);
      this.enqueueLeaderChange({ origin: this.id, requestId: r.requestId, changeType: r.changeType, address: r.address, deadline: r.deadline, finalIndex: 0 });
      return;
    }
    if (this.leaderId === null) {
      r.sent = false;
      return;
    }
    r.sent = true;
    rememberDestination(r.sentTo, this.leaderId);
    this.send(this.leaderId, this.term, { type: 'MembershipChangeRequest', requestId: r.requestId, changeType: r.changeType, address: r.address });
  }

  private handleMembershipChangeRequest(from: string, body: MembershipChangeRequest): void {
    if (this.internalState !== 'leader') {
      this.reply(from, { type: 'MembershipChangeResponse', requestId: body.requestId, errorCode: 'NOT_LEADER', index: 0 });
      return;
    }
    const existing = this.leaderChanges.find((c) => c.origin === from && c.requestId === body.requestId);
    if (existing) return;
    this.enqueueLeaderChange({
      origin: from,
      requestId: body.requestId,
      changeType: body.changeType,
      address: body.address,
      deadline: this.now + 10 * this.timing.heartbeatTimeout() + 10_000,
      finalIndex: 0,
    });
  }

  private handleMembershipChangeResponse(from: string, body: MembershipChangeResponse): void {
    const r = this.membershipRequests.get(body.requestId);
    if (!r) return;
    if (!r.sentTo.includes(from)) {
      this.reject(from, 'UNEXPECTED_SENDER', `MembershipChangeResponse for request ${body.requestId} from ${from}, which it was not sent to`);
      return;
    }
    if (body.errorCode === 'NOT_LEADER' || body.errorCode === 'LEADERSHIP_LOST') {
      r.sent = false;
      return;
    }
    this.membershipRequests.delete(body.requestId);
    if (body.errorCode === '') this.membershipResults.push({ requestId: body.requestId });
    else this.membershipResults.push({ requestId: body.requestId, code: body.errorCode, message: `membership change rejected by the leader: ${body.errorCode}` });
  }

  private enqueueLeaderChange(change: LeaderMembershipChange): void {
    // A retried request that some leader already carried out is answered, not carried out again:
    // after someone else's opposite change (a leave after this join) a second run would undo it.
    const finished = this.finishedChanges.get(finishedChangeKey(change.origin, change.requestId));
    if (finished) {
      this.finishLeaderChange({ ...change, finalIndex: finished.index }, finished.errorCode, finished.errorCode === '' ? '' : 'the membership change failed earlier');
      return;
    }
    const executedAt = this.findExecutedChange(change.origin, change.requestId);
    if (executedAt > 0) {
      change.finalIndex = executedAt;
      if (executedAt <= this.log.commitIndex) this.finishLeaderChange(change, '', '');
      // Appended by an earlier leader and not committed yet: it is the pending change, so it goes first.
      else this.leaderChanges.unshift(change);
      return;
    }
    if (change.changeType === 'remove' && this.configuration.voters.length === 1 && this.configuration.voters[0] === change.address) {
      this.finishLeaderChange(change, 'INVALID_ARGUMENT', 'cannot remove the last voter');
      return;
    }
    this.leaderChanges.push(change);
    this.advanceLeaderChanges();
  }

  /**
   * Index of the configuration entry that completed the request `requestId`
   * of `origin`, from the log or the snapshot's record, or 0 when there is
   * none (never carried out, or too long ago to be remembered).
   */
  private findExecutedChange(origin: string, requestId: number): number {
    for (let i = this.log.lastIndex(); i > this.log.snapshotIndex; i--) {
      const entry = this.log.entryAt(i);
      if (entry?.type === 'configuration' && entry.clientId === origin && entry.sequence === requestId) return i;
    }
    return this.snapshot?.membershipChanges?.find((r) => r.origin === origin && r.requestId === requestId)?.index ?? 0;
  }

  /** Moves the change at the head of the queue forward when the log allows (one at a time, §4.1). */
  private advanceLeaderChanges(): void {
    while (this.internalState === 'leader' && this.leaderChanges.length > 0) {
      const change = this.leaderChanges[0];
      if (change.finalIndex > 0) {
        if (this.log.commitIndex >= change.finalIndex) {
          this.leaderChanges.shift();
          this.finishLeaderChange(change, '', '');
          continue;
        }
        return;
      }
      // §4.1 fix: no change before an entry of this term commits, nor while another is uncommitted.
      if (!this.committedInCurrentTerm() || this.pendingConfigIndex > this.log.commitIndex) return;
      const config = this.configuration;
      if (change.changeType === 'remove') {
        if (!isMember(config, change.address)) {
          this.leaderChanges.shift();
          this.finishLeaderChange(change, '', '');
          continue;
        }
        if (config.voters.length === 1 && config.voters[0] === change.address) {
          // Checked again here: earlier changes in the queue may have left this the last voter.
          this.leaderChanges.shift();
          this.finishLeaderChange(change, 'INVALID_ARGUMENT', 'cannot remove the last voter');
          continue;
        }
        change.finalIndex = this.appendConfiguration(without(config, change.address), change).index;
        this.broadcastAppend();
        this.maybeCommit();
        return;
      }
      if (isVoter(config, change.address)) {
        this.leaderChanges.shift();
        this.finishLeaderChange(change, '', '');
        continue;
      }
      if (!isMember(config, change.address)) {
        this.appendConfiguration(withLearner(config, change.address));
        this.broadcastAppend();
        this.maybeCommit();
        return;
      }
      // A learner: promote once it has caught up with the commit index.
      const pr = this.progress.get(change.address);
      if (!pr || pr.matchIndex < this.log.commitIndex) return;
      change.finalIndex = this.appendConfiguration(withVoter(config, change.address), change).index;
      this.broadcastAppend();
      this.maybeCommit();
      return;
    }
  }

  private finishLeaderChangesAt(commitIndex: number): void {
    while (this.leaderChanges.length > 0 && this.leaderChanges[0].finalIndex > 0 && this.leaderChanges[0].finalIndex <= commitIndex) {
      this.finishLeaderChange(this.leaderChanges.shift() as LeaderMembershipChange, '', '');
    }
  }

  private expireLeaderChanges(): void {
    while (this.leaderChanges.length > 0 && this.now >= this.leaderChanges[0].deadline && this.leaderChanges[0].finalIndex === 0) {
      this.finishLeaderChange(this.leaderChanges.shift() as LeaderMembershipChange, 'TIMEOUT', 'membership change timed out');
    }
    this.advanceLeaderChanges();
  }

  private finishLeaderChange(change: LeaderMembershipChange, code: string, message: string): void {
    if (change.origin === this.id) {
      this.membershipResults.push(code ? { requestId: change.requestId, code, message } : { requestId: change.requestId });
    } else {
      this.reply(change.origin, { type: 'MembershipChangeResponse', requestId: change.requestId, errorCode: code, index: change.finalIndex });
      // A change dropped because leadership was lost is retried at the next leader, not answered from here.
      if (code !== 'LEADERSHIP_LOST') {
        this.finishedChanges.set(finishedChangeKey(change.origin, change.requestId), { errorCode: code, index: change.finalIndex });
        if (this.finishedChanges.size > FINISHED_CHANGES_KEPT) this.finishedChanges.delete(this.finishedChanges.keys().next().value as string);
      }
    }
  }

  // ---------------------------------------------------------- leadership transfer

  /**
   * Hands leadership to `target` (or the most up-to-date voter) via TimeoutNow
   * (dissertation §3.10): the target is caught up first, and proposals pause
   * until the transfer finishes or times out.
   */
  transferLeadership(target: string | null, timeoutMs: number): number {
    const requestId = this.nextRequestId++;
    const fail = (code: string, message: string) => this.transferResults.push({ requestId, code, message });
    if (target !== null && !isVoter(this.configuration, target)) {
      fail('NOT_VOTER', `${target} is not a voter`);
      return requestId;
    }
    if (this.internalState !== 'leader') {
      if (target !== null && target === this.leaderId) this.transferResults.push({ requestId });
      else fail('NOT_LEADER', 'only the leader can transfer leadership');
      return requestId;
    }
    if (target === this.id) {
      this.transferResults.push({ requestId });
      return requestId;
    }
    if (this.transfer) {
      fail('TRANSFER_IN_PROGRESS', `a transfer to ${this.transfer.target} is in progress`);
      return requestId;
    }
    let chosen = target;
    if (chosen === null) {
      let bestMatch = -1;
      for (const voter of this.configuration.voters) {
        const pr = this.progress.get(voter);
        if (voter !== this.id && pr && pr.matchIndex > bestMatch) {
          chosen = voter;
          bestMatch = pr.matchIndex;
        }
      }
    }
    if (chosen === null) {
      fail('NOT_VOTER', 'there is no other voter to transfer leadership to');
      return requestId;
    }
    this.transfer = { requestId, target: chosen, deadline: this.now + timeoutMs, timeoutNowSent: false };
    this.transferRequests.set(requestId, { target: chosen, deadline: this.now + timeoutMs });
    this.maybeSendTimeoutNow(chosen);
    if (!this.transfer.timeoutNowSent) this.sendAppend(chosen);
    return requestId;
  }

  private maybeSendTimeoutNow(peer: string): void {
    const transfer = this.transfer;
    if (!transfer || transfer.target !== peer || transfer.timeoutNowSent) return;
    const pr = this.progress.get(peer);
    if (!pr || pr.matchIndex < this.log.lastIndex()) return;
    transfer.timeoutNowSent = true;
    this.timeoutNowSentInTerm = this.term;
    // Proposals stay paused: the request settles when this node sees the target lead.
    this.send(peer, this.term, { type: 'TimeoutNowRequest' });
  }

  private abortTransfer(code: string, message: string): void {
    const transfer = this.transfer;
    if (!transfer) return;
    this.transfer = null;
    this.transferRequests.delete(transfer.requestId);
    this.transferResults.push({ requestId: transfer.requestId, code, message });
    for (const p of this.proposals.values()) if (p.status === 'unsent') this.submitProposal(p);
  }

  // ------------------------------------------------------------------ Ready

  /** True when `ready()` would return work. */
  hasReady(): boolean {
    return (
      this.broadcastPending ||
      this.messages.length > 0 ||
      this.log.unstableFrom <= this.log.lastIndex() ||
      this.mustSaveHardState() ||
      this.snapshotToPersist !== undefined ||
      this.snapshotToApply !== undefined ||
      this.applicableIndex() > this.handedOutIndex ||
      this.proposalFailures.length > 0 ||
      this.readResults.length > 0 ||
      this.membershipResults.length > 0 ||
      this.transferResults.length > 0
    );
  }

  /** HardState.knownCommitIndex: saved only while it is beyond the commit index (0: omitted). */
  private knownCommitIndexToSave(): number {
    return this.knownCommitIndex > this.log.commitIndex ? this.knownCommitIndex : 0;
  }

  /**
   * True when the hard state must be durable before the messages that depend
   * on it leave (§5.1): a new term or vote, or a higher known commit index
   * (the guard of a rejoining node, see knownCommitIndex). A commit index
   * alone need not be: Raft keeps it volatile (§5.1, Figure 2), a restarted
   * node learns it again from the leader (or, alone, by committing its next
   * entry), and entries are applied once durable whether or not the commit
   * index is. So a change of the commit index only rides along with the next
   * save (etcd's MustSync): one fsync per write on each node instead of two.
   */
  private mustSaveHardState(): boolean {
    const saved = this.lastSavedHardState;
    return saved.term !== this.term || saved.votedFor !== this.votedFor || this.knownCommitIndexToSave() > (saved.knownCommitIndex ?? 0);
  }

  /** True when the hard state differs from what was last saved in any field (see mustSaveHardState). */
  private hardStateChanged(): boolean {
    const saved = this.lastSavedHardState;
    return (
      this.mustSaveHardState() || saved.commitIndex !== this.log.commitIndex || (saved.knownCommitIndex ?? 0) !== this.knownCommitIndexToSave()
    );
  }

  /** Committed entries may be applied once they are durable locally. */
  private applicableIndex(): number {
    return Math.min(this.log.commitIndex, this.log.stableIndex);
  }

  /** Collects the work to do; see `Ready` for the order it must be done in. */
  ready(): Ready {
    // Hand out committed entries first: settling proposals may queue retries (messages, entries).
    let committedEntries = NO_ENTRIES;
    const applicable = this.applicableIndex();
    if (applicable > this.handedOutIndex) {
      committedEntries = this.log.slice(this.handedOutIndex + 1, applicable);
      if (committedEntries.length > 0) this.handedOutIndex = committedEntries[committedEntries.length - 1].index;
      this.settleProposals(committedEntries);
    }
    if (this.broadcastPending) {
      // Many proposals since the last Ready travel in one AppendEntries per follower.
      this.broadcastPending = false;
      if (this.internalState === 'leader') this.broadcastAppend();
    }
    if (this.internalState === 'leader') this.sendCommitUpdates();
    const entries = this.log.takeUnstable();
    const mustSave = this.mustSaveHardState();
    const ready: Ready = {
      entries,
      ...this.splitMessages(mustSave),
      committedEntries,
      proposalFailures: this.proposalFailures,
      readResults: this.readResults,
      membershipResults: this.membershipResults,
      transferResults: this.transferResults,
    };
    // The commit index rides along with a save that happens anyway (see mustSaveHardState).
    if (mustSave || ((entries.length > 0 || this.snapshotToPersist !== undefined) && this.hardStateChanged())) {
      ready.hardState = { term: this.term, votedFor: this.votedFor, commitIndex: this.log.commitIndex };
      const knownCommitIndex = this.knownCommitIndexToSave();
      if (knownCommitIndex > 0) ready.hardState.knownCommitIndex = knownCommitIndex;
      this.lastSavedHardState = ready.hardState;
    }
    if (this.snapshotToPersist) {
      ready.snapshot = this.snapshotToPersist;
      this.snapshotToPersist = undefined;
    }
    if (this.snapshotToApply) {
      ready.snapshotToApply = this.snapshotToApply;
      this.snapshotToApply = undefined;
    }
    this.messages = [];
    this.proposalFailures = [];
    this.readResults = [];
    this.membershipResults = [];
    this.transferResults = [];
    return ready;
  }

  /**
   * Splits the outgoing messages into those that may leave before this
   * Ready's save completes and those that must wait for it. A leader's
   * AppendEntries, InstallSnapshot and TimeoutNow go at once, unless the term
   * or vote is still to be saved (`mustSave`): a leader writes its own log in
   * parallel with replicating it (dissertation §10.2.1), and counts itself
   * toward a commit only for entries already durable (maybeCommit uses the
   * stable index). Everything else (votes, acknowledgements, answers) waits.
   */
  private splitMessages(mustSave: boolean): { messagesBeforeSave: Message[]; messages: Message[] } {
    const all = this.messages;
    if (mustSave || this.internalState !== 'leader' || all.length === 0) return { messagesBeforeSave: NO_MESSAGES, messages: all };
    let early = 0;
    for (const m of all) if (sendsBeforeSave(m)) early++;
    if (early === all.length) return { messagesBeforeSave: all, messages: NO_MESSAGES };
    if (early === 0) return { messagesBeforeSave: NO_MESSAGES, messages: all };
    return { messagesBeforeSave: all.filter(sendsBeforeSave), messages: all.filter((m) => !sendsBeforeSave(m)) };
  }

  /**
   * Takes the events (role changes, membership changes, election timers)
   * that happened since the last call, in order. The API layer calls it after
   * every call into the core, so each is reported in the turn it happened.
   */
  takeEvents(): readonly CoreEvent[] {
    if (this.events.length === 0) return NO_EVENTS;
    const events = this.events;
    this.events = [];
    return events;
  }

  /** Acknowledges that the Ready's persistence completed. */
  advance(ready: Ready): void {
    if (ready.entries.length > 0) {
      const last = ready.entries[ready.entries.length - 1];
      this.log.stableTo(last.index, last.term);
    }
    if (this.internalState === 'leader' && this.maybeCommit()) this.broadcastAppend();
  }

  /** Records that the state machine applied everything up to `index`. */
  appliedTo(index: number): void {
    if (index > this.appliedIndex) this.appliedIndex = index;
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * True when an AppendEntries rejection answers a request the leader has
 * moved past (a delayed or duplicated answer), as etcd's Progress.MaybeDecrTo
 * decides: while replicating, a rejection of an index at or below the
 * follower's match; while probing, a rejection of an index other than the
 * probe's (nextIndex - 1). Acting on one would send a replicating follower
 * back to probing, or start a snapshot nobody needs. `rejectedIndex` 0: a
 * sender that does not say, treated as current.
 */
function isStaleRejection(pr: Progress, rejectedIndex: number): boolean {
  if (rejectedIndex === 0) return false;
  if (pr.state === 'replicate') return rejectedIndex <= pr.matchIndex;
  return rejectedIndex !== pr.nextIndex - 1;
}

/** How many leaders a forwarded request remembers having been sent to (answers from others are refused). */
const DESTINATIONS_KEPT = 4;

/** Adds `leader` to the leaders a request went to, keeping the last DESTINATIONS_KEPT. */
function rememberDestination(sentTo: string[], leader: string): void {
  if (sentTo[sentTo.length - 1] === leader) return;
  const at = sentTo.indexOf(leader);
  if (at >= 0) sentTo.splice(at, 1);
  sentTo.push(leader);
  if (sentTo.length > DESTINATIONS_KEPT) sentTo.shift();
}

/** A leader's message that carries only what it may send before its own save completes (see splitMessages). */
function sendsBeforeSave(message: Message): boolean {
  const type = message.body.type;
  return type === 'AppendEntriesRequest' || type === 'InstallSnapshotRequest' || type === 'TimeoutNowRequest';
}
