/**
 * copyTrustedJson: the copy a node makes of its own (already checked) log
 * commands for each payload. It must equal the validating copy, share no
 * object with the log, keep `__proto__` keys as own data, and count the same
 * size against maxPayloadBytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/core/types.js';
import { copyTrustedJson, inheritedKeysEnumerable } from '../../src/core/json.js';
import { copyJsonValue, handleCommand } from '../../src/wire/json-value.js';
import { DEFAULT_WIRE_LIMITS, resolveLimits } from '../../src/wire/limits.js';
import { newBudget } from '../../src/wire/walk-budget.js';
import { FUZZ, jsonValue } from './arbitraries.js';

/** Every object and array inside `value`, itself included. */
function containers(value: unknown, out = new Set<object>()): Set<object> {
  if (typeof value === 'object' && value !== null) {
    out.add(value);
    for (const member of Object.values(value)) containers(member, out);
  }
  return out;
}

describe('copyTrustedJson', () => {
  it('equals the validating copy, shares no object with the original and counts the same size', () => {
    fc.assert(
      fc.property(jsonValue(), (value) => {
        const checked = newBudget(DEFAULT_WIRE_LIMITS);
        const expected = copyJsonValue(value, 'command', checked, true);
        const trusted = newBudget(DEFAULT_WIRE_LIMITS);
        const copy = copyTrustedJson(value, trusted);
        expect(JSON.stringify(copy)).toBe(JSON.stringify(expected));
        for (const inner of containers(copy)) {
          expect(Object.getPrototypeOf(inner)).toBe(Array.isArray(inner) ? Array.prototype : Object.prototype);
        }
        expect(trusted.size).toBe(checked.size);
        const originals = containers(value);
        for (const inner of containers(copy)) expect(originals.has(inner)).toBe(false);
      }),
      FUZZ,
    );
  });

  it('keeps __proto__ as an own key and pollutes nothing', () => {
    const value = JSON.parse('{"__proto__":{"polluted":1},"a":[{"__proto__":[1]}]}') as JsonValue;
    const copy = copyTrustedJson(value, newBudget(DEFAULT_WIRE_LIMITS)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":1},"a":[{"__proto__":[1]}]}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('as a trusted-copy command, still refuses a payload over maxPayloadBytes, naming the field', () => {
    const budget = newBudget(resolveLimits({ maxPayloadBytes: 100 }));
    expect(() => handleCommand({ text: 'x'.repeat(200) }, 'proposeRequest', 'command', budget, 'trusted-copy')).toThrow(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED', field: 'proposeRequest.command' }),
    );
  });

  it('with an enumerable property on Object.prototype (polluted by other code), neither copy takes inherited keys', () => {
    // The walks skip the per-key own-property check unless for-in can see inherited keys.
    const value = { a: { b: [1, { c: 'x' }] }, d: null } as JsonValue;
    const before = { trusted: copyTrustedJson(value, newBudget(DEFAULT_WIRE_LIMITS)), checked: copyJsonValue(value, 'command', newBudget(DEFAULT_WIRE_LIMITS), true) };
    const prototype = Object.prototype as Record<string, unknown>;
    prototype.inheritedForTest = 'polluted';
    try {
      expect(inheritedKeysEnumerable()).toBe(true);
      const trustedBudget = newBudget(DEFAULT_WIRE_LIMITS);
      const checkedBudget = newBudget(DEFAULT_WIRE_LIMITS);
      const trusted = copyTrustedJson(value, trustedBudget);
      const checked = copyJsonValue(value, 'command', checkedBudget, true);
      const own = (copy: JsonValue) => [...containers(copy)].filter((inner) => !Array.isArray(inner)).map((inner) => Object.keys(inner));
      expect(own(trusted)).toEqual(own(before.trusted));
      expect(own(checked)).toEqual(own(before.checked));
      expect(trustedBudget.size).toBe(checkedBudget.size);
    } finally {
      delete prototype.inheritedForTest;
    }
    expect(inheritedKeysEnumerable()).toBe(false);
  });
});
