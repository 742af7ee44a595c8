/**
 * Every field of the proto is carried by each codec direction: JSON encode
 * (toPayload), JSON decode (fromPayload), binary encode and binary decode.
 * The fields come from the generated tables (proto/ via `npm run gen`), so a
 * field added to the proto and missed by one direction fails here, with the
 * field and the direction named. The ts-proto code generated from the same
 * proto is the independent reader and writer of the binary form.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from 'webraft/binary';
import { ENUM_VALUES, WIRE_FIELDS, BODY_CASES, type WireField, type WireMessageName } from '../../generated/webraft/v1/raft.wire.js';
import { Message as GeneratedMessage } from '../../generated/webraft/v1/raft.js';
import type { Message, MessageBody } from '../../src/core/types.js';
import { fromPayload, toPayload, type MessagePayload } from '../../src/wire/index.js';

/** Field values the entry and AppendEntries rules constrain; every other uint64 field gets 100 + its number. */
const TERM = 1000;
const RULE_BOUND: Record<string, number> = {
  'AppendEntriesRequest.prevLogIndex': 41,
  'AppendEntriesRequest.prevLogTerm': 7,
  'AppendEntriesRequest.leaderCommit': 40,
};

/** A non-default value for `field` of `message`, in core form. */
function valueOf(message: WireMessageName, field: WireField): unknown {
  const single = (): unknown => {
    switch (field.kind) {
      case 'uint64':
        return RULE_BOUND[`${message}.${field.name}`] ?? 100 + field.number;
      case 'bool':
        return true;
      case 'string':
        return `${field.name}-1`;
      case 'bytes':
        return new Uint8Array([1, 2, 3]);
      case 'enum':
        return (ENUM_VALUES[field.type as keyof typeof ENUM_VALUES] as readonly { core?: string }[]).find((v) => v.core)!.core;
      case 'value':
        return { nested: [1, 'two', true, null] };
      case 'message':
        return coreObject(field.type as WireMessageName);
    }
  };
  return field.repeated ? [single()] : single();
}

/** A core object of `message` with every field set to a non-default value. */
function coreObject(message: WireMessageName): Record<string, unknown> {
  if (message === 'Entry') throw new Error('entries are built by entriesCoveringEveryField');
  const out: Record<string, unknown> = {};
  for (const field of WIRE_FIELDS[message] as readonly WireField[]) {
    out[field.name] = field.type === 'Entry' ? entriesCoveringEveryField() : valueOf(message, field);
  }
  return out;
}

/**
 * Two entries that together set every Entry field: the rules allow a command
 * only on a command entry and a configuration only on a configuration entry.
 */
function entriesCoveringEveryField(): Record<string, unknown>[] {
  const entries = [
    { index: 42, term: 8, type: 'command' },
    { index: 43, term: 9, type: 'configuration' },
  ] as Record<string, unknown>[];
  for (const field of WIRE_FIELDS.Entry as readonly WireField[]) {
    if (field.name in entries[0]) continue;
    const target = field.name === 'configuration' ? entries[1] : entries[0];
    target[field.name] = valueOf('Entry', field);
  }
  return entries;
}

function messageWithEveryField(type: MessageBody['type']): Message {
  return { from: 'from-1', to: 'to-1', term: TERM, body: { type, ...coreObject(type) } as MessageBody };
}

/** The non-default fields of a ts-proto object, by JSON name. */
function setFields(object: Record<string, unknown>): string[] {
  return Object.keys(object).filter((key) => {
    const value = object[key];
    if (value === undefined || value === 0 || value === '' || value === false) return false;
    if (value instanceof Uint8Array || Array.isArray(value)) return value.length > 0;
    return true;
  });
}

const fieldNames = (message: WireMessageName): string[] => (WIRE_FIELDS[message] as readonly WireField[]).map((f) => f.name);

describe('every proto field is carried by each codec direction', () => {
  it('the generated tables list every body of the oneof', () => {
    expect(BODY_CASES.map((b) => b.type).sort()).toEqual(
      Object.keys(WIRE_FIELDS).filter((name) => name !== 'Message' && name !== 'Entry' && name !== 'Configuration').sort(),
    );
  });

  for (const { type, name: bodyName } of BODY_CASES) {
    describe(type, () => {
      const message = messageWithEveryField(type);
      const payload = toPayload(message);
      const body = payload[bodyName] as MessagePayload;

      it('JSON encode (toPayload) writes every field', () => {
        expect(Object.keys(payload).sort()).toEqual([...fieldNames('Message'), bodyName].sort());
        expect(Object.keys(body).sort()).toEqual(fieldNames(type).sort());
        if (type === 'AppendEntriesRequest') {
          const entries = body.entries as MessagePayload[];
          expect([...new Set(entries.flatMap((e) => Object.keys(e)))].sort()).toEqual(fieldNames('Entry').sort());
          for (const e of entries) expect(Object.keys(e.configuration ?? {}).sort()).toEqual(e.configuration ? fieldNames('Configuration').sort() : []);
        }
      });

      it('JSON decode (fromPayload) reads every field back', () => {
        expect(fromPayload(structuredClone(payload))).toEqual({ ok: true, message });
      });

      it('binary encode writes every field (read by the generated ts-proto code)', () => {
        const generated = GeneratedMessage.decode(encode(payload));
        expect(setFields(generated as unknown as Record<string, unknown>).sort()).toEqual(['body', ...fieldNames('Message')].sort());
        expect(generated.body?.$case).toBe(bodyName);
        const value = generated.body!.value as unknown as Record<string, unknown>;
        expect(setFields(value).sort()).toEqual(fieldNames(type).sort());
        if (type === 'AppendEntriesRequest') {
          const entries = value.entries as Record<string, unknown>[];
          expect([...new Set(entries.flatMap((e) => setFields(e)))].sort()).toEqual(fieldNames('Entry').sort());
        }
      });

      it('binary decode reads every field (written by the generated ts-proto code)', () => {
        const bytes = GeneratedMessage.encode(GeneratedMessage.fromJSON(payload)).finish();
        expect(decode(bytes)).toStrictEqual(payload);
      });
    });
  }
});
