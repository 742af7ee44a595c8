import { describe, expect, it } from 'vitest';
import { MemoryStorage } from 'webraft';
import type { LogEntry } from 'webraft';

const entry = (index: number, term: number): LogEntry => ({ index, term, type: 'command', command: { n: index } });

describe('MemoryStorage', () => {
  it('returns nothing before the first save', async () => {
    expect(await new MemoryStorage().load()).toEqual({ hardState: null, snapshot: null, entries: [] });
  });

  it('keeps only what a completed save wrote (an unresolved save is lost on crash)', async () => {
    const storage = new MemoryStorage();
    await storage.save({ hardState: { term: 2, votedFor: 'a', commitIndex: 0 } });
    const pending = storage.save({ hardState: { term: 3, votedFor: null, commitIndex: 0 } });
    expect((await storage.load()).hardState?.term).toBe(2);
    await pending;
    expect((await storage.load()).hardState?.term).toBe(3);
  });

  it('truncates a conflicting suffix before appending (§5.3)', async () => {
    const storage = new MemoryStorage();
    await storage.save({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
    await storage.save({ entries: [entry(2, 2)] });
    expect((await storage.load()).entries.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 2]]);
  });

  it('a snapshot discards the log it covers and keeps the matching suffix (§7)', async () => {
    const storage = new MemoryStorage();
    await storage.save({ entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
    const snapshot = { index: 2, term: 1, configuration: { voters: ['a'], learners: [] }, data: { x: 1 }, sessions: [] };
    await storage.save({ snapshot });
    const state = await storage.load();
    expect(state.snapshot).toEqual(snapshot);
    expect(state.entries.map((e) => e.index)).toEqual([3]);
    await storage.save({ snapshot: { ...snapshot, index: 9, term: 4 } });
    expect((await storage.load()).entries).toEqual([]);
  });

  it('copies the hard state, snapshot and entry list it saves, so the caller may reuse them', async () => {
    const storage = new MemoryStorage();
    const entries = [entry(1, 1), entry(2, 1)];
    const hardState = { term: 1, votedFor: 'a', commitIndex: 0 };
    const snapshot = { index: 0, term: 0, configuration: { voters: ['a'], learners: [] }, data: { x: 1 }, sessions: [] };
    await storage.save({ snapshot, entries, hardState });
    entries.length = 0;
    hardState.term = 99;
    snapshot.configuration.voters.push('b');
    snapshot.data.x = 2;
    const state = await storage.load();
    expect(state.entries.map((e) => e.index)).toEqual([1, 2]);
    expect(state.hardState?.term).toBe(1);
    expect(state.snapshot?.configuration.voters).toEqual(['a']);
    expect(state.snapshot?.data).toEqual({ x: 1 });
  });

  it('copies a snapshot deeply: session tables, nested data and a __proto__ key, on save and on load', async () => {
    const storage = new MemoryStorage();
    const data = JSON.parse('{"list":[{"n":1}],"__proto__":{"polluted":true}}') as { list: { n: number }[] };
    const sessions = [{ clientId: 'c1', lowWater: 1, applied: [{ sequence: 1, index: 5, term: 2 }], lastIndex: 5 }];
    const snapshot = { index: 5, term: 2, configuration: { voters: ['a'], learners: [] }, data, sessions };
    await storage.save({ snapshot });
    sessions[0].applied[0].index = 99;
    sessions[0].applied.push({ sequence: 2, index: 6, term: 2 });
    data.list[0].n = 2;
    const first = await storage.load();
    expect(first.snapshot?.sessions).toEqual([{ clientId: 'c1', lowWater: 1, applied: [{ sequence: 1, index: 5, term: 2 }], lastIndex: 5 }]);
    const loadedData = first.snapshot?.data as Record<string, unknown>;
    expect(loadedData.list).toEqual([{ n: 1 }]);
    // The key stays an own data property; no prototype is replaced.
    expect(Object.getPrototypeOf(loadedData)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(loadedData, '__proto__')?.value).toEqual({ polluted: true });
    (first.snapshot?.sessions[0].applied as { index: number }[])[0].index = 77;
    expect((await storage.load()).snapshot?.sessions[0].applied[0].index).toBe(5);
  });

  it('keeps entries by reference (they are immutable once created) but load() hands out copies', async () => {
    const storage = new MemoryStorage();
    await storage.save({ entries: [entry(1, 1)] });
    const loaded = (await storage.load()).entries[0];
    loaded.term = 99;
    expect((await storage.load()).entries[0].term).toBe(1);
  });
});
