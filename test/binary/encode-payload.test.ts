/**
 * The one-pass encoder behind `encode` (src/binary/encode-payload.ts) against
 * the reference path it falls back to (payloadToMessage, then encodeMessage):
 * whatever payload it accepts, it must return exactly the reference bytes, and
 * it must accept the canonical payload of every valid AppendEntriesRequest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/binary/encode-message.js';
import { encodePayloadFast } from '../../src/binary/encode-payload.js';
import { encode } from '../../src/binary/index.js';
import { DEFAULT_WIRE_LIMITS, payloadToMessage, toPayload, type WireLimits } from '../../src/wire/index.js';
import { FUZZ, message } from '../wire/arbitraries.js';
import { SAMPLE_MESSAGES } from '../wire/samples.js';
import { agreesWithReference, orUndefined, tightLimits } from './fast-path.js';

const reference = (payload: unknown, limits: Readonly<WireLimits>): Uint8Array | undefined =>
  orUndefined(() => encodeMessage(payloadToMessage(payload, undefined, limits, false)));

/** Checks the fast encoder against the reference; returns whether it took the payload. */
function agrees(payload: unknown, limits: Readonly<WireLimits> = DEFAULT_WIRE_LIMITS): boolean {
  return agreesWithReference(encodePayloadFast(payload, limits), () => reference(payload, limits), (fast, expected) =>
    expect(Array.from(fast)).toStrictEqual(Array.from(expected)),
  );
}

const appendEntries = message().filter((m) => m.body.type === 'AppendEntriesRequest');

/** Every [parent, key] position inside a JSON payload. */
function positions(value: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []): typeof out {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([value, i]), positions(v, out)));
  else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) out.push([value as Record<string, unknown>, key]), positions((value as Record<string, unknown>)[key], out);
  }
  return out;
}

const HOSTILE: unknown[] = [
  null, undefined, -1, -0, 0, 1, 1.5, NaN, Infinity, 2 ** 53, '', 'x', '0', '01', '-1', '9007199254740992', '\uD800', true, false,
  {}, [], [1], { a: 1 }, 'ENTRY_TYPE_NOOP', 'ENTRY_TYPE_CONFIGURATION', 2, 3, new Date(0), new Uint8Array(1),
];

describe('encodePayloadFast', () => {
  it('takes the canonical payload of every sample AppendEntriesRequest and returns the reference bytes', () => {
    for (const m of Object.values(SAMPLE_MESSAGES)) {
      expect(agrees(toPayload(m))).toBe(m.body.type === 'AppendEntriesRequest');
    }
  });

  it('takes every valid AppendEntriesRequest payload, with uint64 as strings or as numbers (fuzzed)', () => {
    fc.assert(
      fc.property(appendEntries, (m) => {
        const payload = toPayload(m);
        expect(agrees(payload)).toBe(true);
        const numeric = JSON.parse(JSON.stringify(payload), (key, v: unknown) =>
          typeof v === 'string' && /^(0|[1-9]\d*)$/.test(v) && key !== 'clientId' && Number(v) <= Number.MAX_SAFE_INTEGER ? Number(v) : v,
        ) as unknown;
        agrees(numeric);
      }),
      { ...FUZZ, numRuns: 1000 },
    );
  });

  it('under tight limits, accepts only what the reference accepts, with the same bytes', () => {
    let taken = 0;
    let rejected = 0;
    fc.assert(
      fc.property(appendEntries, tightLimits(), (m, l) => {
        const payload = toPayload(m);
        if (agrees(payload, l)) taken++;
        else if (reference(payload, l) === undefined) rejected++;
        else expect.unreachable('declined a canonical payload the reference accepts under the same limits');
      }),
      { ...FUZZ, numRuns: 1500 },
    );
    expect(taken).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
  });

  it('on mutated payloads, accepts only what the reference accepts, with the same bytes', () => {
    fc.assert(
      fc.property(appendEntries, fc.array(fc.tuple(fc.nat(), fc.nat({ max: HOSTILE.length - 1 })), { minLength: 1, maxLength: 3 }), (m, edits) => {
        const payload = toPayload(m);
        for (const [at, pick] of edits) {
          const all = positions(payload);
          const [parent, key] = all[at % all.length];
          (parent as Record<string | number, unknown>)[key] = HOSTILE[pick];
        }
        agrees(payload);
      }),
      { ...FUZZ, numRuns: 3000 },
    );
  });

  it('keeps a nested -0 and writes a top-level -0 command as 0, as the reference does', () => {
    const payload = (command: unknown): unknown => ({
      from: 'a', to: 'b', term: '1', appendEntriesRequest: { entries: [{ index: '1', term: '1', type: 'ENTRY_TYPE_COMMAND', command }] },
    });
    expect(agrees(payload(-0))).toBe(true);
    expect(agrees(payload([-0, { a: -0 }]))).toBe(true);
  });

  it('returns a plain Uint8Array over an ArrayBuffer of its own', () => {
    const bytes = encode(toPayload(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']));
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });
});
