import { InvariantError } from './errors.js';
import { jsonSizeEstimate } from './json.js';
import type { LogEntry, Snapshot } from './types.js';

/**
 * Bytes counted per entry besides its command, client id and configuration:
 * index, term, type, sequence and firstOutstandingSequence at 8 each, plus 8
 * for the client id field. At least what the wire's size estimate counts for
 * those fields, so a message the core sizes under the wire's maxPayloadBytes
 * passes the wire's check (test/core/entry-size.test.ts).
 */
const ENTRY_OVERHEAD_BYTES = 48;

/**
 * Estimated encoded size of an entry, for the bytes-per-message limit, on the
 * wire's scale (see `jsonSizeEstimate` in json.ts). `commandBytes` is the command's
 * estimate when the caller already made it (a proposal's, from validating it).
 */
export function entryByteSize(entry: LogEntry, commandBytes?: number): number {
  const command = commandBytes ?? (entry.command === undefined ? 0 : jsonSizeEstimate(entry.command));
  let size = ENTRY_OVERHEAD_BYTES + command + (entry.clientId?.length ?? 0);
  const configuration = entry.configuration;
  if (configuration) {
    for (const address of configuration.voters) size += address.length + 8;
    for (const address of configuration.learners) size += address.length + 8;
  }
  return size;
}

/**
 * The in-memory Raft log (§5.3) with its compaction offset (§7).
 *
 * Entries with index <= `snapshotIndex` are covered by the snapshot. The log
 * may still hold some of them in memory, from `firstIndex()` on (a leader keeps
 * those a follower installing an older snapshot will need next); below that
 * they live only in the snapshot. Entries up to `stableIndex` have been
 * persisted; the rest are waiting for a save.
 */
export class RaftLog {
  /** Invariant: `entries[i].index === offsetIndex + 1 + i`. */
  private entries: LogEntry[] = [];
  /** `byteSizes[i]` is `entryByteSize(entries[i])`, or 0 while not yet measured. Same length as `entries`. */
  private byteSizes: number[] = [];
  /** Index of the entry just before the first one in memory. Invariant: `offsetIndex <= snapshotIndex`. */
  private offsetIndex = 0;
  /** Term of the entry at `offsetIndex`; 0 when none. */
  private offsetTerm = 0;
  /** Index of the last entry covered by the snapshot; 0 when none. */
  snapshotIndex = 0;
  /** Invariant: `snapshotIndex <= commitIndex <= lastIndex()`. */
  commitIndex = 0;
  /** Highest index whose entry is durable in storage. Invariant: `stableIndex <= lastIndex()`. */
  stableIndex = 0;
  /** Lowest index not yet handed to storage (the start of the unstable suffix). */
  unstableFrom = 1;

  /** Index of the first entry still held in memory (at most `snapshotIndex + 1`). */
  firstIndex(): number {
    return this.offsetIndex + 1;
  }

  lastIndex(): number {
    return this.offsetIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1].term : this.offsetTerm;
  }

  /** Term of the entry at `index`, or undefined when it is compacted away or beyond the end. */
  termAt(index: number): number | undefined {
    if (index === this.offsetIndex) return this.offsetTerm;
    if (index < this.offsetIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.offsetIndex - 1].term;
  }

  entryAt(index: number): LogEntry | undefined {
    if (index <= this.offsetIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.offsetIndex - 1];
  }

  /** True when the log holds `index` with `term` (§5.3 consistency check). */
  matchTerm(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  /**
   * Entries in [from, to] (inclusive), limited to `maxEntries` and about
   * `maxBytes` of commands (at least one entry when any is in range). The end
   * is found first and the entries copied with one builtin `Array.slice`: this
   * runs for every AppendEntries and every batch handed to apply.
   */
  slice(from: number, to: number, maxEntries = Infinity, maxBytes = Infinity): LogEntry[] {
    if (from <= this.offsetIndex) throw new InvariantError(`slice from ${from} is compacted (log starts at ${this.firstIndex()})`);
    const start = from - this.offsetIndex - 1;
    let end = Math.min(to - this.offsetIndex, this.entries.length, start + maxEntries);
    if (end <= start) return [];
    if (maxBytes !== Infinity) {
      let bytes = 0;
      for (let offset = start; offset < end; offset++) {
        let size = this.byteSizes[offset];
        if (size === 0) size = this.byteSizes[offset] = entryByteSize(this.entries[offset]);
        if (offset > start && bytes + size > maxBytes) {
          end = offset;
          break;
        }
        bytes += size;
      }
    }
    return this.entries.slice(start, end);
  }

  /** Appends `entries` from position `from` on at the end. Invariant: they continue the log contiguously. */
  append(entries: readonly LogEntry[], from = 0): void {
    for (let i = from; i < entries.length; i++) this.appendOne(entries[i]);
  }

  /**
   * Appends one entry at the end (the leader's per-proposal path: no array).
   * `commandBytes` is its command's JSON size when the caller already measured
   * it, so slicing for a byte-limited message does not serialize it again.
   * Invariant: it continues the log contiguously.
   */
  appendOne(entry: LogEntry, commandBytes?: number): void {
    if (entry.index !== this.lastIndex() + 1) {
      throw new InvariantError(`append of index ${entry.index} after ${this.lastIndex()}`);
    }
    this.entries.push(entry);
    this.byteSizes.push(commandBytes === undefined ? 0 : entryByteSize(entry, commandBytes));
  }

  /**
   * Stores entries from a leader (§5.3 step 3 and 4): an existing entry that
   * conflicts with a new one (same index, different term) is deleted with all
   * that follow; entries already present are kept. Returns the first index
   * written, or undefined when nothing changed.
   */
  maybeAppend(entries: LogEntry[]): number | undefined {
    let firstNew: number | undefined;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (entry.index <= this.snapshotIndex) continue;
      const existing = this.termAt(entry.index);
      if (existing === entry.term) continue;
      if (existing !== undefined) {
        if (entry.index <= this.commitIndex) {
          throw new InvariantError(`conflict at committed index ${entry.index} (commit ${this.commitIndex})`);
        }
        this.truncateFrom(entry.index);
      }
      this.append(entries, i);
      firstNew = entry.index;
      break;
    }
    return firstNew;
  }

  /** Removes every entry with index >= `index`. Invariant: `index > commitIndex` (so above the snapshot). */
  private truncateFrom(index: number): void {
    this.entries.length = index - this.offsetIndex - 1;
    this.byteSizes.length = this.entries.length;
    if (this.stableIndex >= index) this.stableIndex = index - 1;
    if (this.unstableFrom > index) this.unstableFrom = index;
  }

  /** Entries not yet handed to storage; marks them handed over. */
  takeUnstable(): LogEntry[] {
    if (this.unstableFrom > this.lastIndex()) return [];
    const out = this.entries.slice(this.unstableFrom - this.offsetIndex - 1);
    this.unstableFrom = this.lastIndex() + 1;
    return out;
  }

  /** Records that storage has made entries up to `index` (with `term`) durable. */
  stableTo(index: number, term: number): void {
    // A later truncation may have replaced the entry: only count it if it is still there.
    if (this.termAt(index) === term && index > this.stableIndex) this.stableIndex = index;
  }

  /** Last index whose term is <= `term`, searching back from `index` (leader side of fast backtracking). */
  lastIndexAtOrBelowTerm(term: number, index: number): number {
    let i = Math.min(index, this.lastIndex());
    while (i > this.offsetIndex) {
      const t = this.termAt(i);
      if (t !== undefined && t <= term) return i;
      i--;
    }
    return this.offsetIndex;
  }

  /**
   * Records a snapshot at `index` (§7) and drops the entries it covers, except
   * those after `keepAfter` (< `index`): entries the caller still wants in
   * memory. A suffix after `index` is kept when it matches the snapshot;
   * otherwise the whole log is replaced by the snapshot and nothing is kept.
   */
  compactTo(index: number, term: number, keepAfter = index): void {
    if (index <= this.snapshotIndex) return;
    const keepSuffix = this.termAt(index) === term;
    const newOffset = keepSuffix ? Math.max(this.offsetIndex, Math.min(keepAfter, index)) : index;
    if (keepSuffix) {
      this.offsetTerm = this.termAt(newOffset) as number;
      this.entries = this.entries.slice(newOffset - this.offsetIndex);
      this.byteSizes = this.byteSizes.slice(newOffset - this.offsetIndex);
    } else {
      this.offsetTerm = term;
      this.entries = [];
      this.byteSizes = [];
    }
    this.offsetIndex = newOffset;
    this.snapshotIndex = index;
    if (this.commitIndex < index) this.commitIndex = index;
    if (keepSuffix) {
      if (this.stableIndex < index) this.stableIndex = index;
      if (this.unstableFrom <= index) this.unstableFrom = index + 1;
    } else {
      // The whole log was replaced: nothing after the snapshot is stored or pending.
      this.stableIndex = index;
      this.unstableFrom = index + 1;
    }
  }

  /** Replaces the whole log with a snapshot received from the leader (§7). */
  restore(snapshot: Snapshot): void {
    this.compactTo(snapshot.index, snapshot.term);
  }
}
