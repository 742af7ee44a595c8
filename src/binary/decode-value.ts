import {
  addJsonSegment,
  BOOLEAN_BYTES,
  CONTAINER_BYTES,
  JsonProblem,
  MEMBER_BYTES,
  nonFiniteNumber,
  NULL_BYTES,
  NUMBER_BYTES,
  overBudget,
  setOwn,
  STRING_BYTES,
  stringTooLong,
  tooDeep,
  type JsonBudget,
} from '../core/json.js';
import type { JsonValue } from '../core/types.js';
import { fieldPath, jsonWireError, WireError, type ParentPath } from '../wire/index.js';
import type { ProtoReader } from './proto-reader.js';

/**
 * `google.protobuf.Value` in protobuf binary to a JSON value, checked as the
 * JSON module (src/core/json.ts) checks one, with the same problems, paths
 * and size count: finite numbers, strings within maxStringLength (decoded
 * UTF-8 is always well-formed UTF-16, so that check is not needed), nesting
 * within maxJsonDepth, the size estimate added to the budget and held to
 * maxPayloadBytes. Protobuf semantics: in a Value the last kind set wins,
 * unknown fields are skipped.
 * @internal
 */

/**
 * The command occupying [r.pos, end) of field `name` of the object at
 * `parent`; a top-level -0 comes back as 0, as validation returns it.
 * Leaves r.pos at `end`.
 * @throws WireError whose field is the path to the problem.
 */
export function decodeCommand(r: ProtoReader, end: number, parent: ParentPath, name: string, budget: JsonBudget): JsonValue {
  try {
    const value = decodeValue(r, end, 0, budget);
    return value === 0 ? 0 : value;
  } catch (thrown) {
    throw jsonWireError(thrown, fieldPath(parent, name));
  } finally {
    r.pos = end;
  }
}

const NULL_VALUE = 0x08; // field 1, varint
const NUMBER_VALUE = 0x11; // field 2, fixed64
const STRING_VALUE = 0x1a; // field 3, length-delimited
const BOOL_VALUE = 0x20; // field 4, varint
const STRUCT_VALUE = 0x2a; // field 5, length-delimited
const LIST_VALUE = 0x32; // field 6, length-delimited
/** Field 1, length-delimited: a Struct's map entries, a ListValue's values, a map entry's key. */
const FIRST = 0x0a;
/** Field 2, length-delimited: a Struct map entry's value. */
const SECOND = 0x12;

const isKind = (key: number): boolean =>
  key === NULL_VALUE || key === NUMBER_VALUE || key === STRING_VALUE || key === BOOL_VALUE || key === STRUCT_VALUE || key === LIST_VALUE;

/** A Value occupying [r.pos, end), `depth` lists and structs deep. */
function decodeValue(r: ProtoReader, end: number, depth: number, budget: JsonBudget): JsonValue {
  const start = r.pos;
  if (start < end) {
    // The usual Value: exactly one field, a kind.
    const key = r.tag(end);
    if (isKind(key)) {
      const fieldStart = r.pos;
      const sizeBefore = budget.size;
      try {
        const value = decodeKind(r, key, end, depth, budget);
        if (r.pos === end) return value;
      } catch (thrown) {
        // A problem of this kind's value stands only when no later kind replaces it.
        if (!(thrown instanceof JsonProblem)) throw thrown;
        r.pos = fieldStart;
        r.skip(key & 7, end);
        if (r.pos === end) throw thrown;
      }
      budget.size = sizeBefore;
    }
  }
  // Anything else: the last kind set wins.
  r.pos = start;
  let kind = 0;
  let kindStart = 0;
  while (r.pos < end) {
    const key = r.tag(end);
    if (isKind(key)) {
      kind = key;
      kindStart = r.pos;
    }
    r.skip(key & 7, end);
  }
  if (kind === 0) throw new WireError('INVALID_BINARY', 'google.protobuf.Value has no kind set');
  r.pos = kindStart;
  const value = decodeKind(r, kind, end, depth, budget);
  r.pos = end;
  return value;
}

/** The value of the Value field `key` (a kind) at r.pos. */
function decodeKind(r: ProtoReader, key: number, end: number, depth: number, budget: JsonBudget): JsonValue {
  switch (key) {
    case NULL_VALUE:
      r.varint(end);
      budget.size += NULL_BYTES;
      return null;
    case NUMBER_VALUE: {
      const value = r.double(end);
      if (!Number.isFinite(value)) throw nonFiniteNumber(value);
      budget.size += NUMBER_BYTES;
      return value;
    }
    case STRING_VALUE: {
      const value = r.string(end);
      if (value.length > budget.limits.maxStringLength) throw stringTooLong(value, budget.limits);
      budget.size += value.length + STRING_BYTES;
      return value;
    }
    case BOOL_VALUE:
      budget.size += BOOLEAN_BYTES;
      return r.varint(end) !== 0;
    case STRUCT_VALUE:
      return decodeStruct(r, r.lengthDelimitedEnd(end), depth, budget);
    default:
      return decodeList(r, r.lengthDelimitedEnd(end), depth, budget);
  }
}

/** The end of the next field 1 (length-delimited) in [r.pos, end), other fields skipped; -1 when there is none. */
function nextFirst(r: ProtoReader, end: number): number {
  while (r.pos < end) {
    const key = r.tag(end);
    if (key === FIRST) return r.lengthDelimitedEnd(end);
    r.skip(key & 7, end);
  }
  return -1;
}

function decodeStruct(r: ProtoReader, end: number, depth: number, budget: JsonBudget): JsonValue {
  if (depth >= budget.limits.maxJsonDepth) throw tooDeep(budget.limits);
  const out: Record<string, JsonValue> = {};
  budget.size += CONTAINER_BYTES;
  let name = '';
  try {
    for (let entryEnd = nextFirst(r, end); entryEnd >= 0; entryEnd = nextFirst(r, end)) {
      name = '';
      let valueStart = -1;
      let valueEnd = 0;
      while (r.pos < entryEnd) {
        const entryKey = r.tag(entryEnd);
        if (entryKey === FIRST) name = r.string(entryEnd);
        else if (entryKey === SECOND) {
          valueEnd = r.lengthDelimitedEnd(entryEnd);
          valueStart = r.pos;
          r.pos = valueEnd;
        } else r.skip(entryKey & 7, entryEnd);
      }
      if (valueStart < 0) throw new WireError('INVALID_BINARY', `google.protobuf.Struct field "${name}" has no value`);
      if (name.length > budget.limits.maxStringLength) throw stringTooLong(name, budget.limits);
      budget.size += name.length + MEMBER_BYTES;
      r.pos = valueStart;
      const member = decodeValue(r, valueEnd, depth + 1, budget);
      r.pos = entryEnd;
      if (name === '__proto__') setOwn(out, name, member);
      else out[name] = member;
    }
  } catch (thrown) {
    addJsonSegment(thrown, name);
    throw thrown;
  }
  if (budget.size > budget.limits.maxPayloadBytes) throw overBudget(budget.limits);
  return out;
}

function decodeList(r: ProtoReader, end: number, depth: number, budget: JsonBudget): JsonValue {
  if (depth >= budget.limits.maxJsonDepth) throw tooDeep(budget.limits);
  const out: JsonValue[] = [];
  try {
    for (let stop = nextFirst(r, end); stop >= 0; stop = nextFirst(r, end)) {
      out.push(decodeValue(r, stop, depth + 1, budget));
      r.pos = stop;
    }
  } catch (thrown) {
    addJsonSegment(thrown, out.length);
    throw thrown;
  }
  budget.size += CONTAINER_BYTES + out.length;
  if (budget.size > budget.limits.maxPayloadBytes) throw overBudget(budget.limits);
  return out;
}
