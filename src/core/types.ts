/**
 * Types shared by the pure Raft core and the layers around it. The message
 * types (Message, every body, LogEntry, Configuration, the enums as string
 * unions) are generated from proto/webraft/v1/raft.proto by
 * scripts/gen-wire.ts; `src/wire` maps them to and from the proto3 JSON and
 * binary forms. Invariants the core keeps on them: a LogEntry has `index >= 1`
 * and `term >= 1`; a Configuration's voters have no duplicates and are
 * disjoint from its learners.
 */
export type {
  AppendEntriesRequest,
  AppendEntriesResponse,
  Configuration,
  EntryType,
  InstallSnapshotRequest,
  InstallSnapshotResponse,
  JsonValue,
  LogEntry,
  MembershipChangeRequest,
  MembershipChangeResponse,
  MembershipChangeType,
  Message,
  MessageBody,
  MessageType,
  ProposeRequest,
  ProposeResponse,
  ReadIndexRequest,
  ReadIndexResponse,
  RequestVoteRequest,
  RequestVoteResponse,
  TimeoutNowRequest,
} from '../../generated/webraft/v1/raft.core.js';
import type { Configuration, JsonValue } from '../../generated/webraft/v1/raft.core.js';

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
