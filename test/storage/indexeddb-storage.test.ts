import { readFile } from 'node:fs/promises';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { IndexedDBStorage } from 'webraft';
import { SAVE_SEQUENCES, entries, entry, expectedState, hardState, snapshot } from './fixtures/save-sequences.js';

/** A storage on its own fake-indexeddb factory (nothing installed on globalThis). */
function open(factory = new IDBFactory(), name = 'node-a') {
  return { factory, storage: new IndexedDBStorage(name, { indexedDB: factory, IDBKeyRange }) };
}

describe('IndexedDBStorage (fake-indexeddb)', () => {
  it('returns nothing before the first save', async () => {
    const { storage } = open();
    expect(await storage.load()).toEqual({ hardState: null, snapshot: null, entries: [] });
    storage.close();
  });

  for (const { name, saves } of SAVE_SEQUENCES) {
    it(`agrees with MemoryStorage, awaiting each save: ${name}`, async () => {
      const { factory, storage } = open();
      await storage.load();
      for (const update of saves) await storage.save(update);
      storage.close();
      const reopened = open(factory).storage;
      expect(await reopened.load()).toEqual(await expectedState(saves));
      reopened.close();
    });
  }

  it('applies overlapping saves in call order, each in one transaction', async () => {
    const { factory, storage } = open();
    await storage.load();
    const saves = [
      { entries: entries(1, 5, 1) },
      { entries: entries(3, 4, 2), hardState: hardState(2, 1) },
      { snapshot: snapshot(2, 1) },
      { entries: [entry(5, 2)], hardState: hardState(2, 5, 'c') },
    ];
    const order: number[] = [];
    await Promise.all(saves.map((u, i) => storage.save(u).then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    storage.close();
    const reopened = open(factory).storage;
    expect(await reopened.load()).toEqual(await expectedState(saves));
    reopened.close();
  });

  it('rejects entries that leave a hole with STORAGE_INVALID_UPDATE and applies nothing of that update', async () => {
    const { storage } = open();
    await storage.load();
    await storage.save({ entries: entries(1, 2, 1), hardState: hardState(1) });
    await expect(storage.save({ snapshot: snapshot(2, 1), entries: [entry(9, 1)], hardState: hardState(5) })).rejects.toMatchObject({
      code: 'STORAGE_INVALID_UPDATE',
    });
    expect(await storage.load()).toEqual(await expectedState([{ entries: entries(1, 2, 1), hardState: hardState(1) }]));
    await storage.save({ entries: [entry(3, 1)] });
    expect((await storage.load()).entries).toHaveLength(3);
    storage.close();
  });

  it('copies updates at the call', async () => {
    const { storage } = open();
    await storage.load();
    const e = entry(1, 1);
    const pending = storage.save({ entries: [e] });
    e.term = 42;
    await pending;
    expect((await storage.load()).entries[0].term).toBe(1);
    storage.close();
  });

  it('refuses saves before load and after close with STORAGE_CLOSED', async () => {
    const { storage } = open();
    await expect(storage.save({ hardState: hardState(1) })).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
    await storage.load();
    storage.close();
    await expect(storage.save({ hardState: hardState(1) })).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
  });

  it('load() after close() reopens the same database (restart on the same storage object)', async () => {
    const { storage } = open();
    await storage.load();
    await storage.save({ entries: entries(1, 3, 1), hardState: hardState(1, 3) });
    storage.close();
    expect(await storage.load()).toEqual(await expectedState([{ entries: entries(1, 3, 1), hardState: hardState(1, 3) }]));
    await storage.save({ entries: [entry(4, 1)] });
    expect((await storage.load()).entries).toHaveLength(4);
    storage.close();
  });

  it('separate database names are separate nodes', async () => {
    const factory = new IDBFactory();
    const a = open(factory, 'a').storage;
    const b = open(factory, 'b').storage;
    await a.load();
    await b.load();
    await a.save({ entries: entries(1, 3, 1) });
    expect((await b.load()).entries).toEqual([]);
    a.close();
    b.close();
  });

  it('without an indexedDB it fails clearly (STORAGE_UNAVAILABLE), and the test leaks no global', async () => {
    expect((globalThis as { indexedDB?: unknown }).indexedDB).toBeUndefined();
    await expect(new IndexedDBStorage('x').load()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
  });

  it('is browser-safe: the module imports nothing from Node', async () => {
    const source = await readFile(new URL('../../src/storage/indexeddb-storage.ts', import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import .* from '([^']+)'/gm)].map((m) => m[1]);
    expect(imports.every((path) => path.startsWith('./') || path.startsWith('../core/'))).toBe(true);
  });
});
