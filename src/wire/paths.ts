/**
 * Field paths for error messages, built only when an error is thrown.
 * @internal
 */

/** Path of an object holding fields: '' at top level, a path, or the index of an AppendEntriesRequest entry. */
export type ParentPath = string | number;

/** Path of entry `i` of an AppendEntriesRequest. */
export function entryPath(i: number): string {
  return `appendEntriesRequest.entries[${i}]`;
}

/** `parent.name`, or `name` at the top level. */
export function fieldPath(parent: ParentPath, name: string): string {
  if (typeof parent === 'number') return `${entryPath(parent)}.${name}`;
  return parent === '' ? name : `${parent}.${name}`;
}
