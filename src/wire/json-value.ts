import type { JsonValue } from '../core/types.js';
import { describeValue } from './describe-value.js';
import { WireError, type WireErrorCode } from './errors.js';
import { isWellFormedString } from './strings.js';
import type { WalkBudget } from './walk-budget.js';

/**
 * Validation and deep copy of user commands (`google.protobuf.Value`).
 *
 * Copies are built so that keys such as `__proto__`, `constructor` and
 * `prototype` become plain own data properties: nothing is ever assigned
 * through the `__proto__` setter, so no prototype is polluted or replaced.
 * @internal
 */

/** A problem found at the current position of a walk; turned into a WireError with a path. */
class JsonProblem {
  constructor(
    readonly code: WireErrorCode,
    readonly problem: string,
  ) {}
}

/** True for `{}`-like objects of any realm (prototype null or a realm's Object.prototype). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
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
  const segments: (string | number)[] = [];
  try {
    return walk(value, 0, budget, copy, segments);
  } catch (thrown) {
    if (thrown instanceof JsonProblem) {
      throw new WireError(thrown.code, thrown.problem, path + formatSegments(segments));
    }
    if (thrown instanceof RangeError) {
      throw new WireError('LIMIT_EXCEEDED', 'command is nested too deeply', path, { cause: thrown });
    }
    throw thrown;
  }
}

function formatSegments(segments: (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function walk(value: unknown, depth: number, budget: WalkBudget, copy: boolean, segments: (string | number)[]): JsonValue {
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
        for (let i = 0; i < length; i++) {
          segments.push(i);
          const element = walk(value[i], depth + 1, budget, copy, segments);
          segments.pop();
          if (out !== undefined) out[i] = element;
        }
        if (budget.size > budget.limits.maxPayloadBytes) throwOverBudget(budget);
        return out ?? (value as JsonValue[]);
      }
      if (!isPlainObject(value)) {
        throw new JsonProblem('INVALID_TYPE', 'must be a JSON value, got a non-plain object');
      }
      const keys = Object.keys(value);
      const out: Record<string, JsonValue> | undefined = copy ? {} : undefined;
      budget.size += 2;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        segments.push(key);
        checkString(key, budget);
        budget.size += key.length + 4;
        const member = walk(value[key], depth + 1, budget, copy, segments);
        segments.pop();
        if (out !== undefined) {
          if (key === '__proto__') setOwn(out, key, member);
          else out[key] = member;
        }
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
