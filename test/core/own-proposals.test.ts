/**
 * A leader's own proposals (dissertation §6.3): a proposal that was never
 * forwarded has at most one copy in any log, appended by its node as leader,
 * so it needs no session and its entry carries none. It settles when its
 * entry at (index, term) is handed out; when another entry commits at that
 * index it can never commit, and it is retried, through a session from the
 * moment it is forwarded.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { LogEntry, Message } from '../../src/core/types.js';
import { deliverUntilQuiet, drain, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

type Cores = Map<string, RaftCore>;

/** Three started cores with `a` elected at `now`. */
function clusterLedByA(): { cores: Cores; a: RaftCore; b: RaftCore; now: number } {
  const cores: Cores = new Map(['a', 'b', 'c'].map((id) => [id, startedCore(id, ['a', 'b', 'c'])]));
  const a = get(cores, 'a');
  const now = 2 * TIMEOUT;
  a.tick(now);
  deliverUntilQuiet(cores, now);
  expect(a.isLeader).toBe(true);
  return { cores, a, b: get(cores, 'b'), now };
}

/** Ticks every core but the `cut` ones at `now` and delivers until quiet, dropping messages to or from a cut node. */
function run(cores: Cores, now: number, cut: readonly string[] = []): Message[] {
  const reachable = new Map([...cores].filter(([id]) => !cut.includes(id)));
  for (const core of reachable.values()) core.tick(now);
  return deliverUntilQuiet(reachable, now);
}

/** b times out first and is elected by c while a is cut off; returns the time after. */
function electWithoutA(cores: Cores, now: number): number {
  const b = get(cores, 'b');
  const others = new Map([...cores].filter(([id]) => id !== 'a'));
  for (let i = 0; i < 10 && !b.isLeader; i++) {
    now += TIMEOUT;
    b.tick(now);
    deliverUntilQuiet(others, now);
  }
  expect(b.isLeader).toBe(true);
  return now;
}

function get(cores: Cores, id: string): RaftCore {
  return cores.get(id) as RaftCore;
}

/** The committed command entries of `core` whose command is `command`. */
function committedCopies(core: RaftCore, command: { id: string }): LogEntry[] {
  return core.log.slice(1, core.commitIndex).filter((e) => e.type === 'command' && (e.command as { id?: string }).id === command.id);
}

describe("a leader's own proposals (§6.3)", () => {
  it('are appended without session fields and settle when handed out at their index and term', () => {
    const { cores, a, now } = clusterLedByA();

    const sequence = a.propose({ id: 'x' }, 10_000);
    const handedOut: LogEntry[] = [];
    deliverUntilQuiet(cores, now, undefined, (id, drained) => {
      if (id === 'a') handedOut.push(...drained.committed);
    });
    const entry = handedOut.find((e) => e.type === 'command');
    expect(entry).toBeDefined();
    expect(entry?.clientId).toBeUndefined();
    expect(entry?.sequence).toBeUndefined();
    expect(entry?.firstOutstandingSequence).toBeUndefined();
    // The API layer learns once which proposal the entry settles.
    expect(a.takeSettledProposalAt(entry?.index ?? 0)).toBe(sequence);
    expect(a.takeSettledProposalAt(entry?.index ?? 0)).toBeUndefined();
    // A follower's copy settles nothing there.
    expect(get(cores, 'b').takeSettledProposalAt(entry?.index ?? 0)).toBeUndefined();
  });

  it('are retried through the session once another entry commits at their index, and commit exactly once', () => {
    const { cores, a, b, now: electedAt } = clusterLedByA();
    let now = electedAt;
    const oldTerm = a.term;

    // a appends its own proposal, but is cut off before anyone else gets it.
    const command = { id: 'lost-then-retried' };
    a.propose(command, 60_000);
    drain(a);
    const slot = a.log.lastIndex();
    expect(a.log.termAt(slot)).toBe(oldTerm);

    // b and c elect b, whose no-op takes the slot.
    now = electWithoutA(cores, now);
    expect(b.isLeader).toBe(true);
    expect(b.log.termAt(slot) ?? 0).toBeGreaterThan(oldTerm);

    // a rejoins: its copy is overwritten, and the proposal is forwarded to b with a's session.
    const sent: Message[] = [];
    for (let i = 0; i < 10; i++) {
      now += 50;
      sent.push(...run(cores, now));
    }
    const forwarded = sent.filter((m) => m.from === 'a' && m.body.type === 'ProposeRequest');
    expect(forwarded.length).toBeGreaterThanOrEqual(1);
    expect(forwarded.every((m) => m.body.type === 'ProposeRequest' && m.body.clientId === 'a#test')).toBe(true);
    for (const core of cores.values()) {
      const copies = committedCopies(core, command);
      expect(copies).toHaveLength(1);
      expect(copies[0].index).toBeGreaterThan(slot);
      expect(copies[0].clientId).toBe('a#test');
    }
  });

  it('carry the session once forwarded, even when their node later appends them as leader', () => {
    const { cores, b, now: electedAt } = clusterLedByA();
    let now = electedAt;

    // b forwards a proposal to a, which is cut off before it arrives.
    const command = { id: 'forwarded-first' };
    b.propose(command, 60_000);
    expect(drain(b).messages.map((m) => m.body.type)).toContain('ProposeRequest');
    // b becomes leader and appends the proposal itself: with b's session, as the first copy may still exist.
    now = electWithoutA(cores, now);
    expect(b.isLeader).toBe(true);
    for (let i = 0; i < 10 && committedCopies(b, command).length === 0; i++) {
      now += TIMEOUT;
      run(cores, now, ['a']);
    }
    const copies = committedCopies(b, command);
    expect(copies).toHaveLength(1);
    expect(copies[0].clientId).toBe('b#test');
    expect(copies[0].sequence).toBeGreaterThan(0);
  });
});
