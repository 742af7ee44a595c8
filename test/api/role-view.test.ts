/**
 * `state`, `isLeader`, `leaderID`, `currentTerm` and `status()` are one view,
 * consistent at every instant, also in the turn of a `gotData()` call: a node
 * reports 'leader' only in a term it leads (§5.1, §5.2).
 */
import { describe, expect, it } from 'vitest';
import { checkStatus, cluster, waitLeader } from './helpers.js';

function appendEntriesFrom(from: string, to: string, term: number): object {
  return { from, to, term: String(term), appendEntriesRequest: {} };
}

describe('one view of role, term and leader', () => {
  it('a leader that gets AppendEntries of a higher term from a member is a follower of that term as soon as gotData returns', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const term = leader.currentTerm;
    const other = c.nodes.find((n) => n !== leader)!;
    // A valid heartbeat of term T+1 from a member: another node leads T+1.
    leader.gotData(other.address, appendEntriesFrom(other.address, leader.address, term + 1));
    const view = { state: leader.state, isLeader: leader.isLeader, leaderID: leader.leaderID, currentTerm: leader.currentTerm };
    expect(view).toEqual({ state: 'follower', isLeader: false, leaderID: other.address, currentTerm: term + 1 });
    expect(checkStatus(leader)).toEqual([]);
    expect(leader.status()).toMatchObject({ state: 'follower', term: term + 1, leader: other.address });
    c.end();
  });

  it('role events fire in the same turn, and their listeners see the view the event announces', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const term = leader.currentTerm;
    const other = c.nodes.find((n) => n !== leader)!;
    const seen: { event: string; state: string; term: number; leader: string | null; problems: string[] }[] = [];
    leader.listen('follower', () => {
      seen.push({ event: 'follower', state: leader.state, term: leader.currentTerm, leader: leader.leaderID, problems: checkStatus(leader) });
    });
    leader.gotData(other.address, appendEntriesFrom(other.address, leader.address, term + 1));
    expect(seen).toEqual([{ event: 'follower', state: 'follower', term: term + 1, leader: other.address, problems: [] }]);
    c.end();
  });
});
