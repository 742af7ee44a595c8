/**
 * A membership request is carried out at most once (like proposals, §6.3).
 * A node that asked for a change retries until it hears the answer; when the
 * answer was lost, the retry reaches a leader after the change was made, and
 * perhaps after someone else's opposite change. Carrying it out again would
 * silently undo that change (d joins, c removes d, b's retried join re-adds
 * d). The entry that completes a change names the request, snapshots remember
 * the latest ones, and a leader answers a retry of a completed request from them.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { RequestResult } from '../../src/core/ready.js';
import type { Message } from '../../src/core/types.js';
import { deliverUntilQuiet, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

/** Membership results each node reported, by node. */
type Results = Map<string, RequestResult[]>;

/** Ticks every core at `now`, then runs the cluster until quiet, dropping what `drop` selects; membership results go to `results`. */
function settle(cores: Map<string, RaftCore>, now: number, results: Results, drop: (m: Message) => boolean = () => false): void {
  for (const core of cores.values()) core.tick(now);
  deliverUntilQuiet(cores, now, (m) => !drop(m), (id, drained) => {
    if (drained.membershipResults.length > 0) results.set(id, [...(results.get(id) ?? []), ...drained.membershipResults]);
  });
}

function cluster(): { cores: Map<string, RaftCore>; a: RaftCore; b: RaftCore; c: RaftCore } {
  // c's timeouts are longer than b's, so b wins the election when a is cut off.
  const cores = new Map(['a', 'b', 'c'].map((id) => [id, startedCore(id, ['a', 'b', 'c'], id === 'c' ? { random: () => 0.9 } : {})]));
  cores.set('d', startedCore('d', []));
  const a = cores.get('a') as RaftCore;
  a.tick(2 * TIMEOUT);
  deliverUntilQuiet(cores, 2 * TIMEOUT);
  expect(a.isLeader).toBe(true);
  return { cores, a, b: cores.get('b') as RaftCore, c: cores.get('c') as RaftCore };
}

/**
 * A three-node cluster led by a (spare d): b asks to add d and the change is
 * made, but the answer to b is lost; then c removes d, which completes.
 */
function joinWithLostAnswerThenRemove(): { cores: Map<string, RaftCore>; a: RaftCore; b: RaftCore; c: RaftCore; results: Results; now: number } {
  const { cores, a, b, c } = cluster();
  const results: Results = new Map();
  let now = 2 * TIMEOUT;
  const lostAnswer = (m: Message) => m.body.type === 'MembershipChangeResponse' && m.to === 'b';
  b.changeMembership('addVoter', 'd', 60_000);
  for (let i = 0; i < 10 && !a.configuration.voters.includes('d'); i++) settle(cores, (now += 20), results, lostAnswer);
  expect(a.configuration.voters).toContain('d');
  expect(results.get('b')).toBeUndefined();
  c.changeMembership('remove', 'd', 60_000);
  settle(cores, (now += 20), results);
  return { cores, a, b, c, results, now };
}

/** Gives b time to retry (its retry interval is the heartbeat timeout) until it has an answer; returns the time reached. */
function letBRetry(cores: Map<string, RaftCore>, now: number, results: Results, drop?: (m: Message) => boolean): number {
  for (let i = 0; i < 5 && results.get('b') === undefined; i++) settle(cores, (now += TIMEOUT), results, drop);
  return now;
}

describe('a retried membership request', () => {
  it('whose answer was lost is answered, not carried out again after an opposite change', () => {
    const { cores, a, results, now } = joinWithLostAnswerThenRemove();
    expect(results.get('c')?.map((r) => r.code)).toEqual([undefined]);
    expect(a.configuration.voters).not.toContain('d');
    // b retries after its retry interval: the leader answers from the entry that completed the join.
    letBRetry(cores, now, results);
    expect(results.get('b')?.map((r) => r.code)).toEqual([undefined]);
    expect(a.configuration.voters).not.toContain('d');
    expect(a.configuration.learners).not.toContain('d');
  });

  it('is recognised after the entry that completed it was compacted into a snapshot', () => {
    const { cores, b, c, results, now: removedAt } = joinWithLostAnswerThenRemove();
    let now = removedAt;
    // The leader is cut off and another is elected (so no leader remembers answering b),
    // and every node compacts its log up to what it applied, the join's entry included.
    const isolateA = (m: Message) => m.from === 'a' || m.to === 'a';
    let leader: RaftCore | undefined;
    for (let i = 0; i < 10 && !leader; i++) {
      settle(cores, (now += TIMEOUT), results, isolateA);
      leader = [b, c].find((core) => core.isLeader);
    }
    if (!leader) throw new Error('no new leader');
    for (const core of cores.values()) {
      const index = core.commitIndex;
      if (index > core.log.snapshotIndex && index <= core.log.stableIndex) {
        core.compact({ index, term: core.log.termAt(index) as number, configuration: core.configurationAt(index), data: null, sessions: [] });
      }
    }
    settle(cores, (now += 1), results, isolateA);
    expect(leader.latestSnapshot?.membershipChanges?.some((r) => r.origin === 'b')).toBe(true);
    letBRetry(cores, now, results, isolateA);
    expect(results.get('b')?.map((r) => r.code)).toEqual([undefined]);
    expect(leader.configuration.voters).not.toContain('d');
    expect(leader.configuration.learners).not.toContain('d');
  });
});
