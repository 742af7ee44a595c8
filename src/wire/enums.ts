import type { EntryType, MembershipChangeType } from '../core/types.js';
import { describeValue } from '../core/json.js';
import { WireError } from './errors.js';
import { fieldPath, type ParentPath } from './paths.js';

/**
 * Mapping between the core's string unions and the proto enums
 * `webraft.v1.EntryType` and `webraft.v1.MembershipChangeType`. Incoming
 * values may be enum names or numbers (proto3 JSON); UNSPECIFIED and unknown
 * values are INVALID_ENUM.
 * @internal
 */

/** Proto enum name of each core entry type. */
export const ENTRY_TYPE_NAMES: Readonly<Record<EntryType, string>> = {
  command: 'ENTRY_TYPE_COMMAND',
  noop: 'ENTRY_TYPE_NOOP',
  configuration: 'ENTRY_TYPE_CONFIGURATION',
};

/** Proto enum number of each core entry type (binary form). */
export const ENTRY_TYPE_NUMBERS: Readonly<Record<EntryType, number>> = { command: 1, noop: 2, configuration: 3 };

/** Proto enum name of each core membership change type. */
export const CHANGE_TYPE_NAMES: Readonly<Record<MembershipChangeType, string>> = {
  addVoter: 'MEMBERSHIP_CHANGE_TYPE_ADD_VOTER',
  remove: 'MEMBERSHIP_CHANGE_TYPE_REMOVE',
};

/** Proto enum number of each core membership change type (binary form). */
export const CHANGE_TYPE_NUMBERS: Readonly<Record<MembershipChangeType, number>> = { addVoter: 1, remove: 2 };

/**
 * Core entry type of a proto3 JSON (name or number) or binary (number)
 * EntryType; undefined means absent. `parent` is the entry's path (or index).
 */
export function parseEntryType(value: unknown, parent: ParentPath): EntryType {
  switch (value) {
    case 'ENTRY_TYPE_COMMAND':
    case 1:
      return 'command';
    case 'ENTRY_TYPE_NOOP':
    case 2:
      return 'noop';
    case 'ENTRY_TYPE_CONFIGURATION':
    case 3:
      return 'configuration';
    case undefined:
    case 'ENTRY_TYPE_UNSPECIFIED':
    case 0:
      throw new WireError('INVALID_ENUM', 'must not be ENTRY_TYPE_UNSPECIFIED', fieldPath(parent, 'type'));
    default:
      throw enumError('EntryType', value, fieldPath(parent, 'type'));
  }
}

/** Core change type of a proto3 JSON (name or number) or binary (number) MembershipChangeType. */
export function parseChangeType(value: unknown, path: string): MembershipChangeType {
  switch (value) {
    case 'MEMBERSHIP_CHANGE_TYPE_ADD_VOTER':
    case 1:
      return 'addVoter';
    case 'MEMBERSHIP_CHANGE_TYPE_REMOVE':
    case 2:
      return 'remove';
    case undefined:
    case 'MEMBERSHIP_CHANGE_TYPE_UNSPECIFIED':
    case 0:
      throw new WireError('INVALID_ENUM', 'must not be MEMBERSHIP_CHANGE_TYPE_UNSPECIFIED', path);
    default:
      throw enumError('MembershipChangeType', value, path);
  }
}

function enumError(enumName: string, value: unknown, path: string): WireError {
  if (typeof value === 'string' || typeof value === 'number') {
    return new WireError('INVALID_ENUM', `unknown ${enumName} value ${describeValue(value)}`, path);
  }
  return new WireError('INVALID_TYPE', `must be a ${enumName} name or number, got ${describeValue(value)}`, path);
}
