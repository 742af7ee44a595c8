import type { HardState, LogEntry, Message, Snapshot } from './types.js';

/** The public role of a node. A pre-candidate (§9.6 PreVote) reports 'candidate'. */
export type RoleState = 'follower' | 'candidate' | 'leader';

/** Something that happened inside the core that the API layer reports as an event. */
export type CoreEvent =
  | { type: 'state'; state: RoleState }
  | { type: 'leaderChanged'; leader: string | null }
  | { type: 'join'; address: string }
  | { type: 'leave'; address: string }
  | { type: 'heartbeatTimeout' }
  | { type: 'startElection' };

/** A proposal the core gave up on. Successful proposals are settled when their entry is applied. */
export interface ProposalFailure {
  sequence: number;
  code: string;
  message: string;
}

/** The outcome of a request identified by `requestId` (read, membership change, transfer). */
export interface RequestResult {
  requestId: number;
  /** Set on failure. */
  code?: string;
  message?: string;
  /** For reads: the index this node must apply before the read may proceed (§6.4). */
  readIndex?: number;
}

/**
 * Work the core asks the layer around it to do, in this order (etcd's Ready):
 * 1. persist `snapshot`, `entries` and `hardState` (one `Storage.save`);
 * 2. then send `messages` (they may depend on what was just persisted, §5.1);
 * 3. then install `snapshotToApply` (a `refresh`) and apply `committedEntries` in order;
 * 4. call `advance(ready)` once step 1 completed.
 * Results and events may be reported at any point.
 */
export interface Ready {
  hardState?: HardState;
  entries: LogEntry[];
  snapshot?: Snapshot;
  messages: Message[];
  snapshotToApply?: Snapshot;
  committedEntries: LogEntry[];
  events: CoreEvent[];
  proposalFailures: ProposalFailure[];
  readResults: RequestResult[];
  membershipResults: RequestResult[];
  transferResults: RequestResult[];
}

/** True when a Ready has something that needs saving. */
export function readyNeedsSave(ready: Ready): boolean {
  return ready.hardState !== undefined || ready.entries.length > 0 || ready.snapshot !== undefined;
}
