import { jsonSizeEstimate } from '../core/log.js';
import type { JsonValue } from '../core/types.js';
import { describeValue } from './describe-value.js';
import { WireError, type WireErrorCode } from './errors.js';
import { DEFAULT_WIRE_LIMITS } from './limits.js';
import { fieldPath, type ParentPath } from './paths.js';
import { isWellFormedString } from './strings.js';
import { checkBudget, newBudget, type WalkBudget } from './walk-budget.js';

/**
 * Validation and deep copy of user commands (`google.protobuf.Value`).
 *
 * Copies are built so that keys such as `__proto__`, `constructor` and
 * `prototype` become plain own data properties: nothing is ever assigned
 * through the `__proto__` setter, so no prototype is polluted or replaced.
 * @internal
 */

/**
 * A problem found inside a value; turned into a WireError with a path. The
 * walk records the position only while the problem propagates (innermost
 * segment first), so valid values cost no path bookkeeping.
 */
class JsonProblem {
  /** Array indexes and object keys from the problem outward. */
  readonly segments: (string | number)[] = [];
  constructor(
    readonly code: WireErrorCode,
    readonly problem: string,
  ) {}
}

/** Adds `segment` to a JsonProblem passing through; anything else is left alone. */
function addSegment(thrown: unknown, segment: string | number): void {
  if (thrown instanceof JsonProblem) thrown.segments.push(segment);
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
 * of the instructions of a commit). Checked once per command walked.
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

/**
 * Checks that `value` is a JSON value within the limits and returns a fresh
 * deep copy (or `value` itself when `copy` is false). Throws WireError whose
 * field is `path` plus the position inside the value, e.g. `proposeRequest.command.a[3]`.
 */
export function copyJsonValue(value: unknown, path: string, budget: WalkBudget, copy: boolean): JsonValue {
  return copyJsonField(value, path, '', budget, copy);
}

/**
 * {@link copyJsonValue} of field `name` of the object at `parent` (`name` ''
 * for `parent` itself); the path is only built when the value is rejected.
 */
export function copyJsonField(value: unknown, parent: ParentPath, name: string, budget: WalkBudget, copy: boolean): JsonValue {
  try {
    return walk(value, 0, budget, copy, typeof value === 'object' && value !== null && inheritedKeysEnumerable());
  } catch (thrown) {
    const path = name === '' ? String(parent) : fieldPath(parent, name);
    if (thrown instanceof JsonProblem) {
      throw new WireError(thrown.code, thrown.problem, path + formatSegments(thrown.segments));
    }
    if (thrown instanceof RangeError) {
      throw new WireError('LIMIT_EXCEEDED', 'command is nested too deeply', path, { cause: thrown });
    }
    throw thrown;
  }
}

/**
 * How the wire layer treats the commands of a message it turns into a payload:
 * `validate-copy` checks them and copies them, `validate-reference` checks
 * them and puts the message's own objects in the payload (for a message the
 * caller owns, freshly decoded), and `trusted-copy` copies them without
 * checking again, for a node's own messages, whose commands were checked when
 * they entered the node (see {@link copyTrustedJson}).
 */
export type CommandHandling = 'validate-copy' | 'validate-reference' | 'trusted-copy';

/**
 * Command `name` of the object at `parent` as `handling` says, with its size
 * added to `budget`. Throws WireError LIMIT_EXCEEDED when the budget passes
 * maxPayloadBytes (and, unless trusted, any other problem of the value).
 */
export function handleCommand(value: unknown, parent: ParentPath, name: string, budget: WalkBudget, handling: CommandHandling): JsonValue {
  if (handling !== 'trusted-copy') return copyJsonField(value, parent, name, budget, handling === 'validate-copy');
  const copy = copyTrustedJson(value as JsonValue, budget);
  if (budget.size > budget.limits.maxPayloadBytes) checkBudget(budget, fieldPath(parent, name));
  return copy;
}

/**
 * A deep copy of a JSON value that was already checked by the walk of
 * {@link copyJsonValue} (when it was proposed or arrived in a payload; a
 * loaded log is checked at start), adding to `budget` the same size that walk
 * adds, so the payload's size check still holds (the caller makes it). The
 * per-string, depth and type checks are not repeated: a node's own log is
 * copied into one payload per follower, and they were most of that cost.
 * Objects are copied with spread, which defines a `__proto__` key as an own
 * data property, like the walk.
 */
export function copyTrustedJson(value: JsonValue, budget: WalkBudget): JsonValue {
  if (typeof value !== 'object' || value === null) {
    budget.size += jsonSizeEstimate(value);
    return value;
  }
  return copyTrustedObject(value, budget, inheritedKeysEnumerable());
}

/**
 * The copy of a command from the log that an `apply` listener gets: a
 * {@link copyTrustedJson} whose size count is not needed. Like it, only for
 * values already checked by the walk (every command in a log was).
 */
export function cloneTrustedJson(value: JsonValue): JsonValue {
  return copyTrustedJson(value, newBudget(DEFAULT_WIRE_LIMITS));
}

/** {@link copyTrustedJson} of an array or object; `checkOwnKeys` as for the walk. */
function copyTrustedObject(value: JsonValue[] | { [key: string]: JsonValue }, budget: WalkBudget, checkOwnKeys: boolean): JsonValue {
  if (Array.isArray(value)) {
    const out = value.slice();
    budget.size += 2 + out.length;
    for (let i = 0; i < out.length; i++) {
      const element = out[i];
      if (typeof element === 'object' && element !== null) out[i] = copyTrustedObject(element, budget, checkOwnKeys);
      else budget.size += jsonSizeEstimate(element);
    }
    return out;
  }
  const out: Record<string, JsonValue> = { ...value };
  budget.size += 2;
  for (const key in out) {
    if (checkOwnKeys && !hasOwnProperty.call(out, key)) continue;
    const member = out[key];
    if (typeof member === 'object' && member !== null) out[key] = copyTrustedObject(member, budget, checkOwnKeys);
    else budget.size += jsonSizeEstimate(member);
    budget.size += key.length + 4;
  }
  return out;
}

/** Formats segments recorded innermost first as a path suffix such as `.a[3]["b c"]`. */
function formatSegments(segments: (string | number)[]): string {
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
 * Checks (and with `copy`, copies) one JSON value; `checkOwnKeys` says whether
 * for-in keys must be checked to be own (see {@link inheritedKeysEnumerable}).
 */
function walk(value: unknown, depth: number, budget: WalkBudget, copy: boolean, checkOwnKeys: boolean): JsonValue {
  switch (typeof value) {
    case 'string':
      checkString(value, budget);
      budget.size += value.length + 2;
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new JsonProblem('INVALID_NUMBER', `must be a finite number, got ${describeValue(value)}`);
      }
      budget.size += 8;
      return value === 0 ? 0 : value; // normalizes -0, which JSON cannot carry
    case 'boolean':
      budget.size += 5;
      return value;
    case 'object': {
      if (value === null) {
        budget.size += 4;
        return null;
      }
      if (depth >= budget.limits.maxJsonDepth) {
        throw new JsonProblem('LIMIT_EXCEEDED', `exceeds maxJsonDepth (${budget.limits.maxJsonDepth})`);
      }
      if (Array.isArray(value)) {
        const length = value.length;
        const out: JsonValue[] | undefined = copy ? new Array<JsonValue>(length) : undefined;
        budget.size += 2 + length;
        let i = 0;
        try {
          for (; i < length; i++) {
            const element = walk(value[i], depth + 1, budget, copy, checkOwnKeys);
            if (out !== undefined) out[i] = element;
          }
        } catch (thrown) {
          addSegment(thrown, i);
          throw thrown;
        }
        if (budget.size > budget.limits.maxPayloadBytes) throwOverBudget(budget);
        return out ?? (value as JsonValue[]);
      }
      if (!isPlainObject(value)) {
        throw new JsonProblem('INVALID_TYPE', 'must be a JSON value, got a non-plain object');
      }
      const out: Record<string, JsonValue> | undefined = copy ? {} : undefined;
      budget.size += 2;
      let key = '';
      try {
        // for-in with an own-property check visits what Object.keys returns, without allocating the key array.
        for (key in value) {
          if (checkOwnKeys && !hasOwnProperty.call(value, key)) continue;
          checkString(key, budget);
          budget.size += key.length + 4;
          const member = walk(value[key], depth + 1, budget, copy, checkOwnKeys);
          if (out !== undefined) {
            if (key === '__proto__') setOwn(out, key, member);
            else out[key] = member;
          }
        }
      } catch (thrown) {
        addSegment(thrown, key);
        throw thrown;
      }
      if (budget.size > budget.limits.maxPayloadBytes) throwOverBudget(budget);
      return out ?? (value as Record<string, JsonValue>);
    }
    default:
      throw new JsonProblem('INVALID_TYPE', `must be a JSON value, got ${describeValue(value)}`);
  }
}

function checkString(text: string, budget: WalkBudget): void {
  if (text.length > budget.limits.maxStringLength) {
    throw new JsonProblem(
      'LIMIT_EXCEEDED',
      `string of ${text.length} characters exceeds maxStringLength (${budget.limits.maxStringLength})`,
    );
  }
  if (!isWellFormedString(text)) {
    throw new JsonProblem('INVALID_STRING', 'must be well-formed UTF-16 (contains a lone surrogate)');
  }
}

function throwOverBudget(budget: WalkBudget): never {
  throw new JsonProblem('LIMIT_EXCEEDED', `payload exceeds maxPayloadBytes (${budget.limits.maxPayloadBytes} bytes)`);
}
