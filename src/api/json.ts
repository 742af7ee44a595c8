import type { JsonValue } from '../core/types.js';

/**
 * A deep copy of a JSON value, or undefined when `value` is not one (undefined,
 * functions, symbols, BigInt, non-finite numbers, cycles, class instances other
 * than plain objects and arrays). Keys such as `__proto__` are copied as own data.
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
      for (const key of Object.keys(value)) {
        const item = cloneJson((value as Record<string, unknown>)[key], depth + 1);
        if (item === undefined) return undefined;
        Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return undefined;
  }
}

/**
 * Like `cloneJson`, and also returns the approximate JSON size of the value in
 * characters (used to fill AppendEntries up to a byte budget without
 * stringifying every command).
 */
export function cloneJsonWithSize(value: unknown): { value: JsonValue; size: number } | undefined {
  const counter = { size: 0 };
  const copy = cloneCounted(value, 0, counter);
  return copy === undefined ? undefined : { value: copy, size: counter.size };
}

function cloneCounted(value: unknown, depth: number, counter: { size: number }): JsonValue | undefined {
  if (depth > 256) throw new RangeError('JSON value nested too deeply');
  if (value === null) {
    counter.size += 4;
    return null;
  }
  switch (typeof value) {
    case 'string':
      counter.size += value.length + 2;
      return value;
    case 'boolean':
      counter.size += 5;
      return value;
    case 'number':
      counter.size += 8;
      return Number.isFinite(value) ? value : undefined;
    case 'object': {
      if (Array.isArray(value)) {
        const out: JsonValue[] = new Array(value.length);
        counter.size += 2;
        for (let i = 0; i < value.length; i++) {
          const item = cloneCounted(value[i], depth + 1, counter);
          if (item === undefined) return undefined;
          out[i] = item;
          counter.size += 1;
        }
        return out;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return undefined;
      const out: { [key: string]: JsonValue } = {};
      counter.size += 2;
      for (const key of Object.keys(value)) {
        const item = cloneCounted((value as Record<string, unknown>)[key], depth + 1, counter);
        if (item === undefined) return undefined;
        counter.size += key.length + 4;
        Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      return undefined;
  }
}
