/** One-line descriptions of messages for the simulation's traces. */
import type { Message } from '../../src/core/types.js';
import { fromPayload } from '../../src/wire/index.js';

/** A payload as it travels from `from`, decoded (traces only: this is slow). */
export function describeMessage(from: string, payload: object): string {
  const result = fromPayload(payload, { from });
  return result.ok ? describe(result.message) : `${from}-> (undecodable: ${result.error.message})`;
}

export function describe(m: Message): string {
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
      return `${head} ${b.success ? 'ok' : `reject ${b.rejectedIndex}`} match ${b.matchIndex} conflict ${b.conflictIndex}/${b.conflictTerm} last ${b.lastLogIndex}`;
    case 'InstallSnapshotRequest':
      return `${head} ${b.lastIncludedIndex}/${b.lastIncludedTerm} offset ${b.offset} len ${b.data.length}${b.done ? ' done' : ''}`;
    case 'InstallSnapshotResponse':
      return `${head} ${b.lastIncludedIndex} next ${b.nextOffset}${b.done ? ' done' : ''}`;
    case 'ProposeRequest':
      return `${head} ${b.clientId}/${b.sequence} fos ${b.firstOutstandingSequence} ${JSON.stringify(b.command)}`;
    case 'ProposeResponse':
      return `${head} ${b.clientId}/${b.sequence} at ${b.index}/${b.logTerm}${b.errorCode ? ` ${b.errorCode}` : ''}`;
    case 'MembershipChangeRequest':
      return `${head} #${b.requestId} ${b.changeType} ${b.address}`;
    case 'MembershipChangeResponse':
      return `${head} #${b.requestId} ${b.errorCode || 'ok'} at ${b.index}`;
    default:
      return head;
  }
}
