/**
 * Test helpers shared by the checks of the one-pass encoder and decoder
 * against the reference paths they fall back to.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { WireLimits } from '../../src/wire/index.js';

/** The result of `run`, or undefined when it throws. */
export function orUndefined<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch {
    return undefined;
  }
}

/**
 * When the fast path took the input (`fast` defined), the reference must
 * accept it too and `same` must hold between both results. Returns whether
 * the fast path took it.
 */
export function agreesWithReference<T>(fast: T | undefined, reference: () => T | undefined, same: (a: T, b: T) => void): boolean {
  if (fast === undefined) return false;
  const expected = reference();
  expect(expected).toBeDefined();
  same(fast, expected as T);
  return true;
}

/** Small limits, so that fuzzed messages often hit each of them. */
export const tightLimits = (): fc.Arbitrary<WireLimits> =>
  fc.record({
    maxPayloadBytes: fc.integer({ min: 0, max: 700 }),
    maxEntriesPerMessage: fc.integer({ min: 0, max: 4 }),
    maxStringLength: fc.integer({ min: 0, max: 12 }),
    maxJsonDepth: fc.integer({ min: 0, max: 3 }),
  });
