/**
 * Short human-readable rendering of an offending value for error messages:
 * `-1`, `NaN`, `"12a"`, `null`, `an array`, `an object`.
 * @internal
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
