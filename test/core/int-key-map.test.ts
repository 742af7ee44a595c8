import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntKeyMap } from '../../src/core/int-key-map.js';

type Op =
  | { kind: 'set'; key: number; value: number }
  | { kind: 'delete'; key: number }
  | { kind: 'deleteBelow'; key: number }
  | { kind: 'clear' };

/** Keys as the map meets them: mostly a rising counter, sometimes old, far-out or odd ones. */
const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0.5, Number.MAX_SAFE_INTEGER, 70_000, 65_536, 65_535) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), key: keyArb, value: fc.integer() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBelow' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
);

function sortedEntries(entries: Iterable<[number, number]>): [number, number][] {
  return [...entries].sort((a, b) => a[0] - b[0]);
}

describe('IntKeyMap', () => {
  it('behaves like a Map under any sequence of operations (same contents, sizes and lookups)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const map = new IntKeyMap<number>();
        const reference = new Map<number, number>();
        for (const op of ops) {
          if (op.kind === 'set') {
            map.set(op.key, op.value);
            reference.set(op.key, op.value);
          } else if (op.kind === 'delete') {
            expect(map.delete(op.key)).toBe(reference.delete(op.key));
          } else if (op.kind === 'deleteBelow') {
            map.deleteBelow(op.key);
            for (const key of [...reference.keys()]) if (key < op.key) reference.delete(key);
          } else {
            map.clear();
            reference.clear();
          }
          expect(map.size).toBe(reference.size);
        }
        expect(sortedEntries(map.entries())).toEqual(sortedEntries(reference.entries()));
        expect(map.values().length).toBe(reference.size);
        for (const key of [...reference.keys(), -1, 0, 1, 150, 70_000]) {
          expect(map.get(key)).toBe(reference.get(key));
          expect(map.has(key)).toBe(reference.has(key));
        }
      }),
      { seed: 20261127, numRuns: 500 },
    );
  });

  it('iterates the window in ascending key order', () => {
    const map = new IntKeyMap<string>();
    for (const key of [5, 7, 6, 9, 8]) map.set(key, `v${key}`);
    map.delete(7);
    expect(map.entries().map(([key]) => key)).toEqual([5, 6, 8, 9]);
    expect(map.values()).toEqual(['v5', 'v6', 'v8', 'v9']);
  });

  it('keeps only a bounded slot array under constant churn (keys rising forever)', () => {
    const map = new IntKeyMap<number>();
    for (let key = 0; key < 200_000; key++) {
      map.set(key, key);
      if (key >= 1000) map.delete(key - 1000);
    }
    expect(map.size).toBe(1000);
    expect(map.entries()[0][0]).toBe(199_000);
    // The consumed prefix is dropped: the array stays within a small multiple of the live window.
    expect((map as unknown as { slots: unknown[] }).slots.length).toBeLessThan(4 * 1024);
  });
});
