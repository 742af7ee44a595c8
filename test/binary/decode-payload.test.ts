/**
 * The one-pass decoder behind `decode` (src/binary/decode-payload.ts) against
 * the reference path it falls back to (decodeMessage, then messageToPayload):
 * whatever bytes it accepts, it must return exactly the reference payload
 * (same keys in the same order, same values, -0 included), and it must accept
 * the canonical encoding of every valid message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/binary/decode-message.js';
import { decodePayloadFast } from '../../src/binary/decode-payload.js';
import { decode, encode } from '../../src/binary/index.js';
import { DEFAULT_WIRE_LIMITS, messageToPayload, toPayload, type MessagePayload, type WireLimits } from '../../src/wire/index.js';
import { FUZZ, message } from '../wire/arbitraries.js';
import { SAMPLE_MESSAGES } from '../wire/samples.js';
import { expectSameValue } from '../wire/same-value.js';
import { agreesWithReference, orUndefined, tightLimits } from './fast-path.js';

const reference = (bytes: Uint8Array, limits: Readonly<WireLimits>): MessagePayload | undefined =>
  orUndefined(() => messageToPayload(decodeMessage(bytes, limits), limits, 'validate-reference'));

/** Checks the fast decoder against the reference; returns whether it took the bytes. */
function agrees(bytes: Uint8Array, limits: Readonly<WireLimits> = DEFAULT_WIRE_LIMITS): boolean {
  return agreesWithReference(decodePayloadFast(bytes, limits), () => reference(bytes, limits), (fast, expected) => {
    expectSameValue(fast, expected);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(expected)); // key order too
  });
}

describe('decodePayloadFast', () => {
  it('takes the canonical encoding of every sample message and returns the reference payload', () => {
    for (const m of Object.values(SAMPLE_MESSAGES)) expect(agrees(encode(toPayload(m)))).toBe(true);
  });

  it('takes the canonical encoding of every valid message (fuzzed)', () => {
    fc.assert(fc.property(message(), (m) => {
      expect(agrees(encode(toPayload(m)))).toBe(true);
    }), { ...FUZZ, numRuns: 1000 });
  });

  it('under tight limits, accepts only what the reference accepts, with the same payload', () => {
    let taken = 0;
    let rejected = 0;
    fc.assert(
      fc.property(message(), tightLimits(), (m, l) => {
        const bytes = encode(toPayload(m));
        if (agrees(bytes, l)) taken++;
        else if (reference(bytes, l) === undefined) rejected++;
        else expect.unreachable('declined bytes the reference accepts under the same limits');
      }),
      { ...FUZZ, numRuns: 1500 },
    );
    expect(taken).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(50);
  });

  it('on mutated and random bytes, accepts only what the reference accepts, with the same payload', () => {
    const mutated = fc.tuple(message(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }))
      .map(([m, edits]) => {
        const bytes = encode(toPayload(m));
        for (const [at, byte] of edits) if (bytes.length > 0) bytes[at % bytes.length] = byte;
        return bytes;
      });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
      agrees(bytes);
    }), { ...FUZZ, numRuns: 3000 });
  });

  it('keeps a nested -0 and turns a top-level -0 command into 0, as the reference does', () => {
    const withCommand = (command: unknown): Uint8Array => {
      const bytes = encode({ from: 'a', to: 'b', term: '1', proposeRequest: { command } });
      // The double 2 is 00 00 00 00 00 00 00 40; make it -0 (00 ... 00 80).
      const at = bytes.findIndex((_, i) => bytes[i] === 0x11 && bytes[i + 8] === 0x40);
      bytes[at + 8] = 0x80;
      return bytes;
    };
    expect(agrees(withCommand(2))).toBe(true);
    expect(Object.is((decode(withCommand(2)).proposeRequest as MessagePayload).command, 0)).toBe(true);
    expect(agrees(withCommand([2]))).toBe(true);
    expect(Object.is(((decode(withCommand([2])).proposeRequest as MessagePayload).command as number[])[0], -0)).toBe(true);
  });

  it('declines unusual but valid layouts, which decode still reads through the reference path', () => {
    const bytes = encode(toPayload(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']));
    // The envelope's `from` again after the body: valid protobuf (last one wins), not canonical.
    const reordered = new Uint8Array([...bytes, 0x0a, 0x01, 0x7a]);
    expect(decodePayloadFast(reordered, DEFAULT_WIRE_LIMITS)).toBeUndefined();
    expect(decode(reordered)).toStrictEqual({ ...toPayload(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']), from: 'z' });
  });
});
