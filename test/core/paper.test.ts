/**
 * The rules of the Raft paper (§5.1-§5.4), after the intent of etcd-io/raft's
 * raft_paper_test.go. Each test drives one RaftCore (or a tiny in-test
 * network) by calling step / tick / ready / advance directly; persistence is
 * instant (advance right after ready).
 */
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../src/core/raft.js';
import { flush, msg } from './helpers.js';
import type { AppendEntriesRequest, AppendEntriesResponse, LogEntry, Message, MessageBody, RequestVoteResponse } from '../../src/core/types.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';

const HEARTBEAT = 50;
const TIMEOUT = 300;

interface CoreSetup {
  peers?: string[];
  /** Terms of the log entries at 2, 3, ... (index 1 is the bootstrap configuration of term 1). */
  terms?: number[];
  term?: number;
  votedFor?: string | null;
  commit?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  random?: () => number;
}

function entriesFor(peers: string[], terms: number[]): LogEntry[] {
  const log: LogEntry[] = [{ index: 1, term: 1, type: 'configuration', configuration: { voters: [...peers], learners: [] } }];
  terms.forEach((term, i) => log.push({ index: i + 2, term, type: 'noop' }));
  return log;
}

/** A core that has started (from a stored log when `terms`/`term` are given, else bootstrapped). */
function makeCore(id: string, setup: CoreSetup = {}): RaftCore {
  const peers = setup.peers ?? ['a', 'b', 'c'];
  const core = new RaftCore({
    id,
    clientId: `${id}#test`,
    timing: { heartbeatFrequency: () => HEARTBEAT, heartbeatTimeout: () => TIMEOUT, electionTimeout: () => TIMEOUT },
    random: setup.random ?? (() => 0),
    preVote: setup.preVote ?? false,
    checkQuorum: setup.checkQuorum ?? false,
  });
  if (setup.terms === undefined && setup.term === undefined) {
    core.start({ hardState: null, snapshot: null, entries: [] }, peers, 0);
  } else {
    const terms = setup.terms ?? [];
    core.start(
      {
        hardState: { term: setup.term ?? Math.max(1, ...terms), votedFor: setup.votedFor ?? null, commitIndex: setup.commit ?? 1 },
        snapshot: null,
        entries: entriesFor(peers, terms),
      },
      peers,
      0,
    );
  }
  flush(core);
  return core;
}


function appendReq(from: string, to: string, term: number, prevLogIndex: number, prevLogTerm: number, entries: LogEntry[] = [], leaderCommit = 0): Message {
  return msg(from, to, term, { type: 'AppendEntriesRequest', prevLogIndex, prevLogTerm, entries, leaderCommit, readRound: 0 });
}

function appendResp(from: string, to: string, term: number, matchIndex: number, success = true): Message {
  return msg(from, to, term, { type: 'AppendEntriesResponse', success, matchIndex, conflictIndex: 0, conflictTerm: 0, readRound: 0, lastLogIndex: matchIndex, rejectedIndex: 0 });
}

function voteReq(from: string, to: string, term: number, lastLogIndex: number, lastLogTerm: number, preVote = false): Message {
  return msg(from, to, term, { type: 'RequestVoteRequest', lastLogIndex, lastLogTerm, preVote, leadershipTransfer: false });
}

function voteResp(from: string, to: string, term: number, voteGranted: boolean, preVote = false): Message {
  return msg(from, to, term, { type: 'RequestVoteResponse', voteGranted, preVote });
}

function ofType<T extends MessageBody['type']>(messages: Message[], type: T): (Message & { body: Extract<MessageBody, { type: T }> })[] {
  return messages.filter((m) => m.body.type === type) as (Message & { body: Extract<MessageBody, { type: T }> })[];
}

function logTerms(core: RaftCore): number[] {
  const out: number[] = [];
  for (let i = core.log.firstIndex(); i <= core.log.lastIndex(); i++) out.push(core.log.termAt(i) as number);
  return out;
}

/** Campaigns at `now` (past any election deadline) and collects the votes of `grant`; returns the messages sent. */
function elect(core: RaftCore, now = 10 * TIMEOUT, grant: string[] = ['b', 'c']): Message[] {
  core.tick(now);
  const sent = flush(core);
  for (const voter of grant) core.step(voteResp(voter, core.id, core.term, true), now);
  sent.push(...flush(core));
  return sent;
}

describe('§5.1 terms', () => {
  const roles = ['follower', 'candidate', 'precandidate', 'leader'] as const;
  const inputs: { name: string; message: (to: string) => Message; leader: string | null }[] = [
    { name: 'AppendEntries', message: (to) => appendReq('b', to, 9, 0, 0), leader: 'b' },
    { name: 'RequestVote', message: (to) => voteReq('b', to, 9, 100, 8), leader: null },
    { name: 'AppendEntries response', message: (to) => appendResp('b', to, 9, 0, false), leader: null },
  ];
  for (const role of roles) {
    for (const input of inputs) {
      it(`a ${role} adopts a higher term from ${input.name} and becomes follower (§5.1)`, () => {
        const core = makeCore('a', { preVote: role === 'precandidate' });
        if (role === 'candidate' || role === 'precandidate') {
          core.tick(10 * TIMEOUT);
          flush(core);
          expect(core.state).toBe('candidate');
        } else if (role === 'leader') {
          elect(core);
          expect(core.state).toBe('leader');
        }
        core.step(input.message('a'), 10 * TIMEOUT + 1);
        flush(core);
        expect(core.term).toBe(9);
        expect(core.state).toBe('follower');
        expect(core.leaderId).toBe(input.leader);
      });
    }
  }

  it('a node rejects requests with a stale term and tells the sender its term (§5.1)', () => {
    const core = makeCore('a', { terms: [3], term: 3 });
    core.step(appendReq('b', 'a', 2, 1, 1), 1);
    core.step(voteReq('c', 'a', 2, 10, 2), 1);
    const out = flush(core);
    expect(out.map((m) => [m.to, m.body.type, m.term, (m.body as { success?: boolean; voteGranted?: boolean }).success ?? (m.body as RequestVoteResponse).voteGranted])).toEqual([
      ['b', 'AppendEntriesResponse', 3, false],
      ['c', 'RequestVoteResponse', 3, false],
    ]);
    expect(core.term).toBe(3);
    expect(core.log.lastIndex()).toBe(2);
  });
});

describe('§5.2 leader election', () => {
  it('a node starts as a follower (§5.2)', () => {
    const core = makeCore('a');
    expect(core.state).toBe('follower');
    expect(core.leaderId).toBe(null);
    expect(core.term).toBe(1);
  });

  it('a leader sends empty AppendEntries heartbeats every heartbeatFrequency (§5.2)', () => {
    const core = makeCore('a');
    elect(core, 1000);
    expect(core.state).toBe('leader');
    core.tick(1000 + HEARTBEAT - 1);
    expect(ofType(flush(core), 'AppendEntriesRequest')).toEqual([]);
    core.tick(1000 + HEARTBEAT);
    const beats = ofType(flush(core), 'AppendEntriesRequest');
    expect(beats.map((m) => [m.to, m.term, m.body.entries.length])).toEqual([
      ['b', 2, 0],
      ['c', 2, 0],
    ]);
    core.tick(1000 + 2 * HEARTBEAT);
    expect(ofType(flush(core), 'AppendEntriesRequest').map((m) => m.to)).toEqual(['b', 'c']);
  });

  for (const start of ['follower', 'candidate'] as const) {
    it(`a ${start} starts an election after its timeout: new term, votes for itself, asks every peer (§5.2)`, () => {
      const core = makeCore('a');
      let now = 0;
      if (start === 'candidate') {
        now = 2 * TIMEOUT;
        core.tick(now);
        flush(core);
        expect(core.term).toBe(2);
      }
      const termBefore = core.term;
      core.tick(now + TIMEOUT - 1);
      expect(ofType(flush(core), 'RequestVoteRequest'), 'no campaign before the timeout').toEqual([]);
      core.tick(now + TIMEOUT);
      const requests = ofType(flush(core), 'RequestVoteRequest');
      expect(core.state).toBe('candidate');
      expect(core.term).toBe(termBefore + 1);
      expect(core.votedFor).toBe('a');
      expect(requests.map((m) => [m.to, m.term, m.body.preVote, m.body.lastLogIndex, m.body.lastLogTerm])).toEqual([
        ['b', termBefore + 1, false, 1, 1],
        ['c', termBefore + 1, false, 1, 1],
      ]);
    });
  }

  it('with PreVote, a follower first asks for pre-votes for term+1 without changing its term (§5.2, dissertation §9.6)', () => {
    const core = makeCore('a', { preVote: true });
    core.tick(TIMEOUT);
    const requests = ofType(flush(core), 'RequestVoteRequest');
    expect(core.state).toBe('candidate');
    expect(core.term).toBe(1);
    expect(core.votedFor).toBe(null);
    expect(requests.map((m) => [m.to, m.term, m.body.preVote])).toEqual([
      ['b', 2, true],
      ['c', 2, true],
    ]);
    core.step(voteResp('b', 'a', 2, true, true), TIMEOUT + 1);
    const real = ofType(flush(core), 'RequestVoteRequest');
    expect(core.term).toBe(2);
    expect(real.map((m) => [m.to, m.term, m.body.preVote])).toEqual([
      ['b', 2, false],
      ['c', 2, false],
    ]);
  });

  const outcomes: { name: string; size: number; votes: Record<string, boolean>; state: 'leader' | 'candidate' | 'follower' }[] = [
    { name: 'cluster of one', size: 1, votes: {}, state: 'leader' },
    { name: '3 nodes, 1 grant', size: 3, votes: { b: true }, state: 'leader' },
    { name: '3 nodes, 2 grants', size: 3, votes: { b: true, c: true }, state: 'leader' },
    { name: '3 nodes, no answer', size: 3, votes: {}, state: 'candidate' },
    { name: '3 nodes, 1 rejection', size: 3, votes: { b: false }, state: 'candidate' },
    { name: '3 nodes, 2 rejections', size: 3, votes: { b: false, c: false }, state: 'follower' },
    { name: '5 nodes, 2 grants', size: 5, votes: { b: true, c: true }, state: 'leader' },
    { name: '5 nodes, 1 grant (split)', size: 5, votes: { b: true }, state: 'candidate' },
    { name: '5 nodes, 1 grant 2 rejections (split)', size: 5, votes: { b: true, c: false, d: false }, state: 'candidate' },
    { name: '5 nodes, 3 rejections', size: 5, votes: { b: false, c: false, d: false }, state: 'follower' },
  ];
  for (const o of outcomes) {
    it(`a candidate wins with a majority, stays candidate on a split, loses when a majority rejects: ${o.name} -> ${o.state} (§5.2)`, () => {
      const peers = ['a', 'b', 'c', 'd', 'e'].slice(0, o.size);
      const core = makeCore('a', { peers });
      core.tick(TIMEOUT);
      flush(core);
      for (const [voter, granted] of Object.entries(o.votes)) core.step(voteResp(voter, 'a', core.term, granted), TIMEOUT + 1);
      flush(core);
      expect(core.state, o.name).toBe(o.state);
    });
  }

  const voteCases: { name: string; votedFor: string | null; candidate: string; granted: boolean }[] = [
    { name: 'not voted yet', votedFor: null, candidate: 'b', granted: true },
    { name: 'voted for the same candidate (a retry)', votedFor: 'b', candidate: 'b', granted: true },
    { name: 'voted for another candidate', votedFor: 'c', candidate: 'b', granted: false },
  ];
  for (const v of voteCases) {
    it(`a follower votes at most once per term: ${v.name} -> ${v.granted ? 'grant' : 'reject'} (§5.2)`, () => {
      const core = makeCore('a', { terms: [2], term: 2, votedFor: v.votedFor });
      core.step(voteReq(v.candidate, 'a', 2, 2, 2), 1);
      const [response] = ofType(flush(core), 'RequestVoteResponse');
      expect(response.body.voteGranted, v.name).toBe(v.granted);
      expect(core.votedFor).toBe(v.votedFor ?? v.candidate);
    });
  }

  it('a follower grants one vote per term: a second candidate of the same term is rejected (§5.2)', () => {
    const core = makeCore('a');
    core.step(voteReq('b', 'a', 2, 1, 1), 1);
    core.step(voteReq('c', 'a', 2, 1, 1), 2);
    const responses = ofType(flush(core), 'RequestVoteResponse');
    expect(responses.map((m) => [m.to, m.body.voteGranted])).toEqual([
      ['b', true],
      ['c', false],
    ]);
  });

  it('a candidate returns to follower on AppendEntries from a leader of its term (§5.2)', () => {
    const core = makeCore('a');
    core.tick(TIMEOUT);
    flush(core);
    expect(core.state).toBe('candidate');
    core.step(appendReq('b', 'a', core.term, 1, 1), TIMEOUT + 1);
    flush(core);
    expect(core.state).toBe('follower');
    expect(core.leaderId).toBe('b');
    expect(core.term).toBe(2);
  });

  it('election timeouts are randomized in [timeout, 2 * timeout) so split votes resolve (§5.2)', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const rng = new SeededRandom(seed);
      const core = makeCore('a', { random: () => rng.next() });
      let at = -1;
      for (let t = 0; t < 3 * TIMEOUT && at < 0; t++) {
        core.tick(t);
        if (core.state === 'candidate') at = t;
      }
      expect(at, `seed ${seed}`).toBeGreaterThanOrEqual(TIMEOUT);
      expect(at, `seed ${seed}`).toBeLessThan(2 * TIMEOUT);
      seen.add(at);
    }
    expect(seen.size).toBeGreaterThan(20);
  });
});

describe('§5.3 log replication', () => {
  it('a new leader appends a no-op of its term and replicates it (§5.3, §8)', () => {
    const core = makeCore('a');
    const sent = elect(core);
    expect(core.state).toBe('leader');
    const last = core.log.entryAt(core.log.lastIndex());
    expect(last).toMatchObject({ index: 2, term: 2, type: 'noop' });
    const appends = ofType(sent, 'AppendEntriesRequest');
    expect(appends.map((m) => [m.to, m.body.prevLogIndex, m.body.prevLogTerm, m.body.entries.map((e) => e.index)])).toEqual([
      ['b', 1, 1, [2]],
      ['c', 1, 1, [2]],
    ]);
  });

  for (const { size, acks } of [
    { size: 1, acks: [] as string[] },
    { size: 3, acks: ['b'] },
    { size: 5, acks: ['b', 'c'] },
  ]) {
    it(`a leader commits an entry once a majority stored it: ${size} nodes need ${acks.length} follower acks (§5.3)`, () => {
      const peers = ['a', 'b', 'c', 'd', 'e'].slice(0, size);
      const core = makeCore('a', { peers });
      elect(core, 1000, peers.filter((p) => p !== 'a'));
      expect(core.state).toBe('leader');
      for (const p of peers) if (p !== 'a') core.step(appendResp(p, 'a', core.term, 2), 1001);
      flush(core);
      expect(core.commitIndex).toBe(2);
      core.propose({ x: 1 }, 10_000);
      const sent = ofType(flush(core), 'AppendEntriesRequest');
      expect(core.log.lastIndex()).toBe(3);
      for (const p of peers) if (p !== 'a') expect(sent.some((m) => m.to === p && m.body.entries.some((e) => e.index === 3)), `sent to ${p}`).toBe(true);
      acks.slice(0, -1).forEach((p) => core.step(appendResp(p, 'a', core.term, 3), 1002));
      flush(core);
      if (acks.length > 0) expect(core.commitIndex, 'one ack short of a majority').toBe(2);
      if (acks.length > 0) core.step(appendResp(acks[acks.length - 1], 'a', core.term, 3), 1003);
      flush(core);
      expect(core.commitIndex).toBe(3);
      // Followers learn it with the next AppendEntries (here: the next heartbeat).
      core.tick(1000 + 10 * HEARTBEAT);
      const after = ofType(flush(core), 'AppendEntriesRequest');
      for (const p of acks) expect(after.find((m) => m.to === p)?.body.leaderCommit, `commit sent on to ${p}`).toBe(3);
    });
  }

  it('a leader commits only entries from its own term by counting replicas (§5.4.2)', () => {
    // Figure 8: entry 2 of term 2 is on a majority once a's term-3 leadership starts, but must not
    // be committed by counting; it commits with the leader's own no-op at 3.
    const core = makeCore('a', { terms: [2], term: 2, commit: 1 });
    elect(core);
    expect(core.state).toBe('leader');
    expect(core.term).toBe(3);
    expect(logTerms(core)).toEqual([1, 2, 3]);
    core.step(appendResp('b', 'a', 3, 2), 3001);
    flush(core);
    expect(core.commitIndex, 'entry of term 2 on a majority is not committed by counting').toBe(1);
    core.step(appendResp('b', 'a', 3, 3), 3002);
    flush(core);
    expect(core.commitIndex, 'the own-term entry commits, and everything before it').toBe(3);
  });

  const checks: { name: string; prevIndex: number; prevTerm: number; success: boolean; match?: number; conflict?: [number, number] }[] = [
    { name: 'prev below the commit index', prevIndex: 0, prevTerm: 0, success: true, match: 1 },
    { name: 'prev matches in the middle', prevIndex: 2, prevTerm: 2, success: true, match: 2 },
    { name: 'prev matches at the end', prevIndex: 3, prevTerm: 2, success: true, match: 3 },
    { name: 'prev term differs at the end', prevIndex: 3, prevTerm: 3, success: false, conflict: [3, 2] },
    { name: 'prev beyond the end', prevIndex: 5, prevTerm: 2, success: false, conflict: [3, 2] },
    { name: 'prev term older than ours', prevIndex: 3, prevTerm: 1, success: false, conflict: [1, 1] },
  ];
  for (const c of checks) {
    it(`a follower checks prevLogIndex/prevLogTerm and answers a mismatch with a conflict hint: ${c.name} (§5.3)`, () => {
      const core = makeCore('a', { terms: [2, 2], term: 2, commit: 1 });
      core.step(appendReq('b', 'a', 2, c.prevIndex, c.prevTerm), 1);
      const [response] = ofType(flush(core), 'AppendEntriesResponse');
      expect(response.body.success, c.name).toBe(c.success);
      if (c.match !== undefined) expect(response.body.matchIndex, c.name).toBe(c.match);
      if (c.conflict) expect([response.body.conflictIndex, response.body.conflictTerm], c.name).toEqual(c.conflict);
      expect(logTerms(core), 'the log is unchanged').toEqual([1, 2, 2]);
    });
  }

  const appends: { name: string; prevIndex: number; prevTerm: number; entries: [number, number][]; want: number[] }[] = [
    { name: 'append after the end', prevIndex: 3, prevTerm: 2, entries: [[4, 3]], want: [1, 2, 2, 3] },
    { name: 'conflicting suffix replaced', prevIndex: 2, prevTerm: 2, entries: [[3, 3], [4, 3]], want: [1, 2, 3, 3] },
    { name: 'matching entries kept', prevIndex: 1, prevTerm: 1, entries: [[2, 2]], want: [1, 2, 2] },
    { name: 'conflict at the first new entry', prevIndex: 1, prevTerm: 1, entries: [[2, 3]], want: [1, 3] },
    { name: 'heartbeat changes nothing', prevIndex: 3, prevTerm: 2, entries: [], want: [1, 2, 2] },
  ];
  for (const c of appends) {
    it(`a follower deletes conflicting entries and appends the leader's: ${c.name} (§5.3)`, () => {
      const core = makeCore('a', { terms: [2, 2], term: 3, commit: 1 });
      const entries = c.entries.map(([index, term]): LogEntry => ({ index, term, type: 'noop' }));
      core.step(appendReq('b', 'a', 3, c.prevIndex, c.prevTerm, entries), 1);
      const [response] = ofType(flush(core), 'AppendEntriesResponse');
      expect(response.body.success, c.name).toBe(true);
      expect(response.body.matchIndex, c.name).toBe(c.prevIndex + c.entries.length);
      expect(logTerms(core), c.name).toEqual(c.want);
    });
  }

  it('a leader backs nextIndex up past a whole conflicting term with the follower hint (§5.3)', () => {
    // Leader log terms [1, 1, 2, 2, 3, 3] (then its no-op of term 4); follower [1, 1, 2, 2, 2, 2, 2].
    const leader = makeCore('a', { terms: [1, 2, 2, 3, 3], term: 3, commit: 1 });
    const follower = makeCore('b', { terms: [1, 2, 2, 2, 2, 2], term: 3, commit: 1 });
    const sent = elect(leader, 10 * TIMEOUT, ['c']);
    expect(leader.state).toBe('leader');
    const first = ofType(sent, 'AppendEntriesRequest').find((m) => m.to === 'b') as Message;
    expect([(first.body as AppendEntriesRequest).prevLogIndex, (first.body as AppendEntriesRequest).prevLogTerm]).toEqual([6, 3]);
    follower.step(first, 1);
    const [reject] = ofType(flush(follower), 'AppendEntriesResponse');
    expect(reject.body).toMatchObject({ success: false, conflictIndex: 6, conflictTerm: 2 });
    leader.step(reject, 10 * TIMEOUT + 1);
    const [retry] = ofType(flush(leader), 'AppendEntriesRequest').filter((m) => m.to === 'b');
    expect([retry.body.prevLogIndex, retry.body.prevLogTerm], 'one round trip skips the whole term-2 tail').toEqual([4, 2]);
    follower.step(retry, 2);
    const [ok] = ofType(flush(follower), 'AppendEntriesResponse');
    expect((ok.body as AppendEntriesResponse).success).toBe(true);
    expect(logTerms(follower)).toEqual(logTerms(leader));
  });

  it('a follower learns the commit index from leaderCommit, bounded by what it holds from this leader (§5.3)', () => {
    const core = makeCore('a', { terms: [2, 2], term: 2, commit: 1 });
    core.step(appendReq('b', 'a', 2, 2, 2, [], 3), 1);
    flush(core);
    expect(core.commitIndex, 'bounded by the last index this message confirmed').toBe(2);
    core.step(appendReq('b', 'a', 2, 3, 2, [{ index: 4, term: 2, type: 'noop' }], 9), 2);
    flush(core);
    expect(core.commitIndex).toBe(4);
  });
});

describe('§5.4 safety', () => {
  // Voter log: terms [1, 2, 2] (last 3/2), at term 2.
  const cases: { name: string; lastIndex: number; lastTerm: number; granted: boolean }[] = [
    { name: 'same last term and index', lastIndex: 3, lastTerm: 2, granted: true },
    { name: 'same last term, longer', lastIndex: 4, lastTerm: 2, granted: true },
    { name: 'same last term, shorter', lastIndex: 2, lastTerm: 2, granted: false },
    { name: 'higher last term, shorter', lastIndex: 2, lastTerm: 3, granted: true },
    { name: 'lower last term, longer', lastIndex: 5, lastTerm: 1, granted: false },
    { name: 'lower last term, shorter', lastIndex: 1, lastTerm: 1, granted: false },
  ];
  for (const c of cases) {
    it(`a voter rejects a candidate whose log is less up to date than its own: ${c.name} -> ${c.granted ? 'grant' : 'reject'} (§5.4.1)`, () => {
      const core = makeCore('a', { terms: [2, 2], term: 2 });
      core.step(voteReq('b', 'a', 3, c.lastIndex, c.lastTerm), 1);
      const [response] = ofType(flush(core), 'RequestVoteResponse');
      expect(response.body.voteGranted, c.name).toBe(c.granted);
      expect(core.term).toBe(3);
      expect(core.votedFor, c.name).toBe(c.granted ? 'b' : null);
    });
  }

  it('a candidate with a stale log cannot win: the up-to-date majority elects one that holds every committed entry (§5.4.1)', () => {
    // b and c hold entry 2 of term 2 (committed); a does not.
    const a = makeCore('a', { terms: [], term: 2, commit: 1 });
    const b = makeCore('b', { terms: [2], term: 2, commit: 2 });
    const c = makeCore('c', { terms: [2], term: 2, commit: 2 });
    a.tick(10 * TIMEOUT);
    const requests = ofType(flush(a), 'RequestVoteRequest');
    const responses: Message[] = [];
    for (const m of requests) {
      const voter = m.to === 'b' ? b : c;
      voter.step(m, 1);
      responses.push(...ofType(flush(voter), 'RequestVoteResponse'));
    }
    expect(responses.map((m) => (m.body as RequestVoteResponse).voteGranted)).toEqual([false, false]);
    for (const r of responses) a.step(r, 10 * TIMEOUT + 1);
    flush(a);
    expect(a.state).not.toBe('leader');
  });
});
