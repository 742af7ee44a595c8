/**
 * Exactly-once proposals (dissertation §6.3): a follower forwards a proposal
 * and waits for the leader's ProposeResponse naming the slot. A late answer,
 * e.g. from an earlier leader, may name a slot this node has already handed
 * out for application with another entry in it. The proposal must then be
 * retried (deduplicated by its session) instead of waiting for a slot that
 * can no longer be its own until it times out.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { Message } from '../../src/core/types.js';
import { deliverUntilQuiet, msg, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

/** Delivers messages between cores until quiet; returns the ProposeRequests sent (not delivered when `hold` is set). */
function run(cores: Map<string, RaftCore>, now: number, hold = false): Message[] {
  const sent = deliverUntilQuiet(cores, now, (m) => !(hold && m.body.type === 'ProposeRequest'));
  return sent.filter((m) => m.body.type === 'ProposeRequest');
}

describe('a late ProposeResponse naming a slot already handed out (§6.3)', () => {
  it('is not taken as the proposal\'s slot: the proposal is forwarded again and commits once', () => {
    const cores = new Map(['a', 'b', 'c'].map((id) => [id, startedCore(id, ['a', 'b', 'c'])]));
    const a = cores.get('a') as RaftCore;
    const b = cores.get('b') as RaftCore;
    let now = 2 * TIMEOUT;
    a.tick(now);
    run(cores, now);
    expect(a.isLeader).toBe(true);

    // b forwards a proposal; the leader does not get it yet.
    const sequence = b.propose({ from: 'b' }, 10_000);
    expect(run(cores, now, true).map((m) => m.body.type)).toEqual(['ProposeRequest']);
    // The leader commits entries of its own; b hands them out.
    a.propose({ from: 'a', n: 1 }, 10_000);
    a.propose({ from: 'a', n: 2 }, 10_000);
    run(cores, now, true);
    const handedOut = b.commitIndex;
    expect(handedOut).toBeGreaterThanOrEqual(3);

    // A stale answer claims b's proposal sits at an index b has already handed out (it holds a's entry).
    b.step(msg('a', 'b', a.term, { type: 'ProposeResponse', clientId: 'b#test', sequence, index: handedOut, logTerm: a.term, errorCode: '', leaderHint: 'a' }), now);
    // After the retry interval b forwards the proposal again, and this time the leader gets it.
    now += TIMEOUT;
    for (const core of cores.values()) core.tick(now);
    const forwarded = run(cores, now);
    expect(forwarded.filter((m) => m.from === 'b' && m.body.type === 'ProposeRequest')).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      now += 50;
      for (const core of cores.values()) core.tick(now);
      run(cores, now);
    }
    // Committed exactly once, after the slot the stale answer named.
    const entries = b.log.slice(1, b.commitIndex).filter((e) => e.clientId === 'b#test' && e.sequence === sequence);
    expect(entries).toHaveLength(1);
    expect(entries[0].index).toBeGreaterThan(handedOut);
  });
});
