import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromPayload, isWireError, toPayload } from '../../src/wire/index.js';
import { FUZZ, message } from './arbitraries.js';
import { expectSameValue } from './same-value.js';

/** A valid payload with one random mutation: a field replaced by random JSON, deleted, or an extra body added. */
const mutatedPayload = fc
  .tuple(message(), fc.nat(), fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('replace', 'delete', 'addBody', 'nullify'))
  .map(([m, pick, junk, action]) => {
    const payload = toPayload(m) as Record<string, unknown>;
    const holders: Record<string, unknown>[] = [];
    const collect = (value: unknown): void => {
      if (typeof value === 'object' && value !== null) {
        if (!Array.isArray(value)) holders.push(value as Record<string, unknown>);
        for (const child of Object.values(value)) collect(child);
      }
    };
    collect(payload);
    const holder = holders[pick % holders.length];
    const keys = Object.keys(holder);
    const key = keys.length === 0 ? 'term' : keys[pick % keys.length];
    if (action === 'replace') holder[key] = junk;
    else if (action === 'delete') delete holder[key];
    else if (action === 'nullify') holder[key] = null;
    else payload.readIndexRequest = {};
    return payload;
  });

describe('wire fuzzing (seeded)', () => {
  it('fromPayload(toPayload(m)) deep-equals m, also through JSON text', () => {
    fc.assert(
      fc.property(message(), (m) => {
        const payload = toPayload(m);
        const viaJson = JSON.parse(JSON.stringify(payload)) as unknown;
        expectSameValue(viaJson, payload);
        expectSameValue(fromPayload(viaJson, { from: m.from }), { ok: true, message: m });
      }),
      FUZZ,
    );
  });

  it('fromPayload never throws on mutated payloads and answers ok or a coded WireError', () => {
    fc.assert(
      fc.property(mutatedPayload, (payload) => {
        const result = fromPayload(payload);
        if (!result.ok) {
          expect(isWireError(result.error)).toBe(true);
          expect(typeof result.error.code).toBe('string');
        } else {
          expect(() => toPayload(result.message)).not.toThrow();
        }
      }),
      { ...FUZZ, numRuns: 1000 },
    );
  });

  it('fromPayload never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (value) => {
        const result = fromPayload(value);
        expect(result.ok || isWireError(result.error)).toBe(true);
      }),
      { ...FUZZ, numRuns: 500 },
    );
  });
});
