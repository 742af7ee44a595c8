/**
 * `decode` reads any valid protobuf layout of a message, not only the
 * canonical one encoders write (fields in any order, a singular field given
 * twice, unknown fields, a known field with another wire type, a Value with
 * two kinds), and its errors are the precise ones fromPayload gives for the
 * same problem in JSON: one decoder, no fallback.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, type WireError } from 'webraft/binary';
import { fromPayload, toPayload, type MessagePayload } from '../../src/wire/index.js';
import { SAMPLE_MESSAGES } from '../wire/samples.js';

function varint(value: number): number[] {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}
/** A varint field. */
const num = (field: number, value: number): number[] => [...varint(field << 3), ...varint(value)];
/** A length-delimited field. */
const len = (field: number, content: ArrayLike<number>): number[] => [...varint((field << 3) | 2), ...varint(content.length), ...Array.from(content)];
const text = (field: number, value: string): number[] => len(field, new TextEncoder().encode(value));
/** A google.protobuf.Value number field (fixed64 double). */
function double(field: number, value: number): number[] {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, value, true);
  return [...varint((field << 3) | 1), ...bytes];
}
const struct = (members: [string, number[]][]): number[] => len(5, members.flatMap(([key, value]) => len(1, [...text(1, key), ...len(2, value)])));
const list = (values: number[][]): number[] => len(6, values.flatMap((value) => len(1, value)));

function thrownBy(run: () => unknown): WireError {
  try {
    run();
  } catch (error) {
    return error as WireError;
  }
  throw new Error('expected a throw');
}

/** An AppendEntriesRequest from a to b in term 5 with one command entry at index 1, in the layout the fields give. */
const appendOf = (entryFields: number[], envelopeFirst = true): Uint8Array => {
  const envelope = [...text(1, 'a'), ...text(2, 'b'), ...num(3, 5)];
  const body = len(12, [...len(3, entryFields), ...num(4, 1)]);
  return new Uint8Array(envelopeFirst ? [...envelope, ...body] : [...body, ...envelope]);
};
const expected: MessagePayload = {
  from: 'a', to: 'b', term: '5',
  appendEntriesRequest: { entries: [{ index: '1', term: '5', type: 'ENTRY_TYPE_COMMAND', command: { k: 'v' } }], leaderCommit: '1' },
};
const canonicalEntry = [...num(1, 1), ...num(2, 5), ...num(3, 1), ...len(4, struct([['k', text(3, 'v')]]))];

describe('decode reads every valid layout', () => {
  it('the canonical layout, as a baseline', () => {
    expect(decode(appendOf(canonicalEntry))).toStrictEqual(expected);
    expect(Array.from(encode(expected))).toStrictEqual(Array.from(appendOf(canonicalEntry)));
  });

  it('the envelope after the body, and entry fields in reverse order', () => {
    const reversed = [...len(4, struct([['k', text(3, 'v')]])), ...num(3, 1), ...num(2, 5), ...num(1, 1)];
    expect(decode(appendOf(reversed, false))).toStrictEqual(expected);
  });

  it('a singular field given twice: the last one wins (the envelope, an entry field, a Value kind)', () => {
    const bytes = encode(toPayload(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']));
    expect(decode(new Uint8Array([...bytes, ...text(1, 'z')]))).toStrictEqual({
      ...toPayload(SAMPLE_MESSAGES['AppendEntriesRequest with every entry kind']), from: 'z',
    });
    expect(decode(appendOf([...num(2, 3), ...canonicalEntry]))).toStrictEqual(expected);
    const twoKinds = [...num(1, 1), ...num(2, 5), ...num(3, 1), ...len(4, [...double(2, Number.NaN), ...struct([['k', text(3, 'v')]])])];
    expect(decode(appendOf(twoKinds))).toStrictEqual(expected);
  });

  it('unknown fields and known fields with another wire type are skipped', () => {
    const noisy = [...num(99, 7), ...canonicalEntry, ...text(2, 'not a varint'), ...len(50, [1, 2])];
    expect(decode(appendOf(noisy))).toStrictEqual(expected);
    expect(decode(new Uint8Array([...appendOf(canonicalEntry), ...num(99, 1)]))).toStrictEqual(expected);
  });

  it('a top-level -0 command becomes 0 and a nested one stays -0, as fromPayload returns them', () => {
    const zero = (command: number[]) => decode(appendOf([...num(1, 1), ...num(2, 5), ...num(3, 1), ...len(4, command)]));
    const entry = (p: MessagePayload) => ((p.appendEntriesRequest as MessagePayload).entries as MessagePayload[])[0];
    expect(Object.is(entry(zero(double(2, -0))).command, 0)).toBe(true);
    expect(Object.is((entry(zero(list([double(2, -0)]))).command as number[])[0], -0)).toBe(true);
  });
});

describe('decode errors are the ones fromPayload gives for the same problem', () => {
  const cases: [string, number[], unknown, object?][] = [
    ['a command string over maxStringLength',
      struct([['k', text(3, 'long value')]]), { k: 'long value' }, { maxStringLength: 5 }],
    ['a non-finite number deep in a command',
      struct([['a', list([double(2, 1), double(2, Number.POSITIVE_INFINITY)])]]), { a: [1, Number.POSITIVE_INFINITY] }],
    ['a command nested beyond maxJsonDepth',
      list([list([double(2, 1)])]), [[1]], { maxJsonDepth: 1 }],
    ['a command over maxPayloadBytes',
      struct([['k', text(3, 'x'.repeat(200))]]), { k: 'x'.repeat(200) }, { maxPayloadBytes: 150 }],
  ];
  for (const [name, binaryCommand, jsonCommand, limits] of cases) {
    it(name, () => {
      const bytes = appendOf([...num(1, 1), ...num(2, 5), ...num(3, 1), ...len(4, binaryCommand)]);
      const json = fromPayload(
        { ...expected, appendEntriesRequest: { ...(expected.appendEntriesRequest as object), entries: [{ index: '1', term: '5', type: 'ENTRY_TYPE_COMMAND', command: jsonCommand }] } },
        { limits },
      );
      expect(json.ok).toBe(false);
      const error = thrownBy(() => decode(bytes, { limits }));
      if (!json.ok) expect({ code: error.code, message: error.message }).toStrictEqual({ code: json.error.code, message: json.error.message });
    });
  }

  it('an entry that breaks the log rules', () => {
    const bytes = appendOf([...num(1, 2), ...num(2, 5), ...num(3, 1), ...len(4, struct([['k', text(3, 'v')]]))]);
    const error = thrownBy(() => decode(bytes));
    expect({ code: error.code, message: error.message }).toStrictEqual({
      code: 'INVALID_ENTRIES', message: 'appendEntriesRequest.entries[0].index: must be 1 (entries are contiguous from prevLogIndex + 1), got 2',
    });
  });
});
