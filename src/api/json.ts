import type { JsonValue } from '../core/types.js';
import { hasOwnProperty, setOwn } from '../wire/json-value.js';

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
