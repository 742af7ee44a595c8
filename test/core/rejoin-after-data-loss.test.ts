/**
 * A server that lost its storage and rejoins under the same address (removed,
 * wiped, added again with `peers: []`) catches up from the log's start or an
 * old snapshot, whose configurations may still list it as a voter. Raft
 * assumes servers never lose what they persisted; without a guard two such
 * servers could elect each other in a configuration the cluster left long ago
 * and overwrite committed entries (found by long simulation runs with churn:
 * `npm run sim -- --seed 1255 --steps 4000`, and seeds 276, 1094, 1369).
 *
 * The guard: a node keeps the highest commit index it has learned (a leader's
 * leaderCommit, an installed snapshot), persists it, and while its log ends
 * before it, it neither campaigns nor votes for a candidate whose log ends
 * before it. A legitimate leader holds every committed entry (§5.4.1), so no
 * legitimate election is refused.
 */
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../src/core/raft.js';
import type { HardState, LogEntry, Message } from '../../src/core/types.js';
import { deliverUntilQuiet, drain, msg, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

/** The first entries of the cluster's log: the bootstrap configuration [a, b, c] and two commands of term 2. */
const PREFIX: LogEntry[] = [
  { index: 1, term: 1, type: 'configuration', configuration: { voters: ['a', 'b', 'c'], learners: [] } },
  { index: 2, term: 2, type: 'command', command: 'two' },
  { index: 3, term: 2, type: 'command', command: 'three' },
];
/** The cluster's commit index when the rejoining node first hears from the leader. */
const CLUSTER_COMMIT = 17;

/** A node with fresh storage (`peers: []`) that received the log prefix from leader b of term 4. */
function rejoiningNode(id: string): { core: RaftCore; hardState: HardState | undefined } {
  const core = startedCore(id, []);
  core.step(msg('b', id, 4, { type: 'AppendEntriesRequest', prevLogIndex: 0, prevLogTerm: 0, entries: PREFIX, leaderCommit: CLUSTER_COMMIT, readRound: 0 }), 10);
  const { hardState } = drain(core);
  return { core, hardState };
}

const campaigns = (messages: Message[]) => messages.filter((m) => m.body.type === 'RequestVoteRequest');

describe('a node rejoining after losing its storage', () => {
  it('does not campaign on an old configuration while its log ends before the known commit index', () => {
    const { core } = rejoiningNode('c');
    // Its latest configuration is the old [a, b, c]: it would be a voter.
    expect(core.configuration.voters).toContain('c');
    expect(core.log.lastIndex()).toBe(3);
    expect(core.promotable).toBe(false);
    let sent: Message[] = [];
    for (let now = 10; now < 20 * TIMEOUT; now += TIMEOUT / 2) {
      core.tick(now);
      sent = sent.concat(drain(core).messages);
    }
    expect(campaigns(sent)).toEqual([]);
    expect(core.state).toBe('follower');
  });

  it('persists the known commit index, so a restart does not forget it', () => {
    const { core, hardState } = rejoiningNode('c');
    expect(hardState?.knownCommitIndex).toBe(CLUSTER_COMMIT);
    const restarted = new RaftCore({
      id: 'c',
      clientId: 'c#restarted',
      timing: { heartbeatFrequency: () => 50, heartbeatTimeout: () => TIMEOUT, electionTimeout: () => TIMEOUT },
      random: () => 0,
    });
    restarted.start({ hardState: hardState ?? null, snapshot: null, entries: core.log.slice(1, core.log.lastIndex()) }, [], 0);
    expect(restarted.configuration.voters).toContain('c');
    let sent: Message[] = [];
    for (let now = 0; now < 20 * TIMEOUT; now += TIMEOUT / 2) {
      restarted.tick(now);
      sent = sent.concat(drain(restarted).messages);
    }
    expect(campaigns(sent)).toEqual([]);
  });

  it('refuses its vote to a candidate whose log ends before the known commit index', () => {
    // a, also rejoining, asks c for its vote with the same short log (pre-vote and vote),
    // long after c last heard from the leader (so no leader lease keeps c from answering).
    const { core } = rejoiningNode('c');
    const later = 10 + 4 * TIMEOUT;
    for (const preVote of [true, false]) {
      core.step(msg('a', 'c', 5, { type: 'RequestVoteRequest', lastLogIndex: 3, lastLogTerm: 2, preVote, leadershipTransfer: false }), later);
      const answers = drain(core).messages.filter((m) => m.body.type === 'RequestVoteResponse');
      expect(answers.map((m) => m.body), `preVote ${preVote}`).toEqual([{ type: 'RequestVoteResponse', voteGranted: false, preVote }]);
    }
  });

  it('learns the known commit index from a heartbeat too: the leader sends its full commit index to lagging followers', () => {
    const cores = new Map(['a', 'b', 'c'].map((id) => [id, startedCore(id, ['a', 'b', 'c'])]));
    const a = cores.get('a') as RaftCore;
    a.tick(2 * TIMEOUT);
    deliverUntilQuiet(cores, 2 * TIMEOUT);
    // Entries commit with b while everything to c is lost.
    for (let i = 0; i < 3; i++) a.propose(i, 10_000);
    deliverUntilQuiet(cores, 2 * TIMEOUT, (m) => m.to !== 'c');
    expect(a.commitIndex).toBeGreaterThan(cores.get('c')?.log.lastIndex() as number);
    a.tick(2 * TIMEOUT + 60);
    const heartbeat = drain(a).messages.find((m) => m.to === 'c' && m.body.type === 'AppendEntriesRequest');
    expect(heartbeat?.body).toMatchObject({ leaderCommit: a.commitIndex });
    // A fresh node that hears that heartbeat (its log does not match), then gets only the first
    // entry (the bootstrap configuration, listing it as a voter) with a lower leaderCommit,
    // still knows how far the committed log reaches and does not campaign.
    const fresh = startedCore('c', []);
    fresh.step(heartbeat as Message, 2 * TIMEOUT + 60);
    fresh.step(msg('a', 'c', a.term, { type: 'AppendEntriesRequest', prevLogIndex: 0, prevLogTerm: 0, entries: [PREFIX[0]], leaderCommit: 1, readRound: 0 }), 2 * TIMEOUT + 70);
    drain(fresh);
    expect(fresh.configuration.voters).toContain('c');
    expect(fresh.promotable).toBe(false);
  });

  it('campaigns and votes normally once its log reaches the known commit index', () => {
    const { core } = rejoiningNode('c');
    const rest: LogEntry[] = Array.from({ length: CLUSTER_COMMIT - 3 }, (_, i) => ({ index: 4 + i, term: 4, type: 'command', command: i }));
    core.step(msg('b', 'c', 4, { type: 'AppendEntriesRequest', prevLogIndex: 3, prevLogTerm: 2, entries: rest, leaderCommit: CLUSTER_COMMIT, readRound: 0 }), 20);
    drain(core);
    expect(core.promotable).toBe(true);
    const { hardState } = drain(core);
    expect(hardState).toBeUndefined();
    let sent: Message[] = [];
    for (let now = 20; now < 4 * TIMEOUT && campaigns(sent).length === 0; now += TIMEOUT / 2) {
      core.tick(now);
      sent = sent.concat(drain(core).messages);
    }
    expect(campaigns(sent).length).toBeGreaterThan(0);
  });
});
