/**
 * Client sessions (dissertation §6.3): a client tells the cluster which of its
 * sequence numbers are settled (`firstOutstandingSequence`) so sessions can
 * forget them. The core announces that low-water mark in steps rather than on
 * every entry, and at once after a proposal was abandoned (timed out).
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { LogEntry } from '../../src/core/types.js';
import { drain, flush, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

/** A single-voter core that has elected itself. */
function leader(): RaftCore {
  const core = startedCore('a', ['a']);
  core.tick(10 * TIMEOUT);
  flush(core);
  expect(core.state).toBe('leader');
  return core;
}

/** Proposes, commits and applies one command; returns its entry. */
function proposeAndApply(core: RaftCore, now: number): LogEntry {
  core.propose({ n: 1 }, 1000);
  const entry = drain(core).committed.filter((e) => e.type === 'command').at(-1);
  core.tick(now);
  if (!entry) throw new Error('the proposal did not commit');
  return entry;
}

describe('firstOutstandingSequence announcements (§6.3)', () => {
  it('entries announce settled sequences in steps of 16, never moving backwards', () => {
    const core = leader();
    const announced: number[] = [];
    for (let i = 0; i < 50; i++) {
      const entry = proposeAndApply(core, 10 * TIMEOUT + i);
      expect(entry.sequence).toBe(i + 1);
      if (entry.firstOutstandingSequence) announced.push(entry.firstOutstandingSequence);
    }
    // Proposals settle one by one, so proposal n sees 1..n-1 settled: its low-water mark is n.
    expect(announced).toEqual([16, 32, 48]);
  });

  it('a proposal abandoned at its deadline is announced on the next entry', () => {
    const core = leader();
    proposeAndApply(core, 10 * TIMEOUT);
    // Let the next proposal's deadline pass before the core hands it out: it is abandoned.
    const sequence = core.propose({ stuck: true }, 1);
    core.tick(10 * TIMEOUT + 5000);
    const failures = core.ready().proposalFailures;
    expect(failures.map((f) => f.sequence)).toEqual([sequence]);
    flush(core);
    const next = proposeAndApply(core, 10 * TIMEOUT + 5001);
    expect(next.firstOutstandingSequence).toBe(next.sequence);
  });
});
