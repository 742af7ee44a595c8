import { FIELD_NUMBERS, type WireMessageName } from '../../generated/webraft/v1/raft.wire.js';
import type { JsonValue, LogEntry, Message } from '../core/types.js';
import { BODY_OF_TYPE, ENTRY_TYPES, FIELDS, type CodecField, type EnumMapping } from '../wire/index.js';
import { ProtoWriter } from './proto-writer.js';

/**
 * Protobuf binary encoding of a core Message that has already been validated
 * (by the wire layer). The output is in field number order with proto3
 * defaults omitted; message-typed fields that are set are always written.
 *
 * The writer fills its buffer back to front, so every function here emits
 * the fields of its message from the highest field number to the lowest (and
 * repeated fields from the last element to the first). Bodies and nested
 * messages are written from the generated field tables; the entries of an
 * AppendEntriesRequest, the hot path, by {@link writeEntry}.
 * @internal
 */
export function encodeMessage(message: Message): Uint8Array {
  const w = new ProtoWriter();
  const body = message.body;
  const bodyCase = BODY_OF_TYPE[body.type];
  const start = w.written;
  writeFields(w, bodyCase.fields, body as unknown as Record<string, unknown>);
  w.join(start, bodyCase.number);
  if (message.term !== 0) w.uint64Field(MESSAGE.term, message.term);
  if (message.to !== '') w.stringField(MESSAGE.to, message.to);
  if (message.from !== '') w.stringField(MESSAGE.from, message.from);
  return w.finish();
}

const MESSAGE = FIELD_NUMBERS.Message;
const ENTRY = FIELD_NUMBERS.Entry;
const ENTRIES = FIELD_NUMBERS.AppendEntriesRequest.entries;
const ENTRY_TYPE_NUMBERS = ENTRY_TYPES.numbers;

/** The fields `fields` lists of `object`, last field first. */
function writeFields(w: ProtoWriter, fields: readonly CodecField[], object: Record<string, unknown>): void {
  for (let f = fields.length - 1; f >= 0; f--) {
    const field = fields[f];
    const value = object[field.name];
    if (field.repeated) {
      const list = value as readonly unknown[];
      for (let i = list.length - 1; i >= 0; i--) writeField(w, field, list[i]);
    } else {
      writeField(w, field, value);
    }
  }
}

/** One value of `field` (an element, for a repeated one), unless it is the proto3 default of a singular scalar. */
function writeField(w: ProtoWriter, field: CodecField, value: unknown): void {
  switch (field.kind) {
    case 'uint64':
      if (value !== 0 || field.repeated) w.uint64Field(field.number, value as number);
      return;
    case 'bool':
      if (value === true || field.repeated) w.boolField(field.number, value as boolean);
      return;
    case 'string':
      if (value !== '' || field.repeated) w.stringField(field.number, value as string);
      return;
    case 'bytes':
      if ((value as Uint8Array).length !== 0 || field.repeated) w.bytesField(field.number, value as Uint8Array);
      return;
    case 'enum': {
      const number = (field.enumMapping as EnumMapping<string>).numbers[value as string];
      if (number !== 0 || field.repeated) w.uint64Field(field.number, number);
      return;
    }
    case 'value':
      if (value !== undefined) writeValueField(w, field.number, value as JsonValue);
      return;
    case 'message': {
      const start = w.written;
      if (field.message === 'Entry') writeEntry(w, value as LogEntry);
      else writeFields(w, FIELDS[field.message as WireMessageName], value as Record<string, unknown>);
      w.join(start, field.number);
    }
  }
}

/** The fields of one entry (its optional fields omitted when absent or default). */
function writeEntry(w: ProtoWriter, entry: LogEntry): void {
  if (entry.firstOutstandingSequence !== undefined && entry.firstOutstandingSequence !== 0) {
    w.uint64Field(ENTRY.firstOutstandingSequence, entry.firstOutstandingSequence);
  }
  if (entry.sequence !== undefined && entry.sequence !== 0) w.uint64Field(ENTRY.sequence, entry.sequence);
  if (entry.clientId !== undefined && entry.clientId !== '') w.stringField(ENTRY.clientId, entry.clientId);
  if (entry.configuration !== undefined) {
    const start = w.written;
    writeFields(w, FIELDS.Configuration, entry.configuration as unknown as Record<string, unknown>);
    w.join(start, ENTRY.configuration);
  }
  if (entry.command !== undefined) writeValueField(w, ENTRY.command, entry.command);
  w.uint64Field(ENTRY.type, ENTRY_TYPE_NUMBERS[entry.type]);
  if (entry.term !== 0) w.uint64Field(ENTRY.term, entry.term);
  if (entry.index !== 0) w.uint64Field(ENTRY.index, entry.index);
}

/** A `google.protobuf.Value` field holding a JSON value (already validated as JSON). */
function writeValueField(w: ProtoWriter, fieldNumber: number, value: JsonValue): void {
  const start = w.written;
  writeValueBody(w, value);
  w.join(start, fieldNumber);
}

/** The fields of a `google.protobuf.Value`: null 1, number 2, string 3, bool 4, struct 5, list 6. */
function writeValueBody(w: ProtoWriter, value: JsonValue): void {
  switch (typeof value) {
    case 'string':
      w.stringField(3, value);
      return;
    case 'number':
      w.doubleField(2, value);
      return;
    case 'boolean':
      w.boolField(4, value);
      return;
    default:
      if (value === null) {
        w.uint64Field(1, 0);
      } else if (Array.isArray(value)) {
        const list = w.written;
        for (let i = value.length - 1; i >= 0; i--) writeValueField(w, 1, value[i]);
        w.join(list, 6);
      } else {
        const struct = w.written;
        const keys = Object.keys(value);
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i];
          const entry = w.written;
          writeValueField(w, 2, value[key]);
          w.stringField(1, key);
          w.join(entry, 1);
        }
        w.join(struct, 5);
      }
  }
}
