/**
 * Membership changes and the core's timer contract: `nextDeadline()` is the
 * earliest time at which `tick` has work to do, so after a tick at `now` it
 * must lie in the future (else the API layer's timer fires again at once,
 * forever: a busy loop). Found by the simulation (seed 43, 3 nodes, churn):
 * a leader whose configuration entry was appended but could not commit kept
 * reporting the change's passed deadline.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import { flush, msg, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

function makeCore(id: string): RaftCore {
  const core = startedCore(id, ['a', 'b', 'c'], { preVote: false, checkQuorum: false });
  flush(core);
  return core;
}


/** 'a' leads term 2 of {a,b,c} with its no-op (index 2) committed by b's acknowledgement. */
function leaderWithCommittedNoop(now: number): RaftCore {
  const a = makeCore('a');
  a.tick(now);
  flush(a);
  a.step(msg('b', 'a', a.term, { type: 'RequestVoteResponse', voteGranted: true, preVote: false }), now);
  flush(a);
  expect(a.isLeader).toBe(true);
  a.step(msg('b', 'a', a.term, { type: 'AppendEntriesResponse', success: true, matchIndex: 2, conflictIndex: 0, conflictTerm: 0, readRound: 0, lastLogIndex: 2, rejectedIndex: 0 }), now);
  flush(a);
  expect(a.commitIndex).toBe(2);
  return a;
}

function expectDeadlineAhead(core: RaftCore, now: number): void {
  core.tick(now);
  flush(core);
  expect(core.nextDeadline(), `nextDeadline after tick(${now})`).toBeGreaterThan(now);
}

describe('membership change deadlines', () => {
  it('a change appended but not committed past its deadline does not keep nextDeadline in the past', () => {
    const now = 10 * TIMEOUT;
    const a = leaderWithCommittedNoop(now);
    a.changeMembership('remove', 'c', 100);
    flush(a);
    expect(a.log.lastIndex()).toBe(3); // the configuration entry, waiting for b or c
    expect(a.commitIndex).toBe(2);
    for (const t of [now + 200, now + 201, now + 260, now + 1000]) expectDeadlineAhead(a, t);
  });

  it('a queued change whose deadline passes behind the head does not keep nextDeadline in the past', () => {
    const now = 10 * TIMEOUT;
    const a = leaderWithCommittedNoop(now);
    // A forwarded change (long leader-side deadline) heads the queue; a local one with a short timeout waits behind it.
    a.step(msg('b', 'a', a.term, { type: 'MembershipChangeRequest', requestId: 1, changeType: 'addVoter', address: 'd' }), now);
    flush(a);
    a.changeMembership('remove', 'c', 100);
    flush(a);
    for (const t of [now + 200, now + 260, now + 1000]) expectDeadlineAhead(a, t);
  });
});
