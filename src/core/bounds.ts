import type { Message } from './types.js';

/**
 * The ceiling on terms: 2^52. A node accepts no message of a higher term and
 * does not campaign beyond it.
 *
 * JavaScript numbers are exact up to 2^53 - 1. A single message with a term
 * of 2^53 - 1 used to move every node there; the next campaign's term was no
 * longer exact, every message failed to encode and the cluster never elected
 * again, even after a restart (the term is persisted). Now no arithmetic on a
 * term leaves the exact range, and one message cannot get a cluster near the
 * ceiling either: a member accepts a term at most MAX_TERM_JUMP above its own.
 * A cluster whose term reaches the ceiling stops electing (its nodes no longer
 * campaign) and needs an operator; getting there takes 2^52 elections, or
 * about a million forged messages in a member's name, which an authenticated
 * transport prevents.
 */
export const MAX_TERM = 2 ** 52;
/**
 * The most a message's term may exceed the receiving member's own term:
 * 2^32. Honest nodes never get that far apart (with PreVote terms advance
 * only with elections; without it, an isolated candidate adds one per
 * election timeout, decades of them). A node outside its own configuration
 * (new, or removed) takes any term up to MAX_TERM, so it can join a cluster
 * whatever its term.
 */
export const MAX_TERM_JUMP = 2 ** 32;
/** The ceiling on log indexes (and index-like fields: commit, match, offsets) from a peer: 2^52, far from 2^53 - 1. */
export const MAX_INDEX = 2 ** 52;

/** Why a message is refused: a term or an index above its ceiling. */
export interface BoundsViolation {
  code: 'TERM_TOO_LARGE' | 'INDEX_TOO_LARGE';
  message: string;
}

function term(value: number, field: string): BoundsViolation | null {
  return value > MAX_TERM ? { code: 'TERM_TOO_LARGE', message: `${field}: ${value} is above the ceiling on terms (2^52)` } : null;
}

function index(value: number, field: string): BoundsViolation | null {
  return value > MAX_INDEX ? { code: 'INDEX_TOO_LARGE', message: `${field}: ${value} is above the ceiling on log indexes (2^52)` } : null;
}

/**
 * The first term or index of `message` above its ceiling, or null when all
 * are within bounds. `ownTerm` is the receiver's term; `member` whether it is
 * a member of its own configuration (then MAX_TERM_JUMP applies). Checked on
 * every incoming message before it touches the core's state.
 */
export function checkBounds(message: Message, ownTerm: number, member: boolean): BoundsViolation | null {
  const b = message.body;
  const found = term(message.term, 'term');
  if (found) return found;
  if (member && message.term > ownTerm + MAX_TERM_JUMP) {
    return { code: 'TERM_TOO_LARGE', message: `term: ${message.term} is more than 2^32 above this node's term ${ownTerm}` };
  }
  switch (b.type) {
    case 'RequestVoteRequest':
      return index(b.lastLogIndex, 'requestVoteRequest.lastLogIndex') ?? term(b.lastLogTerm, 'requestVoteRequest.lastLogTerm');
    case 'AppendEntriesRequest': {
      const head =
        index(b.prevLogIndex, 'appendEntriesRequest.prevLogIndex') ??
        term(b.prevLogTerm, 'appendEntriesRequest.prevLogTerm') ??
        index(b.leaderCommit, 'appendEntriesRequest.leaderCommit');
      if (head) return head;
      // Entries are contiguous from prevLogIndex + 1 with terms at most the message's (checked by the wire): the last one bounds them all.
      const last = b.entries[b.entries.length - 1];
      return last ? index(last.index, 'appendEntriesRequest.entries.index') : null;
    }
    case 'AppendEntriesResponse':
      return (
        index(b.matchIndex, 'appendEntriesResponse.matchIndex') ??
        index(b.conflictIndex, 'appendEntriesResponse.conflictIndex') ??
        term(b.conflictTerm, 'appendEntriesResponse.conflictTerm') ??
        index(b.lastLogIndex, 'appendEntriesResponse.lastLogIndex') ??
        index(b.rejectedIndex, 'appendEntriesResponse.rejectedIndex')
      );
    case 'InstallSnapshotRequest':
      return (
        index(b.lastIncludedIndex, 'installSnapshotRequest.lastIncludedIndex') ??
        term(b.lastIncludedTerm, 'installSnapshotRequest.lastIncludedTerm') ??
        index(b.offset, 'installSnapshotRequest.offset')
      );
    case 'InstallSnapshotResponse':
      return index(b.lastIncludedIndex, 'installSnapshotResponse.lastIncludedIndex') ?? index(b.nextOffset, 'installSnapshotResponse.nextOffset');
    case 'ProposeResponse':
      return index(b.index, 'proposeResponse.index') ?? term(b.logTerm, 'proposeResponse.logTerm');
    case 'ReadIndexResponse':
      return index(b.readIndex, 'readIndexResponse.readIndex');
    case 'MembershipChangeResponse':
      return index(b.index, 'membershipChangeResponse.index');
    default:
      return null;
  }
}
