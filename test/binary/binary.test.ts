import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, DEFAULT_MAX_FRAME_BYTES, DEFAULT_WIRE_LIMITS, encode, encodeFrame, FrameDecoder, isWireError, maxBinaryBytes, splitFrames, WireError, type MessagePayload } from 'webraft/binary';
import { Message as GeneratedMessage } from '../../generated/webraft/v1/raft.js';
import { fromPayload, toPayload } from '../../src/wire/index.js';
import { FUZZ, message } from '../wire/arbitraries.js';
import { SAMPLE_MESSAGES } from '../wire/samples.js';
import { expectSameValue } from '../wire/same-value.js';

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('decode(encode(p)) deep-equals p for every message type', () => {
  for (const [name, m] of Object.entries(SAMPLE_MESSAGES)) {
    it(name, () => {
      const payload = toPayload(m);
      const bytes = encode(payload);
      expect(decode(bytes)).toStrictEqual(payload);
      // The ts-proto code generated from proto/ reads our bytes, and what it writes back decodes to the same payload.
      const viaGenerated = GeneratedMessage.encode(GeneratedMessage.decode(bytes)).finish();
      expect(decode(viaGenerated)).toStrictEqual(payload);
    });
  }

  it('keeps __proto__ keys of commands (the generated Struct codec would drop them)', () => {
    const command = JSON.parse('{"__proto__":{"polluted":1},"a":[{"__proto__":null}]}');
    const payload = toPayload({ from: 'a', to: 'b', term: 1, body: { type: 'ProposeRequest', clientId: '', sequence: 0, firstOutstandingSequence: 0, command } });
    const back = decode(encode(payload));
    expect(JSON.stringify(back)).toBe(JSON.stringify(payload));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('encode and decode reject invalid input with WireError only', () => {
  it('encode validates the payload like fromPayload', () => {
    const error = thrownBy(() => encode({ from: 'a', to: 'b', term: -1, timeoutNowRequest: {} }));
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).message).toBe('term: must be an integer in 0..2^53-1, got -1');
  });

  const BAD_BYTES: [string, Uint8Array, string, string][] = [
    ['empty input', new Uint8Array(0), 'MISSING_BODY', 'message sets no body (exactly one such as appendEntriesRequest is required)'],
    ['truncated field', new Uint8Array([0x0a, 0x05, 0x61]), 'INVALID_BINARY', 'data is truncated'],
    ['group wire type', new Uint8Array([0x0b]), 'INVALID_BINARY', 'unsupported wire type 3'],
    ['field number 0', new Uint8Array([0x00]), 'INVALID_BINARY', 'invalid field key 0'],
    ['overlong varint', new Uint8Array([0x18, ...new Array<number>(10).fill(0xff), 0x01]), 'INVALID_BINARY', 'varint longer than 10 bytes'],
    ['invalid UTF-8', new Uint8Array([0x0a, 0x02, 0xc3, 0x28, 0x12, 0x01, 0x62, 0x82, 0x01, 0x00]), 'INVALID_BINARY', 'string is not valid UTF-8'],
    ['term above 2^53-1', new Uint8Array([0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x18, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x82, 0x01, 0x00]),
      'INVALID_NUMBER', 'term: must be an integer in 0..2^53-1, got a larger value'],
    ['missing from', new Uint8Array([0x12, 0x01, 0x62, 0x82, 0x01, 0x00]), 'MISSING_FIELD', 'from: must be a non-empty address'],
    ['unknown change type', new Uint8Array([0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0xaa, 0x01, 0x05, 0x10, 0x07, 0x1a, 0x01, 0x63]),
      'INVALID_ENUM', 'membershipChangeRequest.changeType: unknown MembershipChangeType value 7'],
  ];
  for (const [name, bytes, code, text] of BAD_BYTES) {
    it(`decode: ${name}`, () => {
      const error = thrownBy(() => decode(bytes));
      expect(isWireError(error)).toBe(true);
      expect({ code: (error as WireError).code, message: (error as WireError).message }).toStrictEqual({ code, message: text });
    });
  }

  it('decode rejects a message with two bodies as MULTIPLE_BODIES, as fromPayload does', () => {
    // Protobuf would let the last oneof case win; WebRaft requires exactly one body in either form.
    const timeoutNow = encode(toPayload(SAMPLE_MESSAGES.TimeoutNowRequest));
    const readIndex = encode(toPayload(SAMPLE_MESSAGES.ReadIndexRequest));
    const twoBodies = new Uint8Array([...timeoutNow, ...readIndex.subarray(readIndex.indexOf(0x9a))]);
    const error = thrownBy(() => decode(twoBodies)) as WireError;
    expect({ code: error.code, message: error.message }).toStrictEqual({
      code: 'MULTIPLE_BODIES', message: 'message sets more than one body: "timeoutNowRequest" and "readIndexRequest"',
    });
    const json = fromPayload({ ...toPayload(SAMPLE_MESSAGES.TimeoutNowRequest), readIndexRequest: {} });
    expect(json.ok ? undefined : json.error.code).toBe('MULTIPLE_BODIES');
    // The same body twice is no more one body than two different ones.
    const sameTwice = new Uint8Array([...timeoutNow, ...timeoutNow.subarray(timeoutNow.indexOf(0x82))]);
    expect((thrownBy(() => decode(sameTwice)) as WireError).message).toBe(
      'message sets more than one body: "timeoutNowRequest" and "timeoutNowRequest"',
    );
  });

  it('decode reports a sender mismatch and oversized data', () => {
    const bytes = encode(toPayload(SAMPLE_MESSAGES.TimeoutNowRequest));
    expect((thrownBy(() => decode(bytes, { from: 'z' })) as WireError).code).toBe('SENDER_MISMATCH');
    expect((thrownBy(() => decode(bytes, { limits: { maxPayloadBytes: 4 } })) as WireError).code).toBe('LIMIT_EXCEEDED');
  });
});

describe('length-delimited framing', () => {
  const payloads = Object.values(SAMPLE_MESSAGES).slice(0, 6).map((m) => toPayload(m)).filter((p) => !JSON.stringify(p).includes('vvvv'));
  const stream = new Uint8Array(payloads.flatMap((p) => Array.from(encodeFrame(p))));

  it('reads frames split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(frames.map((f) => decode(f))).toStrictEqual(payloads);
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it('reads coalesced frames and byte-by-byte delivery', () => {
    expect(splitFrames(stream).map((f) => decode(f))).toStrictEqual(payloads);
    const decoder = new FrameDecoder();
    const frames: Uint8Array[] = [];
    for (const byte of stream) frames.push(...decoder.push(new Uint8Array([byte])));
    expect(frames.map((f) => decode(f))).toStrictEqual(payloads);
  });

  it('reassembles a 256 KiB frame delivered one byte at a time (buffering stays linear)', () => {
    const payload = { from: 'a', to: 'b', term: '1', proposeRequest: { clientId: 'c', sequence: '1', command: 'x'.repeat(256 * 1024) } };
    const frame = encodeFrame(payload);
    const decoder = new FrameDecoder();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < frame.length; i++) frames.push(...decoder.push(frame.subarray(i, i + 1)));
    expect(frames).toHaveLength(1);
    expect(decode(frames[0])).toEqual(payload);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('uses protobuf varint length prefixes (compatible with writeDelimitedTo)', () => {
    const body = new Uint8Array(300).fill(7);
    const framed = encodeFrame(body);
    expect(Array.from(framed.subarray(0, 2))).toStrictEqual([0xac, 0x02]);
    expect(splitFrames(framed)).toStrictEqual([body]);
  });

  it('rejects an oversized frame before buffering it, and a malformed header', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 });
    const error = thrownBy(() => decoder.push(new Uint8Array([0xe5, 0x00])));
    expect({ code: (error as WireError).code, message: (error as WireError).message }).toStrictEqual({
      code: 'LIMIT_EXCEEDED', message: 'frame length exceeds maxFrameBytes (100)',
    });
    expect(thrownBy(() => decoder.push(new Uint8Array([1])))).toBe(error);
    expect((thrownBy(() => new FrameDecoder().push(new Uint8Array(11).fill(0x80))) as WireError).code).toBe('INVALID_BINARY');
    expect((thrownBy(() => splitFrames(new Uint8Array([5, 1]))) as WireError).code).toBe('INVALID_BINARY');
  });
});

describe('binary fuzzing (seeded)', () => {
  it('decode(encode(p)) deep-equals p for every payload toPayload produces', () => {
    fc.assert(
      fc.property(message(), (m) => {
        const payload = toPayload(m);
        const back = decode(encode(payload));
        expectSameValue(back, payload);
        const viaCore = fromPayload(back);
        expectSameValue(viaCore, { ok: true, message: m });
      }),
      FUZZ,
    );
  });

  it('decode throws only WireError on random bytes and on mutated encodings', () => {
    const mutated = fc.tuple(message(), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([m, at, byte]) => {
      const bytes = encode(toPayload(m));
      if (bytes.length > 0) bytes[at % bytes.length] = byte;
      return bytes;
    });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
        try {
          const payload = decode(bytes);
          expect(() => encode(payload)).not.toThrow();
        } catch (error) {
          expect(isWireError(error)).toBe(true);
        }
      }),
      { ...FUZZ, numRuns: 1500 },
    );
  });

  it('encode throws only WireError on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        try {
          encode(value as object);
        } catch (error) {
          expect(isWireError(error)).toBe(true);
        }
      }),
      FUZZ,
    );
  });
});

describe('binary size bound: what encode accepts, decode accepts under the same limits', () => {
  // The wire's size estimate counts UTF-16 code units, UTF-8 takes up to 3 bytes for one: 30,000
  // CJK characters estimate about 30 KB but take 90 KB. decode used to refuse any binary over
  // maxPayloadBytes bytes, so such an entry, accepted by propose, could never reach a follower
  // over a binary transport and stopped replication for good.
  const appendOf = (command: string) => ({
    from: 'a', to: 'b', term: '1',
    appendEntriesRequest: { prevLogIndex: '0', prevLogTerm: '0', leaderCommit: '0', entries: [{ index: '1', term: '1', type: 'ENTRY_TYPE_COMMAND', command }] },
  });
  const limits = { maxPayloadBytes: 64 * 1024 };

  it('a payload of 3-byte characters within maxPayloadBytes decodes though its bytes exceed it', () => {
    const payload = appendOf('漢'.repeat(30_000));
    const bytes = encode(payload, { limits });
    expect(bytes.length).toBeGreaterThan(limits.maxPayloadBytes);
    const sameCommand = (decoded: MessagePayload) => JSON.stringify(decoded) === JSON.stringify(decode(bytes));
    expect(sameCommand(decode(bytes, { limits }))).toBe(true);
    const frames = new FrameDecoder({ maxFrameBytes: maxBinaryBytes(limits.maxPayloadBytes) }).push(encodeFrame(bytes));
    expect(sameCommand(decode(frames[0], { limits }))).toBe(true);
  });

  it('the size estimate still bounds what decode accepts', () => {
    const payload = appendOf('漢'.repeat(70_000));
    expect((thrownBy(() => encode(payload, { limits })) as WireError).code).toBe('LIMIT_EXCEEDED');
    const bytes = encode(payload);
    expect(bytes.length).toBeLessThan(maxBinaryBytes(limits.maxPayloadBytes));
    expect((thrownBy(() => decode(bytes, { limits })) as WireError).code).toBe('LIMIT_EXCEEDED');
  });

  it('the default frame bound fits every payload within the default limits', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(maxBinaryBytes(DEFAULT_WIRE_LIMITS.maxPayloadBytes));
  });

  it('for any JSON command (any Unicode, nested), decode takes whatever encode takes (seeded)', () => {
    const command = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 4 }), fc.integer({ min: 200, max: 4000 }), (commands, maxPayloadBytes) => {
        const payload = {
          from: 'a', to: 'b', term: '1',
          appendEntriesRequest: {
            prevLogIndex: '0', prevLogTerm: '0', leaderCommit: '0',
            entries: commands.map((c, i) => ({ index: String(i + 1), term: '1', type: 'ENTRY_TYPE_COMMAND', command: c })),
          },
        };
        const limits = { maxPayloadBytes, maxStringLength: 1 << 20 };
        let bytes: Uint8Array;
        try {
          bytes = encode(payload, { limits });
        } catch (error) {
          expect((error as WireError).code).toBe('LIMIT_EXCEEDED');
          return;
        }
        expect(() => decode(bytes, { limits })).not.toThrow();
      }),
      { ...FUZZ, numRuns: 1000 },
    );
  });
});
