import { RaftError } from '../core/errors.js';
import type { StoredState } from '../storage/storage.js';
import type { WireLimits } from '../wire/index.js';
import { copyJsonValue } from '../wire/json-value.js';
import { newBudget } from '../wire/walk-budget.js';

/**
 * The checks of a loaded command: what makes a JSON value (types, finite
 * numbers, well-formed strings), without the size limits, which it passed
 * when it was proposed. A node whose `wireLimits` were lowered since still
 * starts; its payloads are still held to the new limits when sent.
 */
const STORED_COMMAND_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxPayloadBytes: Number.MAX_SAFE_INTEGER,
  maxEntriesPerMessage: Number.MAX_SAFE_INTEGER,
  maxStringLength: Number.MAX_SAFE_INTEGER,
  maxJsonDepth: 10_000,
});

/**
 * Checks that the commands of a loaded log are JSON values, as an arriving
 * payload's commands are checked. Every command in a node's log has then
 * passed that check once (at `propose`, on arrival, or here), which is what
 * lets the node copy its log into AppendEntries without checking it again
 * (`trusted-copy` in src/wire/json-value.ts). A custom Storage that returns
 * something else fails the start with STORAGE_CORRUPT instead of sending
 * payloads that every receiver rejects.
 */
export function checkStoredCommands(stored: StoredState): void {
  for (const entry of stored.entries) {
    if (entry.command === undefined) continue;
    try {
      copyJsonValue(entry.command, 'command', newBudget(STORED_COMMAND_LIMITS), false);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RaftError('STORAGE_CORRUPT', `storage returned entry ${entry.index} with a command that is not a JSON value: ${reason}`);
    }
  }
}
