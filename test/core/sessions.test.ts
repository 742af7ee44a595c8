/** The client session table (dissertation §6.3): exactly-once decisions and their snapshot form. */
import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../src/core/sessions.js';
import type { LogEntry } from '../../src/core/types.js';

function command(index: number, sequence: number, firstOutstandingSequence?: number): LogEntry {
  const entry: LogEntry = { index, term: 2, type: 'command', command: { big: 'x'.repeat(100) }, clientId: 'c#1', sequence };
  if (firstOutstandingSequence !== undefined) entry.firstOutstandingSequence = firstOutstandingSequence;
  return entry;
}

describe('SessionTable', () => {
  it('admits a sequence once, and forgets sequences below the low-water mark', () => {
    const table = new SessionTable();
    expect(table.admit(command(1, 1))).toBe(true);
    expect(table.admit(command(2, 2))).toBe(true);
    expect(table.admit(command(3, 1))).toBe(false); // retried proposal 1, committed again
    expect(table.lookup('c#1', 1)).toMatchObject({ sequence: 1, index: 1, term: 2 });
    expect(table.admit(command(4, 3, 3))).toBe(true);
    expect(table.lookup('c#1', 1)).toBeUndefined();
    expect(table.admit(command(5, 2))).toBe(false); // below the low-water mark: settled
  });

  it('snapshots hold where each proposal was applied, and never its command', () => {
    const table = new SessionTable();
    table.admit(command(7, 1));
    table.admit(command(8, 2));
    const snapshot = table.toSnapshot();
    expect(snapshot).toEqual([
      {
        clientId: 'c#1',
        lowWater: 0,
        applied: [
          { sequence: 1, index: 7, term: 2 },
          { sequence: 2, index: 8, term: 2 },
        ],
        lastIndex: 8,
      },
    ]);
    expect(JSON.stringify(snapshot)).not.toContain('xxx');
    const restored = new SessionTable();
    restored.restore(snapshot);
    expect(restored.toSnapshot()).toEqual(snapshot);
    expect(restored.admit(command(9, 2))).toBe(false);
  });
});
