import type { HardState, LogEntry, Snapshot } from '../core/types.js';

/** What a storage holds when a node starts: everything its completed saves wrote. */
export interface StoredState {
  /** The last saved hard state, or null for a storage never written to. */
  hardState: HardState | null;
  /** The last saved snapshot, or null. */
  snapshot: Snapshot | null;
  /**
   * The log after the snapshot, in index order and contiguous. Invariant: when
   * `snapshot` is set, `entries[0].index === snapshot.index + 1` (or entries is empty).
   */
  entries: LogEntry[];
}

/**
 * One batch of changes to persist. Parts are applied in this order:
 * 1. `snapshot`: replaces the state machine image; every log entry with
 *    `index <= snapshot.index` is discarded (§7), and when the log does not
 *    hold `snapshot.index` with `snapshot.term` the whole log is discarded.
 * 2. `entries`: every stored entry with `index >= entries[0].index` is removed
 *    (a conflicting suffix, §5.3), then `entries` are appended. They are
 *    contiguous and start at most one past the last stored index.
 * 3. `hardState`: replaces the stored hard state.
 * Saving a snapshot is how the log is compacted: nothing at or below its index is kept.
 *
 * Entry objects are immutable once created: nothing changes an entry after it
 * is passed to `save` (the core never does), so a storage may keep them by
 * reference. The `update`, `snapshot` and `hardState` objects may be reused by
 * the caller once `save` returns.
 */
export interface StorageUpdate {
  snapshot?: Snapshot;
  entries?: LogEntry[];
  hardState?: HardState;
}

/**
 * Where a node keeps its Raft state. The core never calls a storage directly:
 * the API layer saves each batch the core asks for and sends the messages that
 * depend on it only after the save's promise resolves (§5.1: term and vote
 * before a vote is sent; entries before AppendEntries is acknowledged).
 *
 * Durability contract:
 * - When `save(update)` resolves, that update and every update passed to an
 *   earlier `save` call are durable: a process crash right after must not lose
 *   them, and `load()` in a new process returns them.
 * - Calls to `save` may overlap; updates take effect in call order. A crash may
 *   lose updates whose promises had not resolved, but never leaves a later
 *   update applied without an earlier one (no holes), and never a torn entry.
 * - `load()` is called once per node run, before any `save` of that run. A node
 *   restarted on the same storage object calls `load()` again, possibly while
 *   the previous run's `close()` is still finishing: wait for it.
 * - One update is applied whole or not at all.
 * A save that rejects stops the node: the state on disk is unknown.
 */
export interface Storage {
  load(): Promise<StoredState>;
  save(update: StorageUpdate): Promise<void>;
  /** Optional: release files or handles (after finishing queued saves). Called by `RaftInterface.end()`. */
  close?(): Promise<void> | void;
}
