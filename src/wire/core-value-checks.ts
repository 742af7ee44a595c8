import { describeValue, isWellFormedString } from '../core/json.js';
import { WireError } from './errors.js';
import { checkStringValue, stringValue } from './field-readers.js';
import { fieldPath, type ParentPath } from './paths.js';
import { SCALAR_FIELD_BYTES, type WalkBudget } from './walk-budget.js';

/**
 * Runtime checks of the fields of an outgoing core message: the core is typed,
 * but a core bug must not leak an invalid payload onto the wire.
 * @internal
 */

/** An integer in 0..2^53-1. */
export function checkUint(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value + 0;
  throw new WireError(
    typeof value === 'number' ? 'INVALID_NUMBER' : 'INVALID_TYPE',
    `must be an integer in 0..2^53-1, got ${describeValue(value)}`,
    path,
  );
}

/** {@link checkUint} of field `name` of the object at `parent`; the path is built only for an error. */
export function checkUintAt(value: unknown, parent: ParentPath, name: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value + 0;
  return checkUint(value, fieldPath(parent, name));
}

/** A boolean field `name` of the object at `parent`. */
export function checkBool(value: unknown, parent: ParentPath, name: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new WireError('INVALID_TYPE', `must be a boolean, got ${describeValue(value)}`, fieldPath(parent, name));
}

/** A string field `name` of the object at `parent`, within maxStringLength and well-formed; the path is built only for an error. */
export function checkString(value: unknown, parent: ParentPath, name: string, budget: WalkBudget): string {
  if (typeof value === 'string' && value.length <= budget.limits.maxStringLength && isWellFormedString(value)) {
    budget.size += value.length + SCALAR_FIELD_BYTES;
    return value;
  }
  return checkStringValue(value, fieldPath(parent, name), budget);
}

/** A non-empty address field `name` of the object at `parent`. */
export function checkAddress(value: unknown, parent: ParentPath, name: string, budget: WalkBudget): string {
  const address = checkString(value, parent, name, budget);
  if (address === '') throw new WireError('MISSING_FIELD', 'must be a non-empty address', fieldPath(parent, name));
  return address;
}

/** An optional string field `name` of LogEntry `entry` (undefined is ''). */
export function checkOptionalString(value: unknown, entry: number, name: string, budget: WalkBudget): string {
  return value === undefined ? '' : stringValue(value, name, entry, budget);
}

/** An optional uint64 field `name` of LogEntry `entry` (undefined is 0). */
export function checkOptionalUint(value: unknown, entry: number, name: string, budget: WalkBudget): number {
  budget.size += SCALAR_FIELD_BYTES;
  return value === undefined ? 0 : checkUintAt(value, entry, name);
}

/** A fresh copy of an array of strings, non-empty ones when they are `addresses`. */
export function copyStringList(value: unknown, path: string, budget: WalkBudget, addresses: boolean): string[] {
  if (!Array.isArray(value)) {
    throw new WireError('INVALID_TYPE', `must be an array of strings, got ${describeValue(value)}`, path);
  }
  const out = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const element = checkStringValue(value[i], `${path}[${i}]`, budget);
    if (addresses && element === '') throw new WireError('MISSING_FIELD', 'must be a non-empty address', `${path}[${i}]`);
    out[i] = element;
  }
  return out;
}
