/**
 * A follower whose log ends below the leader's snapshot gets InstallSnapshot.
 * Found by the simulation (seed 88, 3 nodes, churn): the leader's log started
 * at 10 (snapshot at 9), the follower's ended at 4 (term 2); its rejection
 * hinted 4/2, the leader's backtracking search returned its snapshot index 9,
 * so it probed prevLogIndex 9 again, forever, and never sent the snapshot.
 */
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../src/core/raft.js';
import { flush, msg } from './helpers.js';
import type { LogEntry, Message } from '../../src/core/types.js';

const timing = { heartbeatFrequency: () => 50, heartbeatTimeout: () => 300, electionTimeout: () => 300 };



/** Node a with entries 1..13 (terms 1, 2, 3), a snapshot at 9 (term 3), leader of term 4 with b's vote. */
function leaderOverSnapshotAt9(): RaftCore {
  const a = new RaftCore({ id: 'a', clientId: 'a#1', timing, random: () => 0, preVote: false, checkQuorum: false });
  const peers = ['a', 'b', 'c'];
  const entries: LogEntry[] = [{ index: 1, term: 1, type: 'configuration', configuration: { voters: peers, learners: [] } }];
  for (let i = 2; i <= 13; i++) entries.push({ index: i, term: i <= 4 ? 2 : 3, type: 'noop' });
  a.start({ hardState: { term: 3, votedFor: null, commitIndex: 10 }, snapshot: null, entries }, peers, 0);
  flush(a);
  a.appliedTo(10);
  a.compact({ index: 9, term: 3, configuration: { voters: peers, learners: [] }, data: null, sessions: [] });
  flush(a);
  expect(a.log.firstIndex()).toBe(10);
  a.tick(10_000);
  flush(a);
  a.step(msg('b', 'a', 4, { type: 'RequestVoteResponse', voteGranted: true, preVote: false }), 10_000);
  flush(a);
  expect(a.isLeader).toBe(true);
  return a;
}

describe('probing below the snapshot', () => {
  it('falls back to InstallSnapshot when the follower hints an index below the leader snapshot', () => {
    const a = leaderOverSnapshotAt9();
    // c's log ends at 4 (term 2): it rejects with the hint 4/2.
    let sentToC: Message[] = [];
    for (let round = 0; round < 5; round++) {
      a.step(msg('c', 'a', a.term, { type: 'AppendEntriesResponse', success: false, matchIndex: 0, conflictIndex: 4, conflictTerm: 2, readRound: 0, lastLogIndex: 4, rejectedIndex: 0 }), 10_000 + round);
      sentToC = flush(a).filter((m) => m.to === 'c');
      if (sentToC.some((m) => m.body.type === 'InstallSnapshotRequest')) break;
    }
    expect(sentToC.map((m) => m.body.type)).toContain('InstallSnapshotRequest');
  });

  it('falls back to InstallSnapshot when the follower diverges exactly at the leader snapshot index (sim seed 4903)', () => {
    // The leader's snapshot covers index 9 (term 3); the follower holds index 9 with term 2: probing
    // prevLogIndex 9 again would be rejected forever. Only the snapshot repairs it.
    const a = leaderOverSnapshotAt9();
    let sentToC: Message[] = [];
    for (let round = 0; round < 5; round++) {
      a.step(msg('c', 'a', a.term, { type: 'AppendEntriesResponse', success: false, matchIndex: 0, conflictIndex: 9, conflictTerm: 2, readRound: 0, lastLogIndex: 12, rejectedIndex: 0 }), 10_000 + round);
      sentToC = flush(a).filter((m) => m.to === 'c');
      if (sentToC.some((m) => m.body.type === 'InstallSnapshotRequest')) break;
    }
    expect(sentToC.map((m) => m.body.type)).toContain('InstallSnapshotRequest');
  });
});
