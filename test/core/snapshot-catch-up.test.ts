/**
 * A leader keeps the entries after a snapshot it is still sending (§7,
 * CoreOptions.snapshotCatchUpEntries). Found by the simulation (seed 500124,
 * 5 nodes, --steps 12000): each transfer outlasted the leader's next
 * compaction, which dropped every entry the new snapshot covered, so the
 * follower needed snapshot after snapshot and never got back to AppendEntries.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { Message } from '../../src/core/types.js';
import { TEST_TIMEOUT, deliverUntilQuiet, startedCore } from './helpers.js';

const PEERS = ['a', 'b', 'c'];

/** Compacts `core` up to what it applied (its commit index: the helpers apply at once). */
function compactAtCommit(core: RaftCore): number {
  const index = core.commitIndex;
  core.compact({ index, term: core.log.termAt(index) as number, configuration: core.configurationAt(index), data: null, sessions: [] });
  return index;
}

/**
 * Three nodes, a leading. c is cut off while a commits 10 commands with b and
 * compacts; then c comes back and a starts sending it that snapshot (first
 * snapshot). c acknowledges `acknowledgedChunks` chunks, then its answers are
 * lost, so the transfer stays open while a commits `moreCommands` more and
 * compacts again (second snapshot).
 */
function transferOutlastedByCompaction(snapshotCatchUpEntries: number, moreCommands: number, acknowledgedChunks = 1) {
  const cores = new Map(PEERS.map((id) => [id, startedCore(id, PEERS, { snapshotCatchUpEntries, snapshotChunkBytes: 16 })]));
  const a = cores.get('a') as RaftCore;
  const c = cores.get('c') as RaftCore;
  let now = TEST_TIMEOUT + 1;
  a.tick(now);
  deliverUntilQuiet(cores, now);
  expect(a.isLeader).toBe(true);

  const withoutC = (m: Message) => m.from !== 'c' && m.to !== 'c';
  for (let i = 0; i < 10; i++) a.propose({ n: i }, 10_000);
  deliverUntilQuiet(cores, now, withoutC);
  const firstSnapshot = compactAtCommit(a);

  // c answers a heartbeat; a streams the snapshot; c's answers get through, then are lost.
  a.tick((now += 60));
  let answers = 0;
  const toC = deliverUntilQuiet(cores, now, (m) => m.from !== 'c' || m.body.type !== 'InstallSnapshotResponse' || answers++ < acknowledgedChunks).filter(
    (m) => m.to === 'c',
  );
  expect(toC.some((m) => m.body.type === 'InstallSnapshotRequest' && m.body.lastIncludedIndex === firstSnapshot)).toBe(true);

  for (let i = 0; i < moreCommands; i++) a.propose({ n: 10 + i }, 10_000);
  deliverUntilQuiet(cores, now, withoutC);
  const secondSnapshot = compactAtCommit(a);
  return { cores, a, c, now, firstSnapshot, secondSnapshot };
}

/** Lets every message through, with a's heartbeats, until c has caught up; returns what a sent c. */
function heal(cores: Map<string, RaftCore>, a: RaftCore, c: RaftCore, start: number): Message[] {
  const toC: Message[] = [];
  let now = start;
  for (let round = 0; round < 20 && c.commitIndex < a.commitIndex; round++) {
    a.tick((now += 60));
    toC.push(...deliverUntilQuiet(cores, now).filter((m) => m.to === 'c'));
  }
  expect(c.commitIndex).toBe(a.commitIndex);
  return toC;
}

const snapshotsSent = (messages: Message[]) =>
  [...new Set(messages.flatMap((m) => (m.body.type === 'InstallSnapshotRequest' ? [m.body.lastIncludedIndex] : [])))];

describe('a leader compacting while a follower installs its snapshot (§7)', () => {
  it('keeps the entries after the snapshot being sent, and the follower goes on with AppendEntries', () => {
    const { cores, a, c, now, firstSnapshot, secondSnapshot } = transferOutlastedByCompaction(20, 6);
    expect(secondSnapshot).toBe(firstSnapshot + 6);
    expect(a.log.snapshotIndex).toBe(secondSnapshot);
    expect(a.log.firstIndex(), 'the entries after the first snapshot are still in memory').toBe(firstSnapshot + 1);
    const toC = heal(cores, a, c, now);
    expect(snapshotsSent(toC), 'only the first snapshot is sent').toEqual([firstSnapshot]);
    expect(toC.some((m) => m.body.type === 'AppendEntriesRequest' && m.body.entries.some((e) => e.index === firstSnapshot + 1))).toBe(true);
    expect(c.log.snapshotIndex).toBe(firstSnapshot);
  });

  it('without catch-up entries the follower needs the second snapshot too (the treadmill)', () => {
    const { cores, a, c, now, firstSnapshot, secondSnapshot } = transferOutlastedByCompaction(0, 6);
    expect(a.log.firstIndex()).toBe(secondSnapshot + 1);
    const toC = heal(cores, a, c, now);
    expect(snapshotsSent(toC)).toEqual([firstSnapshot, secondSnapshot]);
  });

  it('keeps at most snapshotCatchUpEntries behind the new snapshot, so the log stays bounded', () => {
    const { cores, a, c, now, firstSnapshot, secondSnapshot } = transferOutlastedByCompaction(3, 6);
    expect(a.log.firstIndex()).toBe(secondSnapshot - 3 + 1);
    const toC = heal(cores, a, c, now);
    expect(snapshotsSent(toC)).toEqual([firstSnapshot, secondSnapshot]);
  });

  it('keeps nothing for a follower that has not acknowledged a chunk (cut off or down: it cannot use them)', () => {
    const { a, secondSnapshot } = transferOutlastedByCompaction(20, 6, 0);
    expect(a.log.firstIndex()).toBe(secondSnapshot + 1);
  });

  it('a follower compacts as before: its log starts after its snapshot', () => {
    const { a, cores } = transferOutlastedByCompaction(20, 6);
    const b = cores.get('b') as RaftCore;
    expect(b.commitIndex).toBe(a.commitIndex);
    const index = compactAtCommit(b);
    expect(b.log.firstIndex()).toBe(index + 1);
  });
});
