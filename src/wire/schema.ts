import {
  BODY_CASES,
  WIRE_FIELDS,
  type WireField,
  type WireFieldKind,
  type WireMessageName,
} from '../../generated/webraft/v1/raft.wire.js';
import type { MessageType } from '../core/types.js';
import { CHANGE_TYPES, ENTRY_TYPES, type EnumMapping } from './enums.js';

/**
 * The schema as every codec direction reads it: the generated field tables of
 * proto/webraft/v1/raft.proto plus the rules the proto cannot state, so that a
 * field added to the proto is carried by the JSON and binary codecs without
 * code of its own (AppendEntriesRequest and its entries, the hot message, are
 * spelled out in each codec instead, and test/wire/field-coverage.test.ts
 * fails when one of them misses a field).
 * @internal
 */

/** Fields that hold a node's address: present and non-empty (MISSING_FIELD otherwise), each element of a list too. */
const ADDRESS_FIELDS: ReadonlySet<string> = new Set([
  'Message.from',
  'Message.to',
  'MembershipChangeRequest.address',
  'Configuration.voters',
  'Configuration.learners',
]);

/** `google.protobuf.Value` fields that must be present (a proposal's command; JSON null is a value). */
const REQUIRED_FIELDS: ReadonlySet<string> = new Set(['ProposeRequest.command']);

/** The enum mappings by proto enum name. */
const ENUMS: Readonly<Record<string, EnumMapping<string>>> = { EntryType: ENTRY_TYPES, MembershipChangeType: CHANGE_TYPES };

/** A field with what the codecs need to know about it. */
export interface CodecField {
  /** lowerCamelCase JSON name, also the core's field name. */
  readonly name: string;
  /** snake_case proto name. */
  readonly protoName: string;
  readonly number: number;
  readonly kind: WireFieldKind;
  readonly repeated: boolean;
  /** Binary wire type: 0 varint, 2 length-delimited. */
  readonly wireType: number;
  /** Field key in binary: number << 3 | wire type. */
  readonly tag: number;
  /** A string (or list of strings) holding node addresses. */
  readonly address: boolean;
  /** A Value that must be present. */
  readonly required: boolean;
  /** The enum mapping of an `enum` field. */
  readonly enumMapping?: EnumMapping<string>;
  /** The field table of a `message` field's type. */
  readonly message?: WireMessageName;
}

/** One body of the Message oneof. */
export interface BodyCase {
  /** The core's body tag. */
  readonly type: MessageType;
  /** lowerCamelCase JSON name, also the body's path in error messages. */
  readonly name: string;
  readonly protoName: string;
  readonly number: number;
  /** Key of the body field in binary. */
  readonly tag: number;
  readonly fields: readonly CodecField[];
  /** `fields` indexed by field number (holes for unused numbers). */
  readonly byNumber: readonly (CodecField | undefined)[];
}

function codecField(message: string, field: WireField): CodecField {
  const wireType = field.kind === 'uint64' || field.kind === 'bool' || field.kind === 'enum' ? 0 : 2;
  const key = `${message}.${field.name}`;
  return {
    name: field.name,
    protoName: field.protoName,
    number: field.number,
    kind: field.kind,
    repeated: field.repeated,
    wireType,
    tag: (field.number << 3) | wireType,
    address: ADDRESS_FIELDS.has(key),
    required: REQUIRED_FIELDS.has(key),
    enumMapping: field.kind === 'enum' ? ENUMS[field.type as string] : undefined,
    message: field.kind === 'message' ? (field.type as WireMessageName) : undefined,
  };
}

/** The codec fields of each message with a table. */
export const FIELDS: Readonly<Record<WireMessageName, readonly CodecField[]>> = (() => {
  const out = {} as Record<WireMessageName, readonly CodecField[]>;
  for (const name of Object.keys(WIRE_FIELDS) as WireMessageName[]) {
    out[name] = (WIRE_FIELDS[name] as readonly WireField[]).map((field) => codecField(name, field));
  }
  return out;
})();

/** The codec fields of each message indexed by field number (holes for unused numbers). */
export const FIELDS_BY_NUMBER: Readonly<Record<WireMessageName, readonly (CodecField | undefined)[]>> = (() => {
  const out = {} as Record<WireMessageName, (CodecField | undefined)[]>;
  for (const name of Object.keys(FIELDS) as WireMessageName[]) {
    out[name] = [];
    for (const field of FIELDS[name]) out[name][field.number] = field;
  }
  return out;
})();

/** The bodies in field-number order. */
export const BODIES: readonly BodyCase[] = BODY_CASES.map((body) => ({
  ...body,
  tag: (body.number << 3) | 2,
  fields: FIELDS[body.type],
  byNumber: FIELDS_BY_NUMBER[body.type],
}));

/** Each body by its core tag. */
export const BODY_OF_TYPE = Object.fromEntries(BODIES.map((body) => [body.type, body])) as Readonly<Record<MessageType, BodyCase>>;

/** Each body by its field number in `Message`. */
export const BODY_OF_NUMBER: readonly (BodyCase | undefined)[] = (() => {
  const out: (BodyCase | undefined)[] = [];
  for (const body of BODIES) out[body.number] = body;
  return out;
})();
