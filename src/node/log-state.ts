/**
 * The logical content of a storage, with the update rules of `StorageUpdate`
 * (the same as MemoryStorage). FileStorage keeps one of these in memory as the
 * source for segment rewrites and rebuilds it when it replays the log.
 * @internal
 */
import type { HardState, LogEntry, Snapshot } from '../core/types.js';
import type { StoredState } from '../storage/storage.js';

export class LogState {
  hardState: HardState | null = null;
  snapshot: Snapshot | null = null;
  /** Invariant: contiguous; `entries[0].index === firstIndex` when non-empty. */
  entries: LogEntry[] = [];

  get firstIndex(): number {
    return (this.snapshot?.index ?? 0) + 1;
  }

  get lastIndex(): number {
    return this.firstIndex + this.entries.length - 1;
  }

  /** Why `entries` cannot be appended (a hole after the log), or null when they can. */
  checkEntries(entries: readonly LogEntry[]): string | null {
    if (entries.length === 0) return null;
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].index !== entries[0].index + i) return `entries are not contiguous at position ${i} (index ${entries[i].index})`;
    }
    const start = entries[0].index;
    if (!(Number.isSafeInteger(start) && start >= 1)) return `entries start at invalid index ${start}`;
    if (start > this.lastIndex + 1) return `entries start at ${start} but the log ends at ${this.lastIndex}`;
    return null;
  }

  /** §7: discards the log up to the snapshot, or all of it when it does not hold `snapshot.index` at `snapshot.term`. */
  applySnapshot(snapshot: Snapshot): void {
    const kept = this.entries[snapshot.index - this.firstIndex];
    if (kept && kept.term === snapshot.term) this.entries = this.entries.slice(snapshot.index - this.firstIndex + 1);
    else this.entries = [];
    this.snapshot = snapshot;
  }

  /** §5.3: drops every entry at or after `entries[0].index`, then appends. Precondition: `checkEntries(entries) === null`. */
  applyEntries(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    const start = entries[0].index;
    const keep = Math.max(0, start - this.firstIndex);
    this.entries.length = keep;
    for (let i = Math.max(0, this.firstIndex - start); i < entries.length; i++) this.entries.push(entries[i]);
  }

  /** A deep copy for `load()`. */
  toStored(): StoredState {
    return structuredClone({ hardState: this.hardState, snapshot: this.snapshot, entries: this.entries });
  }
}
