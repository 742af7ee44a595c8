import { decodeBase64 } from './base64.js';
import { describeValue } from './describe-value.js';
import { WireError } from './errors.js';
import { isPlainObject } from './json-value.js';
import { isWellFormedString } from './strings.js';
import { SCALAR_FIELD_BYTES, type WalkBudget } from './walk-budget.js';

/**
 * Readers for the scalar fields of an incoming proto3 JSON object. Each takes
 * the field's lowerCamelCase and original snake_case names (the same string
 * for one-word fields) and the path of the containing object ('' at top
 * level), treats `null` as absent (proto3 JSON), returns the proto3 default
 * when absent, and throws WireError naming the field otherwise.
 * @internal
 */

/** A JSON object as read from a payload. */
export type PayloadObject = Record<string, unknown>;

/** `parent.name`, or `name` at the top level. */
export function fieldPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}

/**
 * The raw value of a field given under either name, or undefined when absent
 * or null. Both names set is DUPLICATE_FIELD, as in other proto3 JSON parsers.
 */
export function readField(obj: PayloadObject, camel: string, snake: string, parent: string): unknown {
  const value = obj[camel];
  if (snake === camel) return value === null ? undefined : value;
  const other = obj[snake];
  if (other === undefined || other === null) return value === null ? undefined : value;
  if (value !== undefined && value !== null) {
    throw new WireError('DUPLICATE_FIELD', `given both as "${camel}" and as "${snake}"`, fieldPath(parent, camel));
  }
  return other;
}

const MAX_SAFE_DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * Parses a proto3 JSON uint64 given as a number or a canonical decimal string;
 * only integers in 0..2^53-1 are accepted.
 */
export function parseUint64(value: unknown, path: string): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value + 0; // + 0 turns -0 into 0
    throw new WireError('INVALID_NUMBER', `must be an integer in 0..2^53-1, got ${describeValue(value)}`, path);
  }
  if (typeof value === 'string') {
    if (MAX_SAFE_DECIMAL.test(value)) {
      const parsed = Number(value);
      if (parsed <= Number.MAX_SAFE_INTEGER) return parsed;
    }
    throw new WireError(
      'INVALID_NUMBER',
      `must be an integer in 0..2^53-1 (a number or a canonical decimal string), got ${describeValue(value)}`,
      path,
    );
  }
  throw new WireError('INVALID_TYPE', `must be an integer in 0..2^53-1, got ${describeValue(value)}`, path);
}

/** A uint64 field; 0 when absent. */
export function readUint64(obj: PayloadObject, camel: string, snake: string, parent: string, budget: WalkBudget): number {
  const value = readField(obj, camel, snake, parent);
  budget.size += SCALAR_FIELD_BYTES;
  return value === undefined ? 0 : parseUint64(value, fieldPath(parent, camel));
}

/** Checks a string value against maxStringLength and UTF-16 well-formedness. */
export function checkStringValue(value: unknown, path: string, budget: WalkBudget): string {
  if (typeof value !== 'string') {
    throw new WireError('INVALID_TYPE', `must be a string, got ${describeValue(value)}`, path);
  }
  if (value.length > budget.limits.maxStringLength) {
    throw new WireError(
      'LIMIT_EXCEEDED',
      `string of ${value.length} characters exceeds maxStringLength (${budget.limits.maxStringLength})`,
      path,
    );
  }
  if (!isWellFormedString(value)) {
    throw new WireError('INVALID_STRING', 'must be well-formed UTF-16 (contains a lone surrogate)', path);
  }
  budget.size += value.length + SCALAR_FIELD_BYTES;
  return value;
}

/** A string field; '' when absent. */
export function readString(obj: PayloadObject, camel: string, snake: string, parent: string, budget: WalkBudget): string {
  const value = readField(obj, camel, snake, parent);
  return value === undefined ? '' : checkStringValue(value, fieldPath(parent, camel), budget);
}

/** An address that must be present and non-empty (MISSING_FIELD otherwise). */
export function readRequiredAddress(
  obj: PayloadObject,
  camel: string,
  snake: string,
  parent: string,
  budget: WalkBudget,
): string {
  const value = readString(obj, camel, snake, parent, budget);
  if (value === '') throw new WireError('MISSING_FIELD', 'must be a non-empty address', fieldPath(parent, camel));
  return value;
}

/** A bool field; false when absent. */
export function readBool(obj: PayloadObject, camel: string, snake: string, parent: string, budget: WalkBudget): boolean {
  const value = readField(obj, camel, snake, parent);
  budget.size += SCALAR_FIELD_BYTES;
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new WireError('INVALID_TYPE', `must be a boolean, got ${describeValue(value)}`, fieldPath(parent, camel));
  }
  return value;
}

/** A bytes field given as standard or URL-safe base64; empty when absent. */
export function readBytes(obj: PayloadObject, camel: string, snake: string, parent: string, budget: WalkBudget): Uint8Array {
  const value = readField(obj, camel, snake, parent);
  if (value === undefined) return new Uint8Array(0);
  const path = fieldPath(parent, camel);
  if (typeof value !== 'string') {
    throw new WireError('INVALID_TYPE', `must be a base64 string, got ${describeValue(value)}`, path);
  }
  budget.size += value.length + SCALAR_FIELD_BYTES;
  if (budget.size > budget.limits.maxPayloadBytes) {
    throw new WireError('LIMIT_EXCEEDED', `payload exceeds maxPayloadBytes (${budget.limits.maxPayloadBytes} bytes)`, path);
  }
  const bytes = decodeBase64(value);
  if (bytes === null) throw new WireError('INVALID_TYPE', `must be a base64 string, got ${describeValue(value)}`, path);
  return bytes;
}

/** A repeated string field of non-empty addresses; [] when absent. */
export function readAddressList(
  obj: PayloadObject,
  camel: string,
  snake: string,
  parent: string,
  budget: WalkBudget,
): string[] {
  const value = readField(obj, camel, snake, parent);
  if (value === undefined) return [];
  const path = fieldPath(parent, camel);
  if (!Array.isArray(value)) throw new WireError('INVALID_TYPE', `must be an array of strings, got ${describeValue(value)}`, path);
  const out = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const address = checkStringValue(value[i], `${path}[${i}]`, budget);
    if (address === '') throw new WireError('MISSING_FIELD', 'must be a non-empty address', `${path}[${i}]`);
    out[i] = address;
  }
  return out;
}

/** A nested message field: its object, or undefined when absent. */
export function readObject(obj: PayloadObject, camel: string, snake: string, parent: string): PayloadObject | undefined {
  const value = readField(obj, camel, snake, parent);
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(value)}`, fieldPath(parent, camel));
  }
  return value;
}
