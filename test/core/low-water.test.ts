/**
 * Client sessions (dissertation §6.3): a client tells the cluster which of its
 * sequence numbers are settled (`firstOutstandingSequence`) so sessions can
 * forget them. The core announces that low-water mark in steps rather than on
 * every entry, and at once after a proposal was abandoned (timed out). Only
 * forwarded proposals carry the session (a leader's own go without it, see
 * own-proposals.test.ts), so these proposals are made on a follower.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { LogEntry } from '../../src/core/types.js';
import { deliverUntilQuiet, startedCore, TEST_TIMEOUT as TIMEOUT, type Drained } from './helpers.js';

/** Two voters, `a` leading; `b` is the client whose session is checked. */
function cluster(): { cores: Map<string, RaftCore>; b: RaftCore } {
  const cores = new Map(['a', 'b'].map((id) => [id, startedCore(id, ['a', 'b'])]));
  const a = cores.get('a') as RaftCore;
  a.tick(2 * TIMEOUT);
  deliverUntilQuiet(cores, 2 * TIMEOUT);
  expect(a.isLeader).toBe(true);
  return { cores, b: cores.get('b') as RaftCore };
}

/** Runs the cluster at `now` until quiet (dropping ProposeRequests when `dropProposals`); returns what b handed out. */
function run(cores: Map<string, RaftCore>, now: number, dropProposals = false): Drained[] {
  const seenByB: Drained[] = [];
  for (const core of cores.values()) core.tick(now);
  deliverUntilQuiet(
    cores,
    now,
    (m) => !(dropProposals && m.body.type === 'ProposeRequest'),
    (id, drained) => {
      if (id === 'b') seenByB.push(drained);
    },
  );
  return seenByB;
}

/** b proposes one command; it is forwarded, committed and applied. Returns its entry. */
function proposeAndApply(cores: Map<string, RaftCore>, b: RaftCore, now: number): LogEntry {
  b.propose({ n: 1 }, 1000);
  const entry = run(cores, now)
    .flatMap((d) => d.committed)
    .filter((e) => e.type === 'command')
    .at(-1);
  if (!entry) throw new Error('the proposal did not commit');
  return entry;
}

describe('firstOutstandingSequence announcements (§6.3)', () => {
  it('entries announce settled sequences in steps of 16, never moving backwards', () => {
    const { cores, b } = cluster();
    const announced: number[] = [];
    for (let i = 0; i < 50; i++) {
      const entry = proposeAndApply(cores, b, 2 * TIMEOUT + i);
      expect(entry.clientId).toBe('b#test');
      expect(entry.sequence).toBe(i + 1);
      if (entry.firstOutstandingSequence) announced.push(entry.firstOutstandingSequence);
    }
    // Proposals settle one by one, so proposal n sees 1..n-1 settled: its low-water mark is n.
    expect(announced).toEqual([16, 32, 48]);
  });

  it('a proposal abandoned at its deadline is announced on the next entry', () => {
    const { cores, b } = cluster();
    let now = 2 * TIMEOUT;
    proposeAndApply(cores, b, now);
    // The next proposal never reaches the leader: it is abandoned at its deadline.
    const sequence = b.propose({ stuck: true }, 100);
    const failed: number[] = [];
    for (let step = 0; step < 20; step++) {
      now += 25;
      for (const drained of run(cores, now, true)) failed.push(...drained.proposalFailures.map((f) => f.sequence));
    }
    expect(failed).toEqual([sequence]);
    const next = proposeAndApply(cores, b, now + 1);
    expect(next.sequence).toBe(sequence + 1);
    expect(next.firstOutstandingSequence).toBe(next.sequence);
  });
});
