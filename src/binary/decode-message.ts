import { FIELD_NUMBERS, type WireMessageName } from '../../generated/webraft/v1/raft.wire.js';
import type { MessageBody } from '../core/types.js';
import {
  BODY_OF_NUMBER,
  fieldPath,
  FIELDS,
  FIELDS_BY_NUMBER,
  newBudget,
  parseEnum,
  WireError,
  type BodyCase,
  type CodecField,
  type EnumMapping,
  type ParentPath,
  type WireLimits,
} from '../wire/index.js';
import { decodeCommand } from './decode-value.js';
import { ProtoReader } from './proto-reader.js';

/**
 * Reading protobuf binary `webraft.v1.Message` bytes: the envelope, and the
 * bodies other than AppendEntriesRequest (decode-append-entries.ts) as core
 * bodies from the generated field tables. What only the bytes can tell is
 * checked here: structure, integer ranges, enums, exactly one body, commands
 * (decode-value.ts); `messageToPayload` checks the rest.
 *
 * Protobuf semantics: unknown fields are skipped, a known field with an
 * unexpected wire type is skipped like an unknown one, and when a singular
 * field appears more than once the last one wins. The oneof body is the
 * exception: a second body (even the same one again) is MULTIPLE_BODIES, as
 * in proto3 JSON.
 * @internal
 */

/** The envelope of a message and where its body is. */
export interface Envelope {
  from: string;
  to: string;
  term: number;
  body: BodyCase;
  /** The body's bytes are [bodyStart, bodyEnd). */
  bodyStart: number;
  bodyEnd: number;
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FROM = (FIELD_NUMBERS.Message.from << 3) | LENGTH_DELIMITED;
const TO = (FIELD_NUMBERS.Message.to << 3) | LENGTH_DELIMITED;
const TERM = (FIELD_NUMBERS.Message.term << 3) | VARINT;

/** Reads the envelope of the message in `r`'s bytes, skipping over the body. */
export function readEnvelope(r: ProtoReader): Envelope {
  const end = r.buf.length;
  let from = '';
  let to = '';
  let term = 0;
  let body: BodyCase | undefined;
  let bodyStart = 0;
  let bodyEnd = 0;
  while (r.pos < end) {
    const key = r.tag(end);
    if (key === FROM) from = r.string(end);
    else if (key === TO) to = r.string(end);
    else if (key === TERM) term = readUint(r, end, '', 'term');
    else {
      const bodyCase = (key & 7) === LENGTH_DELIMITED ? BODY_OF_NUMBER[key >>> 3] : undefined;
      if (bodyCase === undefined) {
        r.skip(key & 7, end);
        continue;
      }
      if (body !== undefined) {
        throw new WireError('MULTIPLE_BODIES', `message sets more than one body: "${body.name}" and "${bodyCase.name}"`);
      }
      body = bodyCase;
      bodyEnd = r.lengthDelimitedEnd(end);
      bodyStart = r.pos;
      r.pos = bodyEnd;
    }
  }
  if (body === undefined) {
    throw new WireError('MISSING_BODY', 'message sets no body (exactly one such as appendEntriesRequest is required)');
  }
  return { from, to, term, body, bodyStart, bodyEnd };
}

/** A uint64 in 0..2^53-1 (INVALID_NUMBER beyond) of field `name` of the object at `parent`. */
export function readUint(r: ProtoReader, end: number, parent: ParentPath, name: string): number {
  const value = r.varint(end);
  if (value === Infinity) {
    throw new WireError('INVALID_NUMBER', 'must be an integer in 0..2^53-1, got a larger value', fieldPath(parent, name));
  }
  return value;
}

/** The body of `envelope` (not an AppendEntriesRequest) as a core body, proto3 defaults filled in. */
export function decodeBody(r: ProtoReader, envelope: Envelope, limits: Readonly<WireLimits>): MessageBody {
  const { body } = envelope;
  r.pos = envelope.bodyStart;
  return { type: body.type, ...decodeFields(r, body.type, envelope.bodyEnd, body.name, limits) } as MessageBody;
}

/** The proto3 default of a field: 0, false, '', empty bytes, [] for a list; none for a message or Value. */
function defaultOf(field: CodecField): unknown {
  if (field.repeated) return [];
  switch (field.kind) {
    case 'uint64':
    case 'enum':
      return 0;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    default:
      return undefined;
  }
}

/**
 * The fields of the message `message` occupying [r.pos, end) as a core object
 * (keys in field order; absent fields as their defaults, an absent message as
 * one of defaults). `path` is the message's path for errors.
 */
function decodeFields(r: ProtoReader, message: WireMessageName, end: number, path: string, limits: Readonly<WireLimits>): Record<string, unknown> {
  const fields = FIELDS[message];
  const byNumber = FIELDS_BY_NUMBER[message];
  const out: Record<string, unknown> = {};
  for (const field of fields) out[field.name] = defaultOf(field);
  while (r.pos < end) {
    const key = r.tag(end);
    const field = byNumber[key >>> 3];
    if (field === undefined || (key & 7) !== field.wireType) {
      r.skip(key & 7, end);
      continue;
    }
    let value: unknown;
    switch (field.kind) {
      case 'uint64':
        value = readUint(r, end, path, field.name);
        break;
      case 'bool':
        value = r.varint(end) !== 0;
        break;
      case 'enum':
        value = r.varint(end);
        break;
      case 'string':
        value = r.string(end);
        break;
      case 'bytes':
        value = r.bytes(end);
        break;
      case 'value':
        // Checked here; messageToPayload counts its size (the budget here is a scratch one).
        value = decodeCommand(r, r.lengthDelimitedEnd(end), path, field.name, newBudget(limits));
        break;
      case 'message': {
        if (field.message === 'Entry') throw new Error('webraft: entries are decoded by decode-append-entries.ts');
        const stop = r.lengthDelimitedEnd(end);
        value = decodeFields(r, field.message as WireMessageName, stop, `${path}.${field.name}`, limits);
        r.pos = stop;
        break;
      }
    }
    if (field.repeated) (out[field.name] as unknown[]).push(value);
    else out[field.name] = value;
  }
  for (const field of fields) {
    if (field.kind === 'enum') {
      out[field.name] = parseEnum(field.enumMapping as EnumMapping<string>, out[field.name], `${path}.${field.name}`);
    } else if (field.kind === 'message' && !field.repeated && out[field.name] === undefined) {
      out[field.name] = decodeFields(r, field.message as WireMessageName, r.pos, `${path}.${field.name}`, limits); // no bytes: all defaults
    }
  }
  return out;
}

/** A Configuration occupying [r.pos, end), as a core object. */
export function decodeConfiguration(r: ProtoReader, end: number, path: string, limits: Readonly<WireLimits>): Record<string, unknown> {
  return decodeFields(r, 'Configuration', end, path, limits);
}
