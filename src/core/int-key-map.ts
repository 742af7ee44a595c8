/** Keys at most this far above the window's first key are kept in the window; others overflow to a Map. */
const MAX_WINDOW = 1 << 16;
/** The consumed prefix of the slot array is dropped once it is this long and at least half the array. */
const COMPACT_AFTER = 1024;

/**
 * A map from integer keys to values for keys that are mostly added in
 * increasing order and removed oldest first: proposal sequence numbers and
 * log indexes. Such keys live in an array window (no hashing, and no hash
 * table rebuilt and garbage-collected every few thousand insertions, which is
 * what a `Map` under constant churn costs); any other key (below the window,
 * far above it, or not an integer) goes to an ordinary overflow `Map`, so
 * every key works, only the usual ones are fast.
 *
 * Values must not be `undefined` (an empty slot). `values()` and `entries()`
 * return fresh arrays: the window in ascending key order, then the
 * overflow in insertion order (deterministic for the same calls).
 */
export class IntKeyMap<V> {
  /** `slots[head + k]` holds the value of key `base + k`, or undefined when absent. */
  private slots: (V | undefined)[] = [];
  private head = 0;
  /** The key of `slots[head]`. Invariant: `slots[head] !== undefined` whenever `windowSize > 0`. */
  private base = 0;
  /** Values in the window. */
  private windowSize = 0;
  private overflow: Map<number, V> | undefined;

  get size(): number {
    return this.windowSize + (this.overflow?.size ?? 0);
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  get(key: number): V | undefined {
    const at = this.slotOf(key);
    if (at >= 0) return this.slots[at];
    return this.overflow?.get(key);
  }

  set(key: number, value: V): this {
    if (this.overflow?.has(key)) {
      this.overflow.set(key, value);
      return this;
    }
    if (this.windowSize === 0 && Number.isInteger(key)) {
      // An empty window restarts at the new key.
      this.slots.length = 0;
      this.head = 0;
      this.base = key;
    }
    const offset = key - this.base;
    if (!Number.isInteger(key) || offset < 0 || offset >= MAX_WINDOW) {
      (this.overflow ??= new Map()).set(key, value);
      return this;
    }
    const at = this.head + offset;
    while (this.slots.length < at) this.slots.push(undefined);
    if (at === this.slots.length) {
      this.slots.push(value);
      this.windowSize++;
    } else {
      if (this.slots[at] === undefined) this.windowSize++;
      this.slots[at] = value;
    }
    return this;
  }

  delete(key: number): boolean {
    const at = this.slotOf(key);
    if (at >= 0 && this.slots[at] !== undefined) {
      this.slots[at] = undefined;
      this.windowSize--;
      if (at === this.head) this.advanceHead();
      return true;
    }
    return this.overflow?.delete(key) ?? false;
  }

  /** Deletes every key below `key`. */
  deleteBelow(key: number): void {
    while (this.windowSize > 0 && this.base < key) {
      if (this.slots[this.head] !== undefined) {
        this.slots[this.head] = undefined;
        this.windowSize--;
      }
      this.head++;
      this.base++;
    }
    this.advanceHead();
    if (this.overflow) for (const k of [...this.overflow.keys()]) if (k < key) this.overflow.delete(k);
  }

  clear(): void {
    this.slots = [];
    this.head = 0;
    this.base = 0;
    this.windowSize = 0;
    this.overflow = undefined;
  }

  values(): V[] {
    const out: V[] = [];
    for (let i = this.head; i < this.slots.length; i++) {
      const value = this.slots[i];
      if (value !== undefined) out.push(value);
    }
    if (this.overflow) for (const value of this.overflow.values()) out.push(value);
    return out;
  }

  entries(): [number, V][] {
    const out: [number, V][] = [];
    for (let i = this.head; i < this.slots.length; i++) {
      const value = this.slots[i];
      if (value !== undefined) out.push([this.base + i - this.head, value]);
    }
    if (this.overflow) for (const entry of this.overflow) out.push(entry);
    return out;
  }

  /** Position of `key` in `slots`, or -1 when it is outside the window. */
  private slotOf(key: number): number {
    const offset = key - this.base;
    if (!(offset >= 0 && offset < this.slots.length - this.head) || !Number.isInteger(offset)) return -1;
    return this.head + offset;
  }

  /** Moves `head` to the first value (restoring the invariant) and drops a long consumed prefix. */
  private advanceHead(): void {
    if (this.windowSize === 0) {
      this.slots.length = 0;
      this.head = 0;
      return;
    }
    while (this.slots[this.head] === undefined) {
      this.head++;
      this.base++;
    }
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }
}
