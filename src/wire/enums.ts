import { ENUM_VALUES } from '../../generated/webraft/v1/raft.wire.js';
import { describeValue } from '../core/json.js';
import type { EntryType, MembershipChangeType } from '../core/types.js';
import { WireError } from './errors.js';
import { fieldPath, type ParentPath } from './paths.js';

/**
 * Mapping between the core's string unions and the proto enums
 * `webraft.v1.EntryType` and `webraft.v1.MembershipChangeType`, built from the
 * generated enum tables. Incoming values may be enum names or numbers (proto3
 * JSON); UNSPECIFIED and unknown values are INVALID_ENUM.
 * @internal
 */
export interface EnumMapping<Core extends string> {
  /** The proto enum's name, for messages. */
  readonly enumName: string;
  /** Proto3 JSON name of each core value. */
  readonly names: Readonly<Record<Core, string>>;
  /** Proto enum number of each core value (binary form). */
  readonly numbers: Readonly<Record<Core, number>>;
  /** Proto3 JSON name of each enum number, UNSPECIFIED included. */
  readonly nameOfNumber: readonly string[];
  /** Core value of each proto number, UNSPECIFIED excluded. */
  readonly coreOfNumber: readonly (Core | undefined)[];
  /** The name of value 0. */
  readonly unspecified: string;
  /** The core values for messages: `'a', 'b' or 'c'`. */
  readonly coreList: string;
}

function enumMapping<Core extends string>(enumName: keyof typeof ENUM_VALUES): EnumMapping<Core> {
  const names = {} as Record<Core, string>;
  const numbers = {} as Record<Core, number>;
  const nameOfNumber: string[] = [];
  const coreOfNumber: (Core | undefined)[] = [];
  let unspecified = '';
  for (const value of ENUM_VALUES[enumName] as readonly { name: string; number: number; core?: string }[]) {
    nameOfNumber[value.number] = value.name;
    if (value.core === undefined) {
      unspecified = value.name;
      continue;
    }
    const core = value.core as Core;
    names[core] = value.name;
    numbers[core] = value.number;
    coreOfNumber[value.number] = core;
  }
  const quoted = Object.keys(names).map((core) => `'${core}'`);
  const coreList = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
  return { enumName, names, numbers, nameOfNumber, coreOfNumber, unspecified, coreList };
}

export const ENTRY_TYPES: EnumMapping<EntryType> = enumMapping('EntryType');
export const CHANGE_TYPES: EnumMapping<MembershipChangeType> = enumMapping('MembershipChangeType');

/**
 * Core entry type of a proto3 JSON (name or number) or binary (number)
 * EntryType; undefined means absent. `parent` is the entry's path (or index).
 */
export function parseEntryType(value: unknown, parent: ParentPath): EntryType {
  return coreOf(ENTRY_TYPES, value) ?? enumValueError(ENTRY_TYPES, value, fieldPath(parent, 'type'));
}

/** The core value of a proto3 JSON name or number of `mapping`'s enum, or undefined. */
function coreOf<Core extends string>(mapping: EnumMapping<Core>, value: unknown): Core | undefined {
  if (typeof value === 'string') {
    // Compared name by name rather than looked up by key: a string parsed from JSON is not
    // internalized, and a keyed lookup would internalize it first (several times the cost).
    const names = mapping.nameOfNumber;
    for (let number = 1; number < names.length; number++) if (value === names[number]) return mapping.coreOfNumber[number];
    return undefined;
  }
  return typeof value === 'number' && Number.isInteger(value) ? mapping.coreOfNumber[value] : undefined;
}

/** Core value of a proto3 JSON (name or number) or binary (number) value of the enum `mapping` maps. */
export function parseEnum<Core extends string>(mapping: EnumMapping<Core>, value: unknown, path: string): Core {
  return coreOf(mapping, value) ?? enumValueError(mapping, value, path);
}

/** The error for an incoming `value` that is no core value of `mapping`: absent, UNSPECIFIED, unknown or of the wrong type. */
function enumValueError(mapping: EnumMapping<string>, value: unknown, path: string): never {
  if (value === undefined || value === 0 || value === mapping.unspecified) {
    throw new WireError('INVALID_ENUM', `must not be ${mapping.unspecified}`, path);
  }
  if (typeof value === 'string' || typeof value === 'number') {
    throw new WireError('INVALID_ENUM', `unknown ${mapping.enumName} value ${describeValue(value)}`, path);
  }
  throw new WireError('INVALID_TYPE', `must be a ${mapping.enumName} name or number, got ${describeValue(value)}`, path);
}

/** The proto3 JSON name of an outgoing core value, checked to be one (a core bug otherwise). */
export function enumName<Core extends string>(mapping: EnumMapping<Core>, value: Core, parent: ParentPath, name: string): string {
  if (Object.hasOwn(mapping.names, value)) return mapping.names[value];
  throw new WireError('INVALID_ENUM', `must be ${mapping.coreList}, got ${describeValue(value)}`, fieldPath(parent, name));
}
