/**
 * A transfer vote skips the voter's lease (§3.10), but only for a candidate
 * that is a voter of the voter's configuration: a TimeoutNow can reach a
 * server after it was removed (sent before, delayed), and the removed server
 * must not depose the leader (§4.2.3). Found by the simulation: a TimeoutNow
 * held back past the removal of its target made the removed node campaign
 * with the transfer flag, and the leader stepped down for it.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import { deliverUntilQuiet, drain, msg, startedCore } from './helpers.js';

describe('a removed server cannot depose the leader with a transfer vote (§3.10, §4.2.3)', () => {
  it('the leader and the other voters ignore its transfer-flagged RequestVote while they hear from the leader', () => {
    const peers = ['a', 'b', 'c'];
    const cores = new Map<string, RaftCore>(peers.map((id) => [id, startedCore(id, peers)]));
    const a = cores.get('a')!;
    const c = cores.get('c')!;
    a.tick(600);
    deliverUntilQuiet(cores, 600);
    expect(a.isLeader).toBe(true);
    // a removes b; b never hears of it.
    a.changeMembership('remove', 'b', 5000);
    deliverUntilQuiet(cores, 610, (m) => m.to !== 'b');
    expect(a.configuration.voters).toEqual(['a', 'c']);
    expect(a.commitIndex).toBe(a.log.lastIndex());
    const term = a.term;
    // b's campaign after a late TimeoutNow: a transfer vote request of the next term.
    const request = (to: string) => msg('b', to, term + 1, { type: 'RequestVoteRequest', lastLogIndex: 100, lastLogTerm: term, preVote: false, leadershipTransfer: true });
    a.step(request('a'), 620);
    c.step(request('c'), 620);
    expect({ leader: a.isLeader, term: a.term }).toEqual({ leader: true, term });
    expect(c.term).toBe(term);
    expect(drain(a).messages.filter((m) => m.to === 'b' && m.body.type === 'RequestVoteResponse')).toEqual([]);
  });

  it('a voter of the configuration still gets the transfer vote at once (the rule is no broader than needed)', () => {
    const peers = ['a', 'b', 'c'];
    const cores = new Map<string, RaftCore>(peers.map((id) => [id, startedCore(id, peers)]));
    const a = cores.get('a')!;
    const c = cores.get('c')!;
    a.tick(600);
    deliverUntilQuiet(cores, 600);
    const term = a.term;
    c.step(msg('b', 'c', term + 1, { type: 'RequestVoteRequest', lastLogIndex: 100, lastLogTerm: term, preVote: false, leadershipTransfer: true }), 620);
    expect(c.term).toBe(term + 1);
    expect(drain(c).messages.find((m) => m.to === 'b' && m.body.type === 'RequestVoteResponse')?.body).toMatchObject({ voteGranted: true });
  });
});
