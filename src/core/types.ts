/**
 * Types shared by the pure Raft core and the layers around it. Nothing here
 * depends on the wire format: `src/wire` maps these to and from `webraft.v1`.
 */

/** Any value that survives `JSON.parse(JSON.stringify(value))` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** How an entry is applied (mirrors `webraft.v1.EntryType`). */
export type EntryType = 'command' | 'noop' | 'configuration';

/** The members of the cluster (dissertation §4.1). */
export interface Configuration {
  /** Voting members; a majority of them is a quorum. Invariant: no duplicates. */
  voters: string[];
  /** Non-voting members that receive the log. Invariant: disjoint from `voters`. */
  learners: string[];
}

/** One slot of the replicated log. Invariant: `index >= 1`, `term >= 1`. */
export interface LogEntry {
  index: number;
  term: number;
  type: EntryType;
  /** The user's command; present only when `type === 'command'`. */
  command?: JsonValue;
  /** The new configuration; present only when `type === 'configuration'`. */
  configuration?: Configuration;
  /** Client session of the proposal (dissertation §6.3); '' for none. */
  clientId?: string;
  /** Sequence number of the proposal within its session. */
  sequence?: number;
  /** All sequence numbers of the session below this one are settled by the client. */
  firstOutstandingSequence?: number;
}

/** The state that must be durable before any message depending on it is sent (§5.1, Figure 2). */
export interface HardState {
  /** Latest term this node has seen. Invariant: never decreases. */
  term: number;
  /** Candidate voted for in `term`, or null. */
  votedFor: string | null;
  /** Highest index known committed (an optimisation; may lag). */
  commitIndex: number;
  /**
   * Highest index the node has learned is committed in the cluster when that
   * is beyond `commitIndex` (a node catching up); absent otherwise. Until its
   * log reaches it the node neither campaigns nor votes for a shorter log.
   */
  knownCommitIndex?: number;
}

/** Where one proposal of a session was applied. */
export interface AppliedProposal {
  sequence: number;
  index: number;
  term: number;
}

/** One client session's deduplication state (dissertation §6.3). */
export interface ClientSession {
  clientId: string;
  /** Every sequence below this is settled: a proposal with a lower sequence is a duplicate. */
  lowWater: number;
  /** Proposals at or above `lowWater` that were applied, with where they were applied. */
  applied: AppliedProposal[];
  /** Index of the last entry applied for this session, used to evict idle sessions. */
  lastIndex: number;
}

/**
 * A snapshot of the replicated state machine at `index` (§7): the user's state
 * (whatever `createSnapshot()` returned), the configuration and the
 * exactly-once sessions as of that index. JSON-serializable.
 */
export interface Snapshot {
  index: number;
  term: number;
  configuration: Configuration;
  /** The application's state, as returned by `createSnapshot()`. */
  data: JsonValue;
  /** Exactly-once deduplication state as of `index`. */
  sessions: ClientSession[];
  /**
   * The latest membership requests completed at or before `index` (by the
   * configuration entry at `index`), so a retried request is answered rather
   * than carried out again after its entry was compacted. Filled by the core.
   */
  membershipChanges?: MembershipChangeRecord[];
}

/** A membership request that a configuration entry completed. */
export interface MembershipChangeRecord {
  /** The node that asked. */
  origin: string;
  /** Its request id. */
  requestId: number;
  /** Index of the configuration entry that completed it. */
  index: number;
}

/** A request for a vote or pre-vote (§5.2, dissertation §9.6). */
export interface RequestVoteRequest {
  type: 'RequestVoteRequest';
  lastLogIndex: number;
  lastLogTerm: number;
  preVote: boolean;
  leadershipTransfer: boolean;
}
export interface RequestVoteResponse {
  type: 'RequestVoteResponse';
  voteGranted: boolean;
  preVote: boolean;
}
/** Log replication and heartbeat (§5.3). */
export interface AppendEntriesRequest {
  type: 'AppendEntriesRequest';
  prevLogIndex: number;
  prevLogTerm: number;
  entries: LogEntry[];
  leaderCommit: number;
  readRound: number;
}
export interface AppendEntriesResponse {
  type: 'AppendEntriesResponse';
  success: boolean;
  matchIndex: number;
  conflictIndex: number;
  conflictTerm: number;
  readRound: number;
  lastLogIndex: number;
  /**
   * On rejection, the request's prevLogIndex (the index whose consistency
   * check failed), so the leader can tell a stale rejection from a current
   * one; 0 when unknown.
   */
  rejectedIndex: number;
}
/** One chunk of a snapshot (§7). */
export interface InstallSnapshotRequest {
  type: 'InstallSnapshotRequest';
  lastIncludedIndex: number;
  lastIncludedTerm: number;
  offset: number;
  data: Uint8Array;
  done: boolean;
  configuration: Configuration;
}
export interface InstallSnapshotResponse {
  type: 'InstallSnapshotResponse';
  lastIncludedIndex: number;
  nextOffset: number;
  done: boolean;
}
/** Leadership transfer (dissertation §3.10). */
export interface TimeoutNowRequest {
  type: 'TimeoutNowRequest';
}
export interface ProposeRequest {
  type: 'ProposeRequest';
  clientId: string;
  sequence: number;
  firstOutstandingSequence: number;
  command: JsonValue;
}
export interface ProposeResponse {
  type: 'ProposeResponse';
  clientId: string;
  sequence: number;
  index: number;
  logTerm: number;
  errorCode: string;
  leaderHint: string;
}
export interface ReadIndexRequest {
  type: 'ReadIndexRequest';
  requestId: number;
}
export interface ReadIndexResponse {
  type: 'ReadIndexResponse';
  requestId: number;
  readIndex: number;
  errorCode: string;
}
export type MembershipChangeType = 'addVoter' | 'remove';
export interface MembershipChangeRequest {
  type: 'MembershipChangeRequest';
  requestId: number;
  changeType: MembershipChangeType;
  address: string;
}
export interface MembershipChangeResponse {
  type: 'MembershipChangeResponse';
  requestId: number;
  errorCode: string;
  index: number;
}

export type MessageBody =
  | RequestVoteRequest
  | RequestVoteResponse
  | AppendEntriesRequest
  | AppendEntriesResponse
  | InstallSnapshotRequest
  | InstallSnapshotResponse
  | TimeoutNowRequest
  | ProposeRequest
  | ProposeResponse
  | ReadIndexRequest
  | ReadIndexResponse
  | MembershipChangeRequest
  | MembershipChangeResponse;

export type MessageType = MessageBody['type'];

/** A message between two nodes: the envelope of `webraft.v1.Message` plus one body. */
export interface Message {
  from: string;
  to: string;
  /** Sender's term (§5.1); see the proto for the pre-vote convention. */
  term: number;
  body: MessageBody;
}
