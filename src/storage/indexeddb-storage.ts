/**
 * IndexedDBStorage: a durable `Storage` for browsers (and any runtime with an
 * IndexedDB, e.g. Node with fake-indexeddb). Browser-safe: imports no Node module.
 *
 * Database `name`, version 1, two object stores:
 * - `meta` (out-of-line keys): `'hardState'` -> HardState, `'snapshot'` -> Snapshot,
 *   `'snapshotIndex'` -> the snapshot's index (read by saves without reading the snapshot).
 * - `entries` (key path `index`): LogEntry by index. Invariant after each
 *   transaction: the keys are contiguous and all above the stored snapshot's index.
 *
 * Each `save()` is ONE readwrite transaction over both stores, opened with
 * `durability: 'strict'` where supported, and resolves on its `complete`
 * event: the browser has then committed it (with 'strict', flushed it to
 * disk). IndexedDB runs readwrite transactions on the same stores in creation
 * order, so saves take effect in call order, and each is all-or-nothing.
 */
import type { HardState, LogEntry, Snapshot } from '../core/types.js';
import type { Storage, StoredState, StorageUpdate } from './storage.js';

export interface IndexedDBStorageOptions {
  /** The factory to use; default `globalThis.indexedDB`. */
  indexedDB?: IDBFactory;
  /** The key range class of the same implementation; default `globalThis.IDBKeyRange`. */
  IDBKeyRange?: typeof IDBKeyRange;
}

/** Codes of the errors IndexedDBStorage rejects with (same meanings as in `webraft/node`). */
export type IndexedDBStorageErrorCode = 'STORAGE_INVALID_UPDATE' | 'STORAGE_CLOSED' | 'STORAGE_FAILED' | 'STORAGE_UNAVAILABLE';

function storageError(code: IndexedDBStorageErrorCode, message: string, cause?: unknown): Error & { code: IndexedDBStorageErrorCode } {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: IndexedDBStorageErrorCode };
  error.name = 'StorageError';
  error.code = code;
  return error;
}

const META = 'meta';
const ENTRIES = 'entries';
const VERSION = 1;

/**
 * A Storage in one IndexedDB database. Construct it, call `load()` once (it
 * opens the database), then `save()`; `close()` closes the connection after
 * the pending transactions.
 */
export class IndexedDBStorage implements Storage {
  readonly name: string;
  private readonly factory: IDBFactory | undefined;
  private readonly keyRange: typeof IDBKeyRange | undefined;
  private db: IDBDatabase | null = null;
  private opening: Promise<IDBDatabase> | null = null;
  private closed = false;
  /** Set once a transaction fails; every later save rejects with it. */
  private failure: Error | null = null;

  constructor(name: string, options: IndexedDBStorageOptions = {}) {
    this.name = name;
    this.factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    this.keyRange = options.IDBKeyRange ?? (globalThis as { IDBKeyRange?: typeof IDBKeyRange }).IDBKeyRange;
  }

  /**
   * Opens the database (creating it on first use) and returns what completed
   * saves wrote. After `close()`, `load()` opens the database again (a node
   * restarted on the same storage object).
   */
  async load(): Promise<StoredState> {
    this.closed = false;
    const db = await this.openDatabase();
    return new Promise<StoredState>((resolve, reject) => {
      const tx = db.transaction([META, ENTRIES], 'readonly');
      const hardState = tx.objectStore(META).get('hardState') as IDBRequest<HardState | undefined>;
      const snapshot = tx.objectStore(META).get('snapshot') as IDBRequest<Snapshot | undefined>;
      const entries = tx.objectStore(ENTRIES).getAll() as IDBRequest<LogEntry[]>;
      tx.oncomplete = () => {
        resolve({ hardState: hardState.result ?? null, snapshot: snapshot.result ?? null, entries: entries.result });
      };
      tx.onabort = () => reject(storageError('STORAGE_FAILED', `IndexedDBStorage ${this.name}: load failed: ${String(tx.error)}`, tx.error));
    });
  }

  /**
   * Applies `update` in one readwrite transaction; resolves on `complete`.
   * The update is copied at the call (structured clone by IndexedDB).
   * Rejects with `STORAGE_INVALID_UPDATE` (nothing applied) for entries that
   * would leave a hole, `STORAGE_CLOSED` before `load()` or after `close()`,
   * `STORAGE_FAILED` when a transaction failed (and for every later save).
   */
  save(update: StorageUpdate): Promise<void> {
    if (this.closed || !this.db) return Promise.reject(storageError('STORAGE_CLOSED', `IndexedDBStorage ${this.name}: save() before load() or after close()`));
    if (this.failure) return Promise.reject(this.failure);
    const range = this.keyRange;
    if (!range) return Promise.reject(storageError('STORAGE_UNAVAILABLE', 'IndexedDBStorage: no IDBKeyRange (pass options.IDBKeyRange)'));
    // Copy now: the writes are issued from request callbacks, and the caller may reuse its objects.
    const snapshot = update.snapshot ? structuredClone(update.snapshot) : undefined;
    const hardState = update.hardState ? structuredClone(update.hardState) : undefined;
    const entries = update.entries && update.entries.length > 0 ? structuredClone(update.entries) : undefined;
    const db = this.db;
    return new Promise<void>((resolve, reject) => {
      let invalid: Error | null = null;
      const tx = db.transaction([META, ENTRIES], 'readwrite', { durability: 'strict' });
      const meta = tx.objectStore(META);
      const log = tx.objectStore(ENTRIES);
      tx.oncomplete = () => resolve();
      tx.onabort = () => {
        if (invalid) return reject(invalid);
        this.failure ??= storageError('STORAGE_FAILED', `IndexedDBStorage ${this.name}: transaction failed: ${String(tx.error)}`, tx.error);
        reject(this.failure);
      };

      /** Step 2 (§5.3): drop the entries at or after entries[0].index, append; then the hard state. */
      const writeEntries = (snapshotIndex: number) => {
        if (!entries) {
          if (hardState) meta.put(hardState, 'hardState');
          return;
        }
        const last = log.openKeyCursor(null, 'prev');
        last.onsuccess = () => {
          const lastIndex = last.result ? Math.max(Number(last.result.key), snapshotIndex) : snapshotIndex;
          const start = entries[0].index;
          if (start > lastIndex + 1) {
            invalid = storageError('STORAGE_INVALID_UPDATE', `IndexedDBStorage ${this.name}: entries start at ${start} but the log ends at ${lastIndex}`);
            tx.abort();
            return;
          }
          log.delete(range.lowerBound(start));
          for (const entry of entries) if (entry.index > snapshotIndex) log.put(entry);
          if (hardState) meta.put(hardState, 'hardState');
        };
      };

      if (snapshot) {
        // Step 1 (§7): keep the log after the snapshot only when it holds snapshot.index at snapshot.term.
        const at = log.get(snapshot.index) as IDBRequest<LogEntry | undefined>;
        at.onsuccess = () => {
          if (at.result && at.result.term === snapshot.term) log.delete(range.upperBound(snapshot.index));
          else log.clear();
          meta.put(snapshot, 'snapshot');
          meta.put(snapshot.index, 'snapshotIndex');
          writeEntries(snapshot.index);
        };
      } else if (entries) {
        const at = meta.get('snapshotIndex') as IDBRequest<number | undefined>;
        at.onsuccess = () => writeEntries(at.result ?? 0);
      } else {
        writeEntries(0);
      }
    });
  }

  /**
   * Closes the connection; transactions already issued still complete, saves
   * after the call reject with `STORAGE_CLOSED`. Idempotent; a later `load()` reopens.
   */
  close(): void {
    this.closed = true;
    this.db?.close();
    this.db = null;
    this.opening = null;
    this.failure = null;
  }

  private openDatabase(): Promise<IDBDatabase> {
    if (this.closed) return Promise.reject(storageError('STORAGE_CLOSED', `IndexedDBStorage ${this.name} is closed`));
    const factory = this.factory;
    if (!factory) return Promise.reject(storageError('STORAGE_UNAVAILABLE', 'IndexedDBStorage: no indexedDB in this runtime (pass options.indexedDB)'));
    this.opening ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(this.name, VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
        if (!db.objectStoreNames.contains(ENTRIES)) db.createObjectStore(ENTRIES, { keyPath: 'index' });
      };
      request.onsuccess = () => {
        const db = request.result;
        if (this.closed) {
          db.close();
          this.opening = null;
          reject(storageError('STORAGE_CLOSED', `IndexedDBStorage ${this.name} was closed while opening`));
          return;
        }
        // Another tab upgrading the database: let it, and fail our later saves.
        db.onversionchange = () => {
          db.close();
          this.failure ??= storageError('STORAGE_FAILED', `IndexedDBStorage ${this.name}: database was upgraded or deleted elsewhere`);
        };
        this.db = db;
        resolve(db);
      };
      request.onerror = () => {
        this.opening = null;
        reject(storageError('STORAGE_UNAVAILABLE', `IndexedDBStorage ${this.name}: cannot open database: ${String(request.error)}`, request.error));
      };
    });
    return this.opening;
  }
}
