import { decodeBase64 } from './base64.js';
import { describeValue, isPlainObject, isWellFormedString } from '../core/json.js';
import { WireError } from './errors.js';
import { fieldPath, type ParentPath } from './paths.js';
import { SCALAR_FIELD_BYTES, type WalkBudget } from './walk-budget.js';

/**
 * Readers for the scalar fields of an incoming proto3 JSON object. Each takes
 * the field's lowerCamelCase and original snake_case names (the same string
 * for one-word fields) and the path of the containing object ('' at top
 * level, a number for that entry of an AppendEntriesRequest, so the path
 * string is only built for an error message), treats `null` as absent (proto3 JSON), returns the proto3 default
 * when absent, and throws WireError naming the field otherwise.
 * @internal
 */

/** A JSON object as read from a payload. */
export type PayloadObject = Record<string, unknown>;

export { fieldPath, type ParentPath } from './paths.js';

/**
 * The raw value of a field given under either name, or undefined when absent
 * or null. Both names set is DUPLICATE_FIELD, as in other proto3 JSON parsers.
 */
export function readField(obj: PayloadObject, camel: string, snake: string, parent: ParentPath): unknown {
  const value = obj[camel];
  if (snake === camel) return value === null ? undefined : value;
  return eitherName(value, obj[snake], camel, snake, parent);
}

/**
 * {@link readField} of a two-word field whose values under the camel and the
 * snake name the caller has already loaded.
 */
export function eitherName(value: unknown, other: unknown, camel: string, snake: string, parent: ParentPath): unknown {
  if (other === undefined || other === null) return value === null ? undefined : value;
  if (value !== undefined && value !== null) {
    throw new WireError('DUPLICATE_FIELD', `given both as "${camel}" and as "${snake}"`, fieldPath(parent, camel));
  }
  return other;
}

/**
 * Parses a proto3 JSON uint64 given as a number or a canonical decimal string;
 * only integers in 0..2^53-1 are accepted.
 */
export function parseUint64(value: unknown, path: string): number {
  const parsed = uint64OrMinus1(value);
  if (parsed >= 0) return parsed;
  return uint64Error(value, path);
}

/**
 * The value of a valid proto3 JSON uint64 (see {@link parseUint64}), or -1.
 * Never throws and builds no strings, for the hot paths.
 */
function uint64OrMinus1(value: unknown): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value + 0 : -1; // + 0 turns -0 into 0
  if (typeof value !== 'string') return -1;
  const length = value.length;
  if (length === 0 || length > 16) return -1;
  let parsed = 0;
  for (let i = 0; i < length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9 || (digit === 0 && i === 0 && length > 1)) return -1;
    parsed = parsed * 10 + digit;
  }
  return parsed <= Number.MAX_SAFE_INTEGER ? parsed : -1;
}

/** The WireError {@link parseUint64} throws for an invalid `value`. */
export function uint64Error(value: unknown, path: string): never {
  if (typeof value === 'number') {
    throw new WireError('INVALID_NUMBER', `must be an integer in 0..2^53-1, got ${describeValue(value)}`, path);
  }
  if (typeof value === 'string') {
    throw new WireError(
      'INVALID_NUMBER',
      `must be an integer in 0..2^53-1 (a number or a canonical decimal string), got ${describeValue(value)}`,
      path,
    );
  }
  throw new WireError('INVALID_TYPE', `must be an integer in 0..2^53-1, got ${describeValue(value)}`, path);
}

/** A uint64 field; 0 when absent. */
export function readUint64(obj: PayloadObject, camel: string, snake: string, parent: ParentPath, budget: WalkBudget): number {
  return uint64Value(readField(obj, camel, snake, parent), camel, parent, budget);
}

/** A uint64 field's value as {@link readField} returns it; 0 when undefined. */
export function uint64Value(value: unknown, camel: string, parent: ParentPath, budget: WalkBudget): number {
  budget.size += SCALAR_FIELD_BYTES;
  if (value === undefined) return 0;
  const parsed = uint64OrMinus1(value);
  return parsed >= 0 ? parsed : uint64Error(value, fieldPath(parent, camel));
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
export function readString(obj: PayloadObject, camel: string, snake: string, parent: ParentPath, budget: WalkBudget): string {
  return stringValue(readField(obj, camel, snake, parent), camel, parent, budget);
}

/** A string field's value as {@link readField} returns it; '' when undefined. */
export function stringValue(value: unknown, camel: string, parent: ParentPath, budget: WalkBudget): string {
  if (value === undefined) return '';
  if (typeof value === 'string' && value.length <= budget.limits.maxStringLength && isWellFormedString(value)) {
    budget.size += value.length + SCALAR_FIELD_BYTES;
    return value;
  }
  return checkStringValue(value, fieldPath(parent, camel), budget);
}

/** An address that must be present and non-empty (MISSING_FIELD otherwise). */
export function readRequiredAddress(
  obj: PayloadObject,
  camel: string,
  snake: string,
  parent: ParentPath,
  budget: WalkBudget,
): string {
  return requiredAddressValue(readField(obj, camel, snake, parent), camel, parent, budget);
}

/** An address field's value as {@link readField} returns it; must be a non-empty string. */
export function requiredAddressValue(value: unknown, camel: string, parent: ParentPath, budget: WalkBudget): string {
  const address = stringValue(value, camel, parent, budget);
  if (address === '') throw new WireError('MISSING_FIELD', 'must be a non-empty address', fieldPath(parent, camel));
  return address;
}

/** A bool field; false when absent. */
export function readBool(obj: PayloadObject, camel: string, snake: string, parent: ParentPath, budget: WalkBudget): boolean {
  const value = readField(obj, camel, snake, parent);
  budget.size += SCALAR_FIELD_BYTES;
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new WireError('INVALID_TYPE', `must be a boolean, got ${describeValue(value)}`, fieldPath(parent, camel));
  }
  return value;
}

/** A bytes field given as standard or URL-safe base64; empty when absent. */
export function readBytes(obj: PayloadObject, camel: string, snake: string, parent: ParentPath, budget: WalkBudget): Uint8Array {
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

/** A repeated string field, of non-empty addresses when `addresses`; [] when absent. */
export function readStringList(
  obj: PayloadObject,
  camel: string,
  snake: string,
  parent: ParentPath,
  budget: WalkBudget,
  addresses: boolean,
): string[] {
  const value = readField(obj, camel, snake, parent);
  if (value === undefined) return [];
  const path = fieldPath(parent, camel);
  if (!Array.isArray(value)) throw new WireError('INVALID_TYPE', `must be an array of strings, got ${describeValue(value)}`, path);
  const out = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const address = checkStringValue(value[i], `${path}[${i}]`, budget);
    if (addresses && address === '') throw new WireError('MISSING_FIELD', 'must be a non-empty address', `${path}[${i}]`);
    out[i] = address;
  }
  return out;
}

/** A nested message field: its object, or undefined when absent. */
export function readObject(obj: PayloadObject, camel: string, snake: string, parent: ParentPath): PayloadObject | undefined {
  const value = readField(obj, camel, snake, parent);
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    throw new WireError('NOT_AN_OBJECT', `must be an object, got ${describeValue(value)}`, fieldPath(parent, camel));
  }
  return value;
}
