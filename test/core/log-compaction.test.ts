import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../src/core/log.js';
import type { LogEntry } from '../../src/core/types.js';

const entry = (index: number, term: number): LogEntry => ({ index, term, type: 'noop' });

/**
 * Found by the simulation (npm run sim -- --seed 84 --nodes 3 --trace): a
 * follower whose stable log conflicts with an installed snapshot discards the
 * log (§7), but kept `stableIndex` and `unstableFrom` beyond the new end, so
 * the next entry from the leader was never handed to storage (a hole in the
 * stored log) and counted as durable before it was saved.
 */
describe('RaftLog.compactTo over a conflicting log (§7)', () => {
  it('a discarded suffix is neither stable nor handed to storage any more', () => {
    const log = new RaftLog();
    log.append([entry(1, 1), entry(2, 2), entry(3, 2), entry(4, 2), entry(5, 2), entry(6, 2), entry(7, 2)]);
    log.takeUnstable();
    log.stableTo(7, 2);
    // A snapshot at 6 from a leader of term 3: our entry 6 has term 2, so the whole log goes.
    log.compactTo(6, 3);
    expect(log.lastIndex()).toBe(6);
    expect(log.stableIndex, 'stableIndex <= lastIndex').toBeLessThanOrEqual(log.lastIndex());
    log.append([entry(7, 3), entry(8, 3)]);
    expect(log.takeUnstable().map((e) => e.index), 'every new entry is handed to storage').toEqual([7, 8]);
    expect(log.stableIndex, 'new entries are not durable before their save').toBe(6);
  });

  it('a matching suffix is kept, with its stable and unstable marks', () => {
    const log = new RaftLog();
    log.append([entry(1, 1), entry(2, 2), entry(3, 2)]);
    log.takeUnstable();
    log.stableTo(2, 2);
    log.compactTo(2, 2);
    expect(log.lastIndex()).toBe(3);
    expect(log.stableIndex).toBe(2);
    expect(log.takeUnstable()).toEqual([]);
  });
});

describe('RaftLog.compactTo keeping entries the snapshot covers (keepAfter)', () => {
  const logOf = (last: number): RaftLog => {
    const log = new RaftLog();
    log.append(Array.from({ length: last }, (_, i) => entry(i + 1, i < 4 ? 1 : 2)));
    log.takeUnstable();
    log.stableTo(last, 2);
    log.commitIndex = last;
    return log;
  };

  it('keeps the entries after keepAfter in memory, readable and sendable', () => {
    const log = logOf(10);
    log.compactTo(8, 2, 3);
    expect(log.snapshotIndex).toBe(8);
    expect(log.firstIndex()).toBe(4);
    expect(log.termAt(3), 'the entry before the first one kept answers the consistency check').toBe(1);
    expect(log.termAt(2)).toBeUndefined();
    expect(log.entryAt(3)).toBeUndefined();
    expect(log.entryAt(4)?.index).toBe(4);
    expect(log.slice(4, 10).map((e) => e.index)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(() => log.slice(3, 10)).toThrow(/compacted/);
    expect(log.lastIndexAtOrBelowTerm(1, 10), 'backtracking searches the entries kept').toBe(4);
    expect(log.lastIndexAtOrBelowTerm(0, 10)).toBe(3);
  });

  it('a later compaction drops them, and the offset never moves back', () => {
    const log = logOf(10);
    log.compactTo(6, 2, 3);
    log.compactTo(8, 2, 1);
    expect(log.firstIndex(), 'entries dropped before are not brought back').toBe(4);
    log.compactTo(10, 2);
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(10);
    expect(log.lastTerm()).toBe(2);
  });

  it('keeps nothing when the snapshot conflicts with the log', () => {
    const log = logOf(10);
    log.compactTo(8, 3, 3);
    expect(log.firstIndex()).toBe(9);
    expect(log.lastIndex()).toBe(8);
    expect(log.lastTerm()).toBe(3);
  });
});
