import { RaftError } from '../core/errors.js';
import type { StoredState } from '../storage/storage.js';
import type { WireLimits } from '../wire/index.js';
import { copyJsonValue } from '../wire/json-value.js';
import { newBudget } from '../wire/walk-budget.js';

/**
 * Checks the commands of a loaded log the way an arriving payload's commands
 * are checked. Every command in a node's log has then passed that check once
 * (at `propose`, on arrival, or here), which is what lets the node copy its
 * log into AppendEntries without checking it again (`trusted-copy` in
 * src/wire/json-value.ts). A custom Storage that returns something else fails
 * the start with STORAGE_CORRUPT instead of sending payloads every receiver rejects.
 */
export function checkStoredCommands(stored: StoredState, limits: Readonly<WireLimits>): void {
  for (const entry of stored.entries) {
    if (entry.command === undefined) continue;
    try {
      copyJsonValue(entry.command, 'command', newBudget(limits), false);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RaftError('STORAGE_CORRUPT', `storage returned entry ${entry.index} with a command the wire cannot carry: ${reason}`);
    }
  }
}
