import type { HardState, LogEntry, Message, Snapshot } from './types.js';

/** The public role of a node. A pre-candidate (§9.6 PreVote) reports 'candidate'. */
export type RoleState = 'follower' | 'candidate' | 'leader';

/**
 * A node's role as the outside world sees it, taken at one instant: its public
 * role, its term and the leader it knows. The three always belong together:
 * `state === 'leader'` only in a term this node leads (§5.2: at most one
 * leader per term).
 */
export interface RoleView {
  state: RoleState;
  term: number;
  leader: string | null;
}

/**
 * Something that happened inside the core that the API layer reports as an
 * event. Role events carry the view at the moment of the transition, so a
 * listener sees the role, term and leader that belong together even when
 * further transitions followed in the same call.
 */
export type CoreEvent =
  | { type: 'state'; view: RoleView }
  | { type: 'leaderChanged'; view: RoleView }
  | { type: 'join'; address: string }
  | { type: 'leave'; address: string }
  | { type: 'heartbeatTimeout' }
  | { type: 'startElection' }
  /** A message the core refused (reported as 'invalid message'): from a non-member, an unexpected sender, a conflicting leader, a bad snapshot. */
  | { type: 'rejected'; from: string; code: string; message: string };

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
 * Work the core asks the layer around it to do, in this order (etcd's Ready).
 * Events are not part of it: the layer takes them with `takeEvents()` right
 * after every call into the core, so they are reported in the same turn.
 * 0. `messagesBeforeSave` may be sent at once (a leader's AppendEntries while
 *    it writes its own log, dissertation §10.2.1);
 * 1. persist `snapshot`, `entries` and `hardState` (one `Storage.save`);
 * 2. then send `messages` (they may depend on what was just persisted, §5.1);
 * 3. then install `snapshotToApply` (a `refresh`) and apply `committedEntries` in order;
 * 4. call `advance(ready)` once step 1 completed.
 * Results may be reported at any point.
 */
export interface Ready {
  hardState?: HardState;
  entries: LogEntry[];
  snapshot?: Snapshot;
  /** Messages that do not depend on this Ready's save: send them before it completes. */
  messagesBeforeSave: Message[];
  /** Messages to send once this Ready's save completed. */
  messages: Message[];
  snapshotToApply?: Snapshot;
  committedEntries: LogEntry[];
  proposalFailures: ProposalFailure[];
  readResults: RequestResult[];
  membershipResults: RequestResult[];
  transferResults: RequestResult[];
}

/** True when a Ready has something that needs saving. */
export function readyNeedsSave(ready: Ready): boolean {
  return ready.hardState !== undefined || ready.entries.length > 0 || ready.snapshot !== undefined;
}
