import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexedDBStorage, MemoryStorage } from 'webraft';
import type { StorageUpdate } from 'webraft';
import { FileStorage, isStorageError } from 'webraft/node';
import type { FileStorageOptions } from 'webraft/node';
import { crc32 } from '../../src/node/crc32.js';
import { crashUpdate } from './fixtures/crash-sequence.js';
import { SAVE_SEQUENCES, entries, entry, expectedState, hardState, snapshot } from './fixtures/save-sequences.js';

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'webraft-file-storage-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshDir = () => join(root, `d${counter++}`);

async function openStorage(dir: string, options?: FileStorageOptions) {
  const storage = new FileStorage(dir, options);
  const state = await storage.load();
  return { storage, state };
}

/** Loads `dir` in a new FileStorage and closes it. */
async function reload(dir: string, options?: FileStorageOptions) {
  const { storage, state } = await openStorage(dir, options);
  await storage.close();
  return state;
}

async function liveSegment(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('wal-') && n.endsWith('.log')).sort();
  return join(dir, names[names.length - 1]);
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    const b = Buffer.from('hello, world');
    expect(crc32(b, 5, b.length, crc32(b, 0, 5))).toBe(crc32(b));
  });
});

describe('FileStorage, IndexedDBStorage and MemoryStorage agree on every save sequence', () => {
  for (const { name, saves } of SAVE_SEQUENCES) {
    it(name, async () => {
      const expected = await expectedState(saves);

      // FileStorage, awaiting each save, then reopened.
      const dir = freshDir();
      const { storage } = await openStorage(dir);
      for (const update of saves) await storage.save(update);
      expect(await storage.load(), 'FileStorage before reopen').toEqual(expected);
      await storage.close();
      expect(await reload(dir), 'FileStorage after reopen').toEqual(expected);

      // FileStorage with every save issued at once (one group-commit batch).
      const dir2 = freshDir();
      const { storage: grouped } = await openStorage(dir2);
      await Promise.all(saves.map((u) => grouped.save(u)));
      await grouped.close();
      expect(await reload(dir2), 'FileStorage with overlapping saves').toEqual(expected);

      // IndexedDBStorage on fake-indexeddb, reopened.
      const factory = new IDBFactory();
      const idb = new IndexedDBStorage('seq', { indexedDB: factory, IDBKeyRange });
      await idb.load();
      await Promise.all(saves.map((u) => idb.save(u)));
      idb.close();
      const idb2 = new IndexedDBStorage('seq', { indexedDB: factory, IDBKeyRange });
      expect(await idb2.load(), 'IndexedDBStorage after reopen').toEqual(expected);
      idb2.close();
    });
  }
});

describe('FileStorage durability and recovery', () => {
  it('copies updates at the call: later mutation by the caller changes nothing', async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir);
    const e = entry(1, 1);
    const pending = storage.save({ entries: [e] });
    e.term = 99;
    await pending;
    await storage.close();
    expect((await reload(dir)).entries[0].term).toBe(1);
  });

  it('rejects a save that would leave a hole with STORAGE_INVALID_UPDATE and keeps working', async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir);
    await storage.save({ entries: entries(1, 2, 1) });
    await expect(storage.save({ entries: [entry(5, 1)] })).rejects.toMatchObject({ code: 'STORAGE_INVALID_UPDATE' });
    await storage.save({ entries: [entry(3, 1)] });
    await storage.close();
    expect((await reload(dir)).entries.map((e) => e.index)).toEqual([1, 2, 3]);
  });

  it('refuses saves before load and after close (STORAGE_CLOSED); reopen sees everything', async () => {
    const dir = freshDir();
    await expect(new FileStorage(dir).save({ hardState: hardState(1) })).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
    const { storage } = await openStorage(dir);
    const last = storage.save({ entries: entries(1, 3, 1), hardState: hardState(1, 3) });
    await storage.close(); // waits for the queued save
    await last;
    await expect(storage.save({ hardState: hardState(2) })).rejects.toMatchObject({ code: 'STORAGE_CLOSED' });
    await storage.close(); // idempotent
    const state = await reload(dir);
    expect(state.hardState).toEqual(hardState(1, 3));
    expect(state.entries).toHaveLength(3);
  });

  it('load() after close() reopens: a node restarted on the same storage object sees the disk', async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir);
    await storage.save({ entries: entries(1, 2, 1), snapshot: snapshot(1, 1) });
    const closing = storage.close(); // RaftInterface.end() does not await close()
    const state = await storage.load();
    expect(state).toEqual(await expectedState([{ entries: entries(1, 2, 1), snapshot: snapshot(1, 1) }]));
    await closing;
    await storage.save({ entries: [entry(3, 1)] });
    await storage.close();
    expect((await reload(dir)).entries.map((e) => e.index)).toEqual([2, 3]);
  });

  it('group commit: saves arriving during a sync share the next sync, and each resolves after a covering sync', async () => {
    const { storage } = await openStorage(freshDir());
    const before = storage.stats.logSyncs;
    await Promise.all(Array.from({ length: 100 }, (_, i) => storage.save({ entries: [entry(i + 1, 1)] })));
    expect(storage.stats.logSyncs - before).toBe(1);
    expect(storage.stats.appends).toBe(100);

    // B arrives while A's write/sync is in flight: B resolves only after a second sync.
    const syncsBefore = storage.stats.logSyncs;
    const a = storage.save({ entries: [entry(101, 1)] }).then(() => storage.stats.logSyncs - syncsBefore);
    await new Promise((r) => setImmediate(r));
    const b = storage.save({ entries: [entry(102, 1)] }).then(() => storage.stats.logSyncs - syncsBefore);
    expect(await a).toBe(1);
    expect(await b).toBe(2);
    await storage.close();
  });

  it('without group commit every save gets its own sync', async () => {
    const { storage } = await openStorage(freshDir(), { groupCommit: false });
    const before = storage.stats.logSyncs;
    await Promise.all(Array.from({ length: 20 }, (_, i) => storage.save({ entries: [entry(i + 1, 1)] })));
    expect(storage.stats.logSyncs - before).toBe(20);
    await storage.close();
  });

  it('truncates a torn last save at every byte offset, logs it, and keeps appending after it', async () => {
    const dir = freshDir();
    const saves: StorageUpdate[] = [{ entries: entries(1, 3, 1), hardState: hardState(1, 1) }, { entries: [entry(4, 2), entry(5, 2)], hardState: hardState(2, 3, 'b') }];
    const { storage } = await openStorage(dir);
    await storage.save(saves[0]);
    const file = await liveSegment(dir);
    const sizeBefore = (await stat(file)).size;
    await storage.save(saves[1]);
    await storage.close();
    const full = await readFile(file);
    expect(full.length).toBeGreaterThan(sizeBefore + 20);
    const expectedBefore = await expectedState(saves.slice(0, 1));

    for (let cut = sizeBefore; cut < full.length; cut++) {
      await writeFile(file, full.subarray(0, cut));
      const warnings: string[] = [];
      const state = await reload(dir, { logger: { warn: (m) => warnings.push(m) } });
      expect(state, `cut at ${cut}`).toEqual(expectedBefore);
      if (cut > sizeBefore) expect(warnings.join('\n'), `cut at ${cut}`).toMatch(/truncat/);
      expect((await stat(file)).size, `file truncated (cut at ${cut})`).toBe(sizeBefore);
    }

    // Checksum mismatch in the last record (payload and trailer bytes): also a torn tail.
    for (const back of [1, 3, 6]) {
      const damaged = Buffer.from(full);
      damaged[damaged.length - back] ^= 0x5a;
      await writeFile(file, damaged);
      expect(await reload(dir), `flipped byte ${back} from the end`).toEqual(expectedBefore);
    }

    // Zeros after the last save (a filesystem that extended the file but lost the data).
    await writeFile(file, Buffer.concat([full, Buffer.alloc(4096)]));
    expect(await reload(dir)).toEqual(await expectedState(saves));

    // After the repair, new saves append where the torn tail was.
    await writeFile(file, full.subarray(0, full.length - 2));
    const { storage: again } = await openStorage(dir);
    await again.save(saves[1]);
    await again.close();
    expect(await reload(dir)).toEqual(await expectedState(saves));
  });

  it('rejects damage before the tail with STORAGE_CORRUPT naming the file and offset', async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir);
    await storage.save({ entries: entries(1, 3, 1) });
    const file = await liveSegment(dir);
    const firstEnd = (await stat(file)).size;
    await storage.save({ entries: entries(4, 6, 1), hardState: hardState(1, 2) });
    const secondEnd = (await stat(file)).size;
    await storage.save({ entries: entries(7, 9, 1) });
    await storage.close();
    const full = await readFile(file);
    // A byte in the header (length), the payload and the checksum of the middle save.
    for (const at of [firstEnd + 1, firstEnd + 20, secondEnd - 2]) {
      const damaged = Buffer.from(full);
      damaged[at] ^= 0x01;
      await writeFile(file, damaged);
      const error = await new FileStorage(dir).load().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isStorageError(error, 'STORAGE_CORRUPT'), `flip at ${at}: ${String(error)}`).toBe(true);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(/offset \d+/);
      expect((await readFile(file)).equals(damaged), 'a corrupt file is left untouched').toBe(true);
    }
    // A damaged segment header is corrupt too.
    const badMagic = Buffer.from(full);
    badMagic[0] ^= 0xff;
    await writeFile(file, badMagic);
    await expect(new FileStorage(dir).load()).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
  });

  it('rejects a damaged snapshot file with STORAGE_CORRUPT', async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir);
    await storage.save({ entries: entries(1, 5, 1), snapshot: snapshot(3, 1) });
    await storage.close();
    const snap = join(dir, (await readdir(dir)).find((n) => n.endsWith('.snap'))!);
    const bytes = await readFile(snap);
    bytes[bytes.length - 3] ^= 0x10;
    await writeFile(snap, bytes);
    await expect(new FileStorage(dir).load()).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', message: expect.stringContaining(snap) });
  });

  it("damage in a segment's base (written before its rename, so never torn) is STORAGE_CORRUPT, not a torn tail", async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir);
    await storage.save({ entries: entries(1, 5, 1), hardState: hardState(1, 5), snapshot: snapshot(2, 1) });
    await storage.close();
    const file = await liveSegment(dir);
    const full = await readFile(file);
    for (const damaged of [full.subarray(0, full.length - 1), Buffer.from(full).fill(0x33, full.length - 2)]) {
      await writeFile(file, damaged);
      await expect(new FileStorage(dir).load()).rejects.toMatchObject({ code: 'STORAGE_CORRUPT', message: expect.stringContaining(file) });
    }
  });

  it('compaction: a snapshot starts a new segment and deletes older segments and snapshots', async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir);
    let sizes: number[] = [];
    for (let round = 0; round < 20; round++) {
      const base = round * 100;
      for (let i = 1; i <= 100; i += 10) {
        await storage.save({ entries: Array.from({ length: 10 }, (_, k) => entry(base + i + k, 1, { pad: 'y'.repeat(200) })), hardState: hardState(1, base + i) });
      }
      await storage.save({ snapshot: snapshot(base + 95, 1, { round }) });
      const names = (await readdir(dir)).sort();
      expect(names.filter((n) => n.endsWith('.log'))).toHaveLength(1);
      expect(names.filter((n) => n.endsWith('.snap'))).toHaveLength(1);
      expect(names.filter((n) => n.endsWith('.tmp'))).toHaveLength(0);
      sizes.push((await Promise.all(names.map((n) => stat(join(dir, n))))).reduce((s, st) => s + st.size, 0));
    }
    await storage.close();
    // Bounded: the directory after the last snapshot is no bigger than after the first.
    expect(Math.max(...sizes.slice(1))).toBeLessThanOrEqual(sizes[0] + 200);
    const state = await reload(dir);
    expect(state.snapshot?.index).toBe(1995);
    expect(state.entries.map((e) => e.index)).toEqual([1996, 1997, 1998, 1999, 2000]);
  });

  it('a large segment is rewritten without a snapshot (segmentRewriteBytes)', async () => {
    const dir = freshDir();
    const { storage } = await openStorage(dir, { segmentRewriteBytes: 4096 });
    await storage.save({ entries: entries(1, 3, 1) });
    for (let i = 0; i < 200; i++) await storage.save({ hardState: hardState(1, i) });
    expect(storage.stats.rewrites).toBeGreaterThan(1);
    await storage.close();
    expect((await stat(await liveSegment(dir))).size).toBeLessThan(8192);
    expect(await reload(dir)).toEqual({ hardState: hardState(1, 199), snapshot: null, entries: entries(1, 3, 1) });
  });

  it('recovers from a crash at every step of a snapshot write and segment rollover', async () => {
    const dir = freshDir();
    const saves: StorageUpdate[] = [
      { entries: entries(1, 10, 1), hardState: hardState(1, 8) },
      { snapshot: snapshot(4, 1) },
      { entries: entries(11, 12, 1) },
    ];
    const { storage } = await openStorage(dir);
    for (const u of saves) await storage.save(u);
    await storage.close();
    const before = join(root, `copy${counter++}`);
    await cp(dir, before, { recursive: true });
    const { storage: s2 } = await openStorage(dir);
    await s2.save({ snapshot: snapshot(11, 1), hardState: hardState(2, 11) });
    await s2.close();
    const after = join(root, `copy${counter++}`);
    await cp(dir, after, { recursive: true });
    const oldState = await expectedState(saves);
    const newState = await expectedState([...saves, { snapshot: snapshot(11, 1), hardState: hardState(2, 11) }]);

    const oldFiles = await readdir(before);
    const newFiles = (await readdir(after)).filter((n) => !oldFiles.includes(n));
    const newSnap = newFiles.find((n) => n.endsWith('.snap'))!;
    const newWal = newFiles.find((n) => n.endsWith('.log'))!;
    expect(newSnap && newWal).toBeTruthy();

    const scenario = async (name: string, build: (d: string) => Promise<void>, expected: unknown) => {
      const d = join(root, `crash${counter++}`);
      await cp(before, d, { recursive: true });
      await build(d);
      expect(await reload(d), name).toEqual(expected);
      const leftovers = (await readdir(d)).filter((n) => n.endsWith('.tmp'));
      expect(leftovers, `${name}: temp files removed`).toEqual([]);
    };
    const copy = (name: string, as = name) => (d: string) => cp(join(after, name), join(d, as));
    await scenario('half-written snapshot temp file', async (d) => writeFile(join(d, `${newSnap}.tmp`), (await readFile(join(after, newSnap))).subarray(0, 30)), oldState);
    await scenario('snapshot renamed, no new segment', copy(newSnap), oldState);
    await scenario('snapshot renamed, segment temp file', async (d) => {
      await copy(newSnap)(d);
      await copy(newWal, `${newWal}.tmp`)(d);
    }, oldState);
    await scenario('new segment renamed, old files not yet deleted', async (d) => {
      await copy(newSnap)(d);
      await copy(newWal)(d);
    }, newState);
  });

  it('a process killed mid-stream (SIGKILL) keeps every acknowledged save and a prefix of the rest', async () => {
    const dir = freshDir();
    const script = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
    let acknowledged = 0;
    for (const [round, appenders, killAfterAcks] of [[0, 1, 150], [1, 16, 400], [2, 4, 250]] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(appenders)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      let startedAt = 0;
      let acksThisRound = 0;
      await new Promise<void>((resolve, reject) => {
        let buffered = '';
        child.stdout.on('data', (d: Buffer) => {
          buffered += d.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) {
            if (line.startsWith('ready ')) startedAt = Number(line.slice(6));
            else {
              const n = Number(line);
              expect(n, 'acknowledgements come in call order').toBeGreaterThan(acknowledged);
              acknowledged = n;
              if (++acksThisRound === killAfterAcks) child.kill('SIGKILL');
            }
          }
        });
        child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
      });
      const state = await reload(dir);
      const survived = state.hardState?.commitIndex ?? 0;
      expect(startedAt, `round ${round} resumed after the previous survivors`).toBeGreaterThan(0);
      expect(survived, `round ${round}: every acknowledged save is present`).toBeGreaterThanOrEqual(acknowledged);
      const expected = await expectedState(Array.from({ length: survived }, (_, i) => crashUpdate(i + 1)));
      expect(state, `round ${round}: the state is exactly the first ${survived} saves`).toEqual(expected);
      acknowledged = survived;
    }
  });
});

describe('MemoryStorage stays the reference', () => {
  it('the shared table runs against MemoryStorage itself', async () => {
    const memory = new MemoryStorage();
    expect(await memory.load()).toEqual({ hardState: null, snapshot: null, entries: [] });
  });
});
