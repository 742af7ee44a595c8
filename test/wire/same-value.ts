/**
 * Test helper: structural equality that reads own properties only, so keys
 * named `__proto__` or `constructor` compare as data (vitest's toStrictEqual
 * trips on an own `constructor` key). Prototypes must match too.
 */
import { expect } from 'vitest';

export function isSameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((byte, i) => byte === b[i]);
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.hasOwn(b, key)) return false;
    const valueA: unknown = Object.getOwnPropertyDescriptor(a, key)?.value;
    const valueB: unknown = Object.getOwnPropertyDescriptor(b, key)?.value;
    if (!isSameValue(valueA, valueB)) return false;
  }
  return true;
}

const show = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? `Uint8Array(${Array.from(v).join(',')})` : v));

/** Asserts {@link isSameValue}, printing both sides as JSON on failure. */
export function expectSameValue(actual: unknown, expected: unknown): void {
  if (!isSameValue(actual, expected)) expect(show(actual)).toBe(show(expected));
  expect(isSameValue(actual, expected)).toBe(true);
}
