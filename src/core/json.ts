import type { JsonValue } from './types.js';

/**
 * The one module for JSON values (users' commands and snapshot data): their
 * size estimate, validation (with or without a copy), the copy of an
 * untrusted value, and the cheaper copy of a value already validated. Used by
 * the core, the wire and binary codecs, the API and the tests, so every layer
 * counts, checks and copies a value the same way.
 *
 * Copies are built so that keys such as `__proto__`, `constructor` and
 * `prototype` become plain own data properties: nothing is ever assigned
 * through the `__proto__` setter, so no prototype is polluted or replaced.
 */

/**
 * The size scale of a JSON value, the one `maxPayloadBytes` bounds: a string
 * counts its UTF-16 length plus {@link STRING_BYTES}, a number
 * {@link NUMBER_BYTES}, a boolean {@link BOOLEAN_BYTES}, null
 * {@link NULL_BYTES}, an array {@link CONTAINER_BYTES} plus one per element,
 * an object {@link CONTAINER_BYTES} plus its keys' lengths and
 * {@link MEMBER_BYTES} per member. Cheaper than JSON.stringify, and never
 * below what any walk of the value counts (an array of small numbers counts
 * 9 per element where its JSON has 2).
 */
export const STRING_BYTES = 2;
export const NUMBER_BYTES = 8;
export const BOOLEAN_BYTES = 5;
export const NULL_BYTES = 4;
export const CONTAINER_BYTES = 2;
export const MEMBER_BYTES = 4;

/** The bounds a JSON value must respect (a subset of the wire's limits). */
export interface JsonLimits {
  /** Upper bound on the size estimate of the whole payload the value is part of. */
  readonly maxPayloadBytes: number;
  /** Longest string (in UTF-16 code units), keys included. */
  readonly maxStringLength: number;
  /** Deepest nesting of arrays and objects (`{}` and `[]` are depth 1). */
  readonly maxJsonDepth: number;
}

/** The running size estimate of one payload and the limits in force. */
export interface JsonBudget {
  readonly limits: Readonly<JsonLimits>;
  /** Estimated bytes counted so far. */
  size: number;
}

/** What can be wrong with a JSON value; a subset of the wire's error codes. */
export type JsonProblemCode = 'INVALID_NUMBER' | 'INVALID_TYPE' | 'INVALID_STRING' | 'LIMIT_EXCEEDED';

/**
 * A problem found inside a value by {@link validateJson}. The walk records
 * the position only while the problem propagates (innermost segment first),
 * so valid values cost no path bookkeeping; {@link formatJsonPath} renders it.
 */
export class JsonProblem {
  /** Array indexes and object keys from the problem outward. */
  readonly segments: (string | number)[] = [];
  constructor(
    readonly code: JsonProblemCode,
    readonly problem: string,
  ) {}
}

/** The size estimate of a JSON value (see {@link STRING_BYTES} for the scale). */
export function jsonSizeEstimate(value: JsonValue): number {
  switch (typeof value) {
    case 'string':
      return value.length + STRING_BYTES;
    case 'number':
      return NUMBER_BYTES;
    case 'boolean':
      return BOOLEAN_BYTES;
    default:
      break;
  }
  if (value === null) return NULL_BYTES;
  if (Array.isArray(value)) {
    let size = CONTAINER_BYTES + value.length;
    for (let i = 0; i < value.length; i++) size += jsonSizeEstimate(value[i]);
    return size;
  }
  let size = CONTAINER_BYTES;
  const object = value as { [key: string]: JsonValue };
  for (const key in object) {
    if (!hasOwnProperty.call(object, key)) continue;
    size += key.length + MEMBER_BYTES + jsonSizeEstimate(object[key]);
  }
  return size;
}

/**
 * `Object.prototype.hasOwnProperty`, for own-key checks in for-in loops: V8
 * can answer it for a key of the same object from the enumeration cache,
 * which it does not do for `Object.hasOwn` (about 2x faster in a for-in
 * micro-benchmark on Node 20).
 */
export const hasOwnProperty = Object.prototype.hasOwnProperty;

const EMPTY_OBJECT = {};

/**
 * True when for-in over a plain object may visit inherited keys: something
 * made a property of Object.prototype enumerable (prototype pollution by some
 * other code). Otherwise for-in over a `{}`-like object visits exactly its own
 * enumerable keys, and the walks skip the per-key own-property check (about 1%
 * of the instructions of a commit). Checked once per value walked.
 */
export function inheritedKeysEnumerable(): boolean {
  for (const key in EMPTY_OBJECT) return key !== undefined; // EMPTY_OBJECT has no own key: any key is inherited
  return false;
}

/** True for `{}`-like objects of any realm (prototype null or a realm's Object.prototype). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}

/** Stores `value` under `key` as an own data property, safe for `__proto__`. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

type WellFormedString = string & { isWellFormed(): boolean };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True when `text` has no lone surrogate, i.e. it has a UTF-8 encoding and
 * survives protobuf binary and other languages' JSON parsers unchanged.
 */
export const isWellFormedString: (text: string) => boolean =
  typeof (String.prototype as Partial<WellFormedString>).isWellFormed === 'function'
    ? (text) => (text as WellFormedString).isWellFormed()
    : (text) => !LONE_SURROGATE.test(text);

/**
 * Short human-readable rendering of an offending value for error messages:
 * `-1`, `NaN`, `"12a"`, `null`, `an array`, `an object`.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}...` : value);
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      if (value instanceof Uint8Array) return 'a Uint8Array';
      return 'an object';
  }
}

/** Formats segments recorded innermost first as a path suffix such as `.a[3]["b c"]`. */
export function formatJsonPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i];
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Checks that `value` is a JSON value within the budget's limits, adds its
 * size estimate to `budget`, and returns a fresh deep copy (or `value` itself
 * when `copy` is false). A top-level or nested -0 comes back as 0 in a copy.
 * @throws JsonProblem naming what is wrong and where; RangeError when the
 *   value is nested deeper than the stack allows (a cycle, or a huge maxJsonDepth).
 */
export function validateJson(value: unknown, budget: JsonBudget, copy: boolean): JsonValue {
  return walk(value, 0, budget, copy, typeof value === 'object' && value !== null && inheritedKeysEnumerable());
}

/** The {@link JsonProblem} a string breaks, if any: longer than maxStringLength, or not well-formed. */
export function checkJsonString(text: string, limits: Readonly<JsonLimits>): void {
  if (text.length > limits.maxStringLength) throw stringTooLong(text, limits);
  if (!isWellFormedString(text)) {
    throw new JsonProblem('INVALID_STRING', 'must be well-formed UTF-16 (contains a lone surrogate)');
  }
}

/** The {@link JsonProblem} of a string longer than maxStringLength. */
export function stringTooLong(text: string, limits: Readonly<JsonLimits>): JsonProblem {
  return new JsonProblem('LIMIT_EXCEEDED', `string of ${text.length} characters exceeds maxStringLength (${limits.maxStringLength})`);
}

/** The {@link JsonProblem} of a number that JSON cannot carry (NaN, ±Infinity). */
export function nonFiniteNumber(value: number): JsonProblem {
  return new JsonProblem('INVALID_NUMBER', `must be a finite number, got ${describeValue(value)}`);
}

/** The {@link JsonProblem} of an array or object at depth `maxJsonDepth` or deeper. */
export function tooDeep(limits: Readonly<JsonLimits>): JsonProblem {
  return new JsonProblem('LIMIT_EXCEEDED', `exceeds maxJsonDepth (${limits.maxJsonDepth})`);
}

/** The {@link JsonProblem} of a value whose size takes the payload over maxPayloadBytes. */
export function overBudget(limits: Readonly<JsonLimits>): JsonProblem {
  return new JsonProblem('LIMIT_EXCEEDED', `payload exceeds maxPayloadBytes (${limits.maxPayloadBytes} bytes)`);
}

/** Adds `segment` to a JsonProblem passing through; anything else is left alone. */
export function addJsonSegment(thrown: unknown, segment: string | number): void {
  if (thrown instanceof JsonProblem) thrown.segments.push(segment);
}

/**
 * Checks (and with `copy`, copies) one JSON value; `checkOwnKeys` says whether
 * for-in keys must be checked to be own (see {@link inheritedKeysEnumerable}).
 */
function walk(value: unknown, depth: number, budget: JsonBudget, copy: boolean, checkOwnKeys: boolean): JsonValue {
  switch (typeof value) {
    case 'string':
      checkJsonString(value, budget.limits);
      budget.size += value.length + STRING_BYTES;
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw nonFiniteNumber(value);
      budget.size += NUMBER_BYTES;
      return value === 0 ? 0 : value; // normalizes -0, which JSON cannot carry
    case 'boolean':
      budget.size += BOOLEAN_BYTES;
      return value;
    case 'object': {
      if (value === null) {
        budget.size += NULL_BYTES;
        return null;
      }
      if (depth >= budget.limits.maxJsonDepth) throw tooDeep(budget.limits);
      if (Array.isArray(value)) {
        const length = value.length;
        const out: JsonValue[] | undefined = copy ? new Array<JsonValue>(length) : undefined;
        budget.size += CONTAINER_BYTES + length;
        let i = 0;
        try {
          for (; i < length; i++) {
            const element = walk(value[i], depth + 1, budget, copy, checkOwnKeys);
            if (out !== undefined) out[i] = element;
          }
        } catch (thrown) {
          addJsonSegment(thrown, i);
          throw thrown;
        }
        if (budget.size > budget.limits.maxPayloadBytes) throw overBudget(budget.limits);
        return out ?? (value as JsonValue[]);
      }
      if (!isPlainObject(value)) {
        throw new JsonProblem('INVALID_TYPE', 'must be a JSON value, got a non-plain object');
      }
      const out: Record<string, JsonValue> | undefined = copy ? {} : undefined;
      budget.size += CONTAINER_BYTES;
      let key = '';
      try {
        // for-in with an own-property check visits what Object.keys returns, without allocating the key array.
        for (key in value) {
          if (checkOwnKeys && !hasOwnProperty.call(value, key)) continue;
          checkJsonString(key, budget.limits);
          budget.size += key.length + MEMBER_BYTES;
          const member = walk(value[key], depth + 1, budget, copy, checkOwnKeys);
          if (out !== undefined) {
            if (key === '__proto__') setOwn(out, key, member);
            else out[key] = member;
          }
        }
      } catch (thrown) {
        addJsonSegment(thrown, key);
        throw thrown;
      }
      if (budget.size > budget.limits.maxPayloadBytes) throw overBudget(budget.limits);
      return out ?? (value as Record<string, JsonValue>);
    }
    default:
      throw new JsonProblem('INVALID_TYPE', `must be a JSON value, got ${describeValue(value)}`);
  }
}

/**
 * A deep copy of a JSON value that was already checked by
 * {@link validateJson} (when it was proposed or arrived in a payload; a
 * loaded log is checked at start), adding to `budget` the same size that
 * validation adds, so the payload's size check still holds (the caller makes
 * it). The per-string, depth and type checks are not repeated: a node's own
 * log is copied into one payload per follower, and they were most of that
 * cost. Objects are copied with spread, which defines a `__proto__` key as an
 * own data property, like the validating copy.
 */
export function copyTrustedJson(value: JsonValue, budget: JsonBudget): JsonValue {
  if (typeof value !== 'object' || value === null) {
    budget.size += jsonSizeEstimate(value);
    return value;
  }
  return copyTrustedObject(value, budget, inheritedKeysEnumerable());
}

const UNLIMITED: JsonLimits = Object.freeze({ maxPayloadBytes: Infinity, maxStringLength: Infinity, maxJsonDepth: Infinity });

/**
 * The copy of a command from the log that an `apply` listener gets: a
 * {@link copyTrustedJson} whose size count is not needed. Like it, only for
 * values already validated (every command in a log was).
 */
export function cloneTrustedJson(value: JsonValue): JsonValue {
  return copyTrustedJson(value, { limits: UNLIMITED, size: 0 });
}

/** {@link copyTrustedJson} of an array or object; `checkOwnKeys` as for the walk. */
function copyTrustedObject(value: JsonValue[] | { [key: string]: JsonValue }, budget: JsonBudget, checkOwnKeys: boolean): JsonValue {
  if (Array.isArray(value)) {
    const out = value.slice();
    budget.size += CONTAINER_BYTES + out.length;
    for (let i = 0; i < out.length; i++) {
      const element = out[i];
      if (typeof element === 'object' && element !== null) out[i] = copyTrustedObject(element, budget, checkOwnKeys);
      else budget.size += jsonSizeEstimate(element);
    }
    return out;
  }
  const out: Record<string, JsonValue> = { ...value };
  budget.size += CONTAINER_BYTES;
  for (const key in out) {
    if (checkOwnKeys && !hasOwnProperty.call(out, key)) continue;
    const member = out[key];
    if (typeof member === 'object' && member !== null) out[key] = copyTrustedObject(member, budget, checkOwnKeys);
    else budget.size += jsonSizeEstimate(member);
    budget.size += key.length + MEMBER_BYTES;
  }
  return out;
}

/**
 * A deep copy of an untrusted value that should be JSON (an application's
 * snapshot), or undefined when it is not one (undefined, functions, symbols,
 * BigInt, non-finite numbers, cycles, class instances other than plain
 * objects and arrays). Unlike {@link validateJson} it applies no limits and
 * keeps strings as they are. Keys such as `__proto__` are copied as own data.
 * @throws RangeError when nested more than 256 deep (also a cycle).
 */
export function cloneJson(value: unknown, depth = 0): JsonValue | undefined {
  if (depth > 256) throw new RangeError('JSON value nested too deeply');
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'object': {
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = cloneJson(value[i], depth + 1);
          if (item === undefined) return undefined;
          out[i] = item;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return undefined;
      const out: { [key: string]: JsonValue } = {};
      // for-in with an own-property check visits what Object.keys returns, without allocating the key array.
      for (const key in value) {
        if (!hasOwnProperty.call(value, key)) continue;
        const item = cloneJson((value as Record<string, unknown>)[key], depth + 1);
        if (item === undefined) return undefined;
        if (key === '__proto__') setOwn(out, key, item);
        else out[key] = item;
      }
      return out;
    }
    default:
      return undefined;
  }
}
