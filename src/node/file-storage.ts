/**
 * FileStorage: a durable `Storage` for Node, on a write-ahead log of our own
 * built with `node:fs/promises` only (no native module). Format and guarantees
 * are described in docs/storage.md; the framing is in wal-record.ts.
 *
 * Directory layout (one directory per node, used by one process at a time):
 * - `wal-<generation>.log`: the live segment. Only the highest generation is
 *   live; it starts with the magic and a first record group that holds the
 *   snapshot marker (if any), the hard state and the whole log after the
 *   snapshot, followed by one record group per save.
 * - `snap-<generation>.snap`: the snapshot named by the live segment's marker.
 * - `*.tmp`: a file being written; never read, removed at load.
 *
 * A segment or snapshot file appears under its final name only after its
 * content is fsynced (temp file -> fsync -> rename -> fsync directory), so the
 * highest-numbered segment is always complete up to its appended tail, and
 * recovery is: take the highest segment, load the snapshot its marker names,
 * replay its record groups, truncate a torn tail, delete everything else.
 */
import { open, mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState, LogEntry, Snapshot } from '../core/types.js';
import type { Storage, StoredState, StorageUpdate } from '../storage/storage.js';
import { crc32 } from './crc32.js';
import { LogState } from './log-state.js';
import { StorageError } from './storage-error.js';
import {
  RecordType,
  SEGMENT_HEADER_BYTES,
  decodeSegmentHeader,
  decodeSnapshotFile,
  encodeSegment,
  encodeGroup,
  encodeSnapshotFile,
  readRecord,
  validRecordFollows,
} from './wal-record.js';
import type { DecodedRecord, RecordInput, SnapshotMarker } from './wal-record.js';

/** Where FileStorage reports what it repaired (a truncated torn tail, a removed stale file). */
export interface StorageLogger {
  warn(message: string): void;
}

export interface FileStorageOptions {
  /**
   * Group commit (default true): saves that arrive while a write and sync are
   * in flight are written together and covered by the next single sync.
   * `false` writes and syncs each save on its own (for benchmarks).
   */
  groupCommit?: boolean;
  /** Receives a message for every repair done at load. Default: none. */
  logger?: StorageLogger;
  /**
   * Rewrite the live segment (dropping superseded records such as old hard
   * states and overwritten entries) once it exceeds this many bytes and twice
   * its size after the previous rewrite. Default 64 MiB. A snapshot always
   * starts a new segment.
   */
  segmentRewriteBytes?: number;
}

/** Counters of the I/O FileStorage did, for tests and benchmarks. */
export interface FileStorageStats {
  /** Record groups (saves with content) appended to the live segment. */
  appends: number;
  /** Batches written (one per sync of the live segment when group commit is on). */
  batches: number;
  /** fdatasync calls on the live segment. */
  logSyncs: number;
  /** fsync calls on freshly written temp files (segments and snapshots). */
  fileSyncs: number;
  /** fsync calls on the directory. */
  dirSyncs: number;
  /** New segments started (snapshots and size-triggered rewrites). */
  rewrites: number;
  /** Bytes written to segment and snapshot files. */
  bytesWritten: number;
}

interface PendingSave {
  snapshot: Snapshot | undefined;
  entries: LogEntry[] | undefined;
  hardState: HardState | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const WAL_NAME = /^wal-(\d{10})\.log$/;
const SNAP_NAME = /^snap-(\d{10})\.snap$/;
const walName = (generation: number) => `wal-${String(generation).padStart(10, '0')}.log`;
const snapName = (generation: number) => `snap-${String(generation).padStart(10, '0')}.snap`;

/**
 * A durable Storage in one directory.
 *
 * Usage: `const storage = new FileStorage(dir)`, then `load()` once (it
 * creates the directory, recovers and opens the live segment; the Raft node
 * calls it), then `save()` any number of times, then `close()`.
 *
 * Durability: when `save()` resolves, that update and all earlier ones have
 * been written and fdatasynced (plus a directory fsync when a file was
 * created or renamed), so they survive a process crash or power loss on a
 * disk that honours flushes. Saves take effect in call order; a crash keeps
 * a prefix of the saves (each save whole or not at all).
 *
 * One process at a time: two FileStorages on the same directory corrupt it.
 */
export class FileStorage implements Storage {
  readonly directory: string;
  private readonly groupCommit: boolean;
  private readonly logger: StorageLogger | undefined;
  private readonly segmentRewriteBytes: number;

  private readonly statsCounters: FileStorageStats = {
    appends: 0,
    batches: 0,
    logSyncs: 0,
    fileSyncs: 0,
    dirSyncs: 0,
    rewrites: 0,
    bytesWritten: 0,
  };

  /** The state after every save handed to the writer so far (ahead of disk while a batch is in flight). */
  private state = new LogState();
  private phase: 'new' | 'loading' | 'open' | 'closing' | 'closed' = 'new';
  private loading: Promise<StoredState> | null = null;
  private closing: Promise<void> | null = null;
  /** Set once a write fails; every later save rejects with it. */
  private failure: StorageError | null = null;

  /** Invariant while open: the live segment `wal-<generation>.log`, opened read-write. */
  private handle: FileHandle | null = null;
  private generation = 0;
  /** Invariant while open: bytes of the live segment that hold whole record groups. */
  private size = 0;
  /** Size of the live segment right after it was created. */
  private baseSize = 0;
  /** The snapshot file the live segment builds on, or null. */
  private marker: SnapshotMarker | null = null;

  private queue: PendingSave[] = [];
  private flushing: Promise<void> | null = null;

  constructor(directory: string, options: FileStorageOptions = {}) {
    this.directory = directory;
    this.groupCommit = options.groupCommit ?? true;
    this.logger = options.logger;
    this.segmentRewriteBytes = options.segmentRewriteBytes ?? 64 * 1024 * 1024;
  }

  /** A snapshot of the I/O counters. */
  get stats(): FileStorageStats {
    return { ...this.statsCounters };
  }

  /**
   * Opens the directory and returns what completed saves wrote. The first
   * call recovers: it truncates a torn tail of the live segment (logged) and
   * removes stale files; it rejects with code `STORAGE_CORRUPT` (message
   * naming file and offset) when damage is found anywhere but at the tail.
   * A later call returns the state after every save made so far. After
   * `close()` (even one still in progress), `load()` reopens the directory
   * and recovers again: a node restarted on the same FileStorage object
   * (`RaftInterface.end()` then a new node) sees exactly what is on disk.
   */
  async load(): Promise<StoredState> {
    if (this.closing) await this.closing;
    if (this.phase === 'closed') this.reset();
    if (this.phase === 'open') {
      await this.idle();
      return this.state.toStored();
    }
    if (!this.loading) {
      this.phase = 'loading';
      this.loading = this.recover().then(
        () => {
          this.phase = 'open';
          return this.state.toStored();
        },
        async (error: unknown) => {
          await this.handle?.close().catch(() => undefined);
          this.handle = null;
          this.phase = 'new';
          this.loading = null;
          throw error;
        },
      );
    }
    return this.loading;
  }

  /**
   * Queues `update`; resolves once it and every earlier save are durable.
   * The update is copied at the call. Rejects with `STORAGE_INVALID_UPDATE`
   * for entries that would leave a hole (the update is not applied),
   * `STORAGE_CLOSED` before `load()` or after `close()`, `STORAGE_FAILED`
   * when a write failed (then the state on disk is unknown until a new load).
   */
  save(update: StorageUpdate): Promise<void> {
    if (this.phase !== 'open') {
      return Promise.reject(new StorageError('STORAGE_CLOSED', `FileStorage ${this.directory}: save() before load() or after close()`));
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        snapshot: update.snapshot ? structuredClone(update.snapshot) : undefined,
        entries: update.entries && update.entries.length > 0 ? structuredClone(update.entries) : undefined,
        hardState: update.hardState ? structuredClone(update.hardState) : undefined,
        resolve,
        reject,
      });
      // Start the writer after the current task's synchronous saves have queued.
      this.flushing ??= Promise.resolve().then(() => this.flushLoop());
    });
  }

  /**
   * Waits for queued saves to finish, then releases the file handle. Saves
   * made after the call reject with `STORAGE_CLOSED`. Idempotent; a later
   * `load()` reopens.
   */
  close(): Promise<void> {
    if (this.phase === 'new' || this.phase === 'closed') return Promise.resolve();
    this.closing ??= (async () => {
      if (this.phase === 'loading') await this.loading?.catch(() => undefined);
      this.phase = 'closing';
      try {
        await this.idle();
        await this.handle?.close();
      } finally {
        this.handle = null;
        this.phase = 'closed';
        this.closing = null;
      }
    })();
    return this.closing;
  }

  /** Forgets everything held in memory, for a load() after close(). */
  private reset(): void {
    this.state = new LogState();
    this.phase = 'new';
    this.loading = null;
    this.failure = null;
    this.generation = 0;
    this.size = 0;
    this.baseSize = 0;
    this.marker = null;
    this.truncateTo = null;
  }

  private async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  // ---- writer ------------------------------------------------------------

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.groupCommit ? this.queue.splice(0) : this.queue.splice(0, 1);
        if (this.failure) {
          for (const item of batch) item.reject(this.failure);
          continue;
        }
        await this.writeBatch(batch);
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Applies `batch` in order to the in-memory state, writes it, syncs once, then settles it. */
  private async writeBatch(batch: PendingSave[]): Promise<void> {
    const accepted: PendingSave[] = [];
    const groups: Buffer[] = [];
    let snapshotChanged = false;
    for (const item of batch) {
      const problem = this.checkUpdate(item);
      if (problem) {
        item.reject(new StorageError('STORAGE_INVALID_UPDATE', `FileStorage ${this.directory}: ${problem}`));
        continue;
      }
      if (item.snapshot) {
        this.state.applySnapshot(item.snapshot);
        snapshotChanged = true;
      }
      if (item.entries) this.state.applyEntries(item.entries);
      if (item.hardState) this.state.hardState = item.hardState;
      const records: RecordInput[] = [];
      if (item.entries) records.push({ type: RecordType.Entries, payload: { from: item.entries[0].index, entries: item.entries } });
      if (item.hardState) records.push({ type: RecordType.HardState, payload: item.hardState });
      if (records.length > 0) groups.push(encodeGroup(records));
      accepted.push(item);
    }
    try {
      const bytes = groups.reduce((sum, g) => sum + g.length, 0);
      const grown = this.size + bytes > this.segmentRewriteBytes && this.size + bytes > 2 * this.baseSize;
      if (snapshotChanged || grown) {
        // The new segment is written from the state, which already includes this batch.
        await this.startSegment(snapshotChanged);
      } else if (bytes > 0) {
        const data = groups.length === 1 ? groups[0] : Buffer.concat(groups, bytes);
        await this.writeAll(this.liveHandle(), data, this.size);
        await this.liveHandle().datasync();
        this.statsCounters.logSyncs++;
        this.statsCounters.batches++;
        this.statsCounters.appends += groups.length;
        this.size += bytes;
      }
    } catch (error) {
      this.failure = new StorageError('STORAGE_FAILED', `FileStorage ${this.directory}: write failed, state on disk unknown: ${String(error)}`, { cause: error });
      for (const item of accepted) item.reject(this.failure);
      return;
    }
    for (const item of accepted) item.resolve();
  }

  /** Why `item` cannot be applied after the current state, or null. */
  private checkUpdate(item: PendingSave): string | null {
    if (!item.entries) return null;
    if (!item.snapshot) return this.state.checkEntries(item.entries);
    // Check against the state the snapshot would leave, without mutating.
    const after = new LogState();
    const kept = this.state.entries[item.snapshot.index - this.state.firstIndex];
    after.snapshot = item.snapshot;
    if (kept && kept.term === item.snapshot.term) after.entries = this.state.entries.slice(item.snapshot.index - this.state.firstIndex + 1);
    return after.checkEntries(item.entries);
  }

  /**
   * Starts generation+1: writes the snapshot file when it changed, then a new
   * segment holding the whole current state, each via temp file -> fsync ->
   * rename -> directory fsync; switches to it and deletes older files. A crash
   * before the segment rename leaves the previous generation live.
   */
  private async startSegment(snapshotChanged: boolean): Promise<void> {
    const generation = this.generation + 1;
    let marker = this.marker;
    const snapshot = this.state.snapshot;
    if (snapshotChanged && snapshot) {
      const body = Buffer.from(JSON.stringify(snapshot), 'utf8');
      marker = { file: snapName(generation), index: snapshot.index, term: snapshot.term, size: body.length, crc: crc32(body) };
      await this.writeFileDurably(marker.file, encodeSnapshotFile(body));
      await this.syncDirectory();
    }
    const first: RecordInput[] = [];
    if (marker) first.push({ type: RecordType.SnapshotMarker, payload: marker });
    if (this.state.hardState) first.push({ type: RecordType.HardState, payload: this.state.hardState });
    if (this.state.entries.length > 0) {
      first.push({ type: RecordType.Entries, payload: { from: this.state.firstIndex, entries: this.state.entries } });
    }
    const content = encodeSegment(first.length > 0 ? encodeGroup(first) : null);
    await this.writeFileDurably(walName(generation), content);
    await this.syncDirectory();
    // The new generation is durable and live from here on.
    const previous = this.handle;
    this.handle = await open(join(this.directory, walName(generation)), 'r+');
    this.generation = generation;
    this.marker = marker;
    this.size = this.baseSize = content.length;
    this.statsCounters.rewrites++;
    await previous?.close();
    await this.removeStaleFiles();
  }

  /** Writes `name` as temp file -> write -> fsync -> close -> rename. The caller fsyncs the directory. */
  private async writeFileDurably(name: string, data: Buffer): Promise<void> {
    const temp = join(this.directory, `${name}.tmp`);
    const handle = await open(temp, 'w');
    try {
      await this.writeAll(handle, data, 0);
      await handle.sync();
      this.statsCounters.fileSyncs++;
    } finally {
      await handle.close();
    }
    await rename(temp, join(this.directory, name));
  }

  private async writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
    this.statsCounters.bytesWritten += data.length;
  }

  /** Makes renames and creations in the directory durable (no-op where directories cannot be opened, e.g. Windows). */
  private async syncDirectory(): Promise<void> {
    let dir: FileHandle;
    try {
      dir = await open(this.directory, 'r');
    } catch (error) {
      if (process.platform === 'win32') return;
      throw error;
    }
    try {
      await dir.sync();
      this.statsCounters.dirSyncs++;
    } catch (error) {
      if (process.platform !== 'win32') throw error;
    } finally {
      await dir.close();
    }
  }

  private liveHandle(): FileHandle {
    if (!this.handle) throw new StorageError('STORAGE_CLOSED', `FileStorage ${this.directory} has no open segment`);
    return this.handle;
  }

  /** Deletes segments and snapshots other than the live ones, and temp files. Best effort: failures are logged. */
  private async removeStaleFiles(): Promise<void> {
    const live = new Set([walName(this.generation), this.marker?.file]);
    for (const name of await readdir(this.directory)) {
      const ours = WAL_NAME.test(name) || SNAP_NAME.test(name) || name.endsWith('.tmp');
      if (!ours || live.has(name)) continue;
      try {
        await unlink(join(this.directory, name));
      } catch (error) {
        this.logger?.warn(`FileStorage ${this.directory}: could not remove stale file ${name}: ${String(error)}`);
      }
    }
  }

  // ---- recovery ----------------------------------------------------------

  private async recover(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const names = await readdir(this.directory);
    const generations = names
      .map((name) => WAL_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    if (generations.length === 0) {
      if (names.some((name) => SNAP_NAME.test(name))) {
        throw new StorageError('STORAGE_CORRUPT', `FileStorage ${this.directory}: snapshot files but no log segment`);
      }
      await this.startSegment(false);
      return;
    }
    this.generation = generations[generations.length - 1];
    const file = join(this.directory, walName(this.generation));
    await this.replay(file, await readFile(file));
    this.handle = await open(file, 'r+');
    if (this.truncateTo !== null) {
      await this.handle.truncate(this.truncateTo);
      await this.handle.datasync();
      this.statsCounters.logSyncs++;
    }
    await this.removeStaleFiles();
  }

  /** Set by replay() when the segment has a torn tail to cut at this offset. */
  private truncateTo: number | null = null;

  /** Rebuilds the state from the segment `buf`; sets `size` and `truncateTo`. */
  private async replay(file: string, buf: Buffer): Promise<void> {
    const corrupt = (offset: number, what: string) =>
      new StorageError('STORAGE_CORRUPT', `FileStorage: ${file} is corrupt at offset ${offset}: ${what}`);
    const baseEnd = decodeSegmentHeader(buf);
    if (baseEnd === null || baseEnd > buf.length) throw corrupt(0, 'bad segment header');
    this.baseSize = baseEnd;
    let offset = SEGMENT_HEADER_BYTES;
    let groupStart = offset;
    let group: DecodedRecord[] = [];
    this.truncateTo = null;
    while (offset < buf.length) {
      const record = readRecord(buf, offset);
      if (!('type' in record)) {
        // The base was fsynced before the segment was renamed into place: it is never torn.
        if (offset < baseEnd) throw corrupt(offset, `${record.damage} in the segment's base (written before rename)`);
        if (validRecordFollows(buf, offset)) throw corrupt(offset, `${record.damage}, followed by valid records`);
        this.logger?.warn(`FileStorage: ${file}: ${record.damage} at offset ${offset}; truncating the torn tail of ${buf.length - groupStart} bytes at offset ${groupStart}`);
        this.truncateTo = groupStart;
        break;
      }
      group.push(record);
      offset = record.end;
      if (!record.continued) {
        for (const r of group) await this.applyRecord(file, r, corrupt);
        group = [];
        groupStart = offset;
      }
    }
    if (this.truncateTo === null && group.length > 0) {
      if (groupStart < baseEnd) throw corrupt(groupStart, "incomplete save in the segment's base (written before rename)");
      this.logger?.warn(`FileStorage: ${file}: incomplete save at the end; truncating ${buf.length - groupStart} bytes at offset ${groupStart}`);
      this.truncateTo = groupStart;
    }
    this.size = this.truncateTo ?? buf.length;
  }

  private async applyRecord(file: string, record: DecodedRecord, corrupt: (offset: number, what: string) => StorageError): Promise<void> {
    const payload = record.payload as Record<string, unknown> | null;
    if (typeof payload !== 'object' || payload === null) throw corrupt(record.offset, 'record payload is not an object');
    switch (record.type) {
      case RecordType.SnapshotMarker: {
        if (record.offset !== SEGMENT_HEADER_BYTES) throw corrupt(record.offset, 'snapshot marker after the first record');
        const marker = payload as unknown as SnapshotMarker;
        if (typeof marker.file !== 'string' || !SNAP_NAME.test(marker.file)) throw corrupt(record.offset, 'bad snapshot marker');
        const path = join(this.directory, marker.file);
        let bytes: Buffer;
        try {
          bytes = await readFile(path);
        } catch (error) {
          throw new StorageError('STORAGE_CORRUPT', `FileStorage: ${file} at offset ${record.offset} names snapshot ${path}, which cannot be read`, { cause: error });
        }
        const decoded = decodeSnapshotFile(bytes);
        if ('damage' in decoded || decoded.crc !== marker.crc || decoded.body.length !== marker.size) {
          throw new StorageError('STORAGE_CORRUPT', `FileStorage: snapshot ${path} is corrupt at offset 0: ${'damage' in decoded ? decoded.damage : 'does not match its marker'}`);
        }
        const snapshot = JSON.parse(decoded.body.toString('utf8')) as Snapshot;
        if (snapshot.index !== marker.index || snapshot.term !== marker.term) throw corrupt(record.offset, `snapshot ${path} does not match its marker`);
        this.state.applySnapshot(snapshot);
        this.marker = marker;
        return;
      }
      case RecordType.HardState:
        if (typeof payload.term !== 'number') throw corrupt(record.offset, 'bad hard state record');
        this.state.hardState = payload as unknown as HardState;
        return;
      case RecordType.Entries: {
        const entries = payload.entries as LogEntry[];
        if (!Array.isArray(entries) || entries.length === 0 || entries[0].index !== payload.from) throw corrupt(record.offset, 'bad entries record');
        const problem = this.state.checkEntries(entries);
        if (problem) throw corrupt(record.offset, problem);
        this.state.applyEntries(entries);
        return;
      }
    }
  }
}
