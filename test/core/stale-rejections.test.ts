/**
 * A rejection names the index it rejects (AppendEntriesResponse.rejectedIndex,
 * etcd's Reject + Index), so a delayed or duplicated rejection of an index the
 * leader has moved past changes nothing (§5.3): it neither sends a replicating
 * follower back to probing nor starts a snapshot nobody needs.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { Message } from '../../src/core/types.js';
import { deliverUntilQuiet, drain, msg, startedCore } from './helpers.js';

/** a leads term 2 with b and c replicating; `n` proposals committed. */
function replicatingCluster(proposals: number, options: Parameters<typeof startedCore>[2] = {}): { cores: Map<string, RaftCore>; a: RaftCore } {
  const peers = ['a', 'b', 'c'];
  const cores = new Map<string, RaftCore>(peers.map((id) => [id, startedCore(id, peers, options)]));
  const a = cores.get('a')!;
  a.tick(600);
  deliverUntilQuiet(cores, 600);
  for (let i = 0; i < proposals; i++) {
    a.propose(`p${i}`, 1000);
    deliverUntilQuiet(cores, 600);
  }
  return { cores, a };
}

function rejection(from: string, term: number, rejectedIndex: number, conflictIndex: number, conflictTerm: number): Message {
  return msg(from, 'a', term, {
    type: 'AppendEntriesResponse',
    success: false,
    matchIndex: 0,
    conflictIndex,
    conflictTerm,
    readRound: 0,
    lastLogIndex: conflictIndex,
    rejectedIndex,
  });
}

describe('stale AppendEntries rejections (§5.3, etcd MaybeDecrTo)', () => {
  it('a replicating follower stays replicating when a rejection of an index at or below its match arrives late', () => {
    const { a } = replicatingCluster(3);
    expect(a.commitIndex).toBe(5);
    const before = a.counters.probeResets;
    // An answer to a probe at index 1 sent long ago, before b had caught up.
    a.step(rejection('b', a.term, 1, 1, 1), 700);
    const sent = drain(a).messages.filter((m) => m.to === 'b' && m.body.type === 'AppendEntriesRequest');
    expect(a.counters.probeResets).toBe(before);
    // No probe from the start of the log: nothing is sent at all.
    expect(sent).toEqual([]);
  });

  it('a current rejection (of an index above the match) still backs off', () => {
    const { a } = replicatingCluster(3);
    const before = a.counters.probeResets;
    a.step(rejection('b', a.term, 6, 5, 2), 700);
    expect(a.counters.probeResets).toBe(before + 1);
  });

  it('a probing leader ignores a rejection of an index other than its probe', () => {
    const { a } = replicatingCluster(3);
    // b rejects the current send point: a probes at 5 (nextIndex 6).
    a.step(rejection('b', a.term, 6, 5, 2), 700);
    const probes = drain(a).messages.filter((m) => m.to === 'b' && m.body.type === 'AppendEntriesRequest');
    expect(probes.map((m) => (m.body as { prevLogIndex: number }).prevLogIndex)).toEqual([5]);
    // A duplicate of an older rejection (of index 3) arrives: the probe at 5 stands, no new probe goes out.
    a.step(rejection('b', a.term, 3, 2, 2), 710);
    expect(drain(a).messages.filter((m) => m.to === 'b' && m.body.type === 'AppendEntriesRequest')).toEqual([]);
  });

  it('a late rejection below the compacted log does not start a snapshot transfer', () => {
    const { a } = replicatingCluster(6);
    expect(a.commitIndex).toBe(8);
    a.compact({ index: 8, term: 2, configuration: { voters: ['a', 'b', 'c'], learners: [] }, data: null, sessions: [] });
    drain(a);
    const before = a.counters.snapshotsSent;
    // A rejection of index 1 (from before b caught up) names a conflict below a's first index.
    a.step(rejection('b', a.term, 1, 1, 1), 700);
    drain(a);
    expect(a.counters.snapshotsSent).toBe(before);
  });

  it('a rejection without rejectedIndex (an older sender) is acted on as before', () => {
    const { a } = replicatingCluster(3);
    const before = a.counters.probeResets;
    a.step(rejection('b', a.term, 0, 1, 1), 700);
    expect(a.counters.probeResets).toBe(before + 1);
  });
});
