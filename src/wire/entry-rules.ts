import type { EntryType } from '../core/types.js';
import { WireError } from './errors.js';
import { entryPath } from './paths.js';

/**
 * Structural rules for the entries of an AppendEntriesRequest, shared by the
 * incoming (JSON and binary) and outgoing paths so both enforce the same
 * contract. Field types are already checked when these run.
 * @internal
 */

export { entryPath } from './paths.js';

/** `prevLogTerm` may not exceed the message term (a leader's log holds no future terms). */
export function checkPrevLogTerm(prevLogTerm: number, messageTerm: number): void {
  if (prevLogTerm > messageTerm) {
    throw new WireError(
      'INVALID_ENTRIES',
      `must not exceed the message term (${messageTerm}), got ${prevLogTerm}`,
      'appendEntriesRequest.prevLogTerm',
    );
  }
}

/**
 * Checks entry `i`: its index is `prevLogIndex + 1 + i` (contiguous), its term
 * is at least `previousTerm` (the prior entry's term, or prevLogTerm for the
 * first) and at most the message term (§5.3: log terms never decrease), a
 * command is present exactly on command entries, a configuration only on (and
 * always on) configuration entries.
 */
export function checkEntry(
  index: number,
  term: number,
  type: EntryType,
  hasCommand: boolean,
  hasConfiguration: boolean,
  i: number,
  prevLogIndex: number,
  previousTerm: number,
  messageTerm: number,
): void {
  const expectedIndex = prevLogIndex + 1 + i;
  if (index !== expectedIndex) {
    throw new WireError(
      'INVALID_ENTRIES',
      `must be ${expectedIndex} (entries are contiguous from prevLogIndex + 1), got ${index}`,
      `${entryPath(i)}.index`,
    );
  }
  if (term < previousTerm) {
    throw new WireError(
      'INVALID_ENTRIES',
      `must not be below the term of the preceding entry (${previousTerm}), got ${term}`,
      `${entryPath(i)}.term`,
    );
  }
  if (term > messageTerm) {
    throw new WireError(
      'INVALID_ENTRIES',
      `must not exceed the message term (${messageTerm}), got ${term}`,
      `${entryPath(i)}.term`,
    );
  }
  if (type === 'command') {
    if (!hasCommand) {
      throw new WireError('INVALID_ENTRIES', 'is required on an ENTRY_TYPE_COMMAND entry', `${entryPath(i)}.command`);
    }
  } else if (hasCommand) {
    throw new WireError('INVALID_ENTRIES', 'is only allowed on an ENTRY_TYPE_COMMAND entry', `${entryPath(i)}.command`);
  }
  if (type === 'configuration') {
    if (!hasConfiguration) {
      throw new WireError(
        'INVALID_ENTRIES',
        'is required on an ENTRY_TYPE_CONFIGURATION entry',
        `${entryPath(i)}.configuration`,
      );
    }
  } else if (hasConfiguration) {
    throw new WireError(
      'INVALID_ENTRIES',
      'is only allowed on an ENTRY_TYPE_CONFIGURATION entry',
      `${entryPath(i)}.configuration`,
    );
  }
}
