/**
 * The core sizes AppendEntries batches (maxBytesPerMessage) with the wire's
 * own size estimate, so a batch sized to fit `maxPayloadBytes` passes the
 * sender's and the receiver's checks. The API caps maxBytesPerMessage at
 * maxPayloadBytes - ENVELOPE_BYTES (src/api/message-limits.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_BYTES } from '../../src/api/message-limits.js';
import { jsonSizeEstimate } from '../../src/core/json.js';
import { entryByteSize } from '../../src/core/log.js';
import type { LogEntry, Message } from '../../src/core/types.js';
import { fromPayload, messageToPayload, resolveLimits } from '../../src/wire/index.js';
import { copyJsonValue } from '../../src/wire/json-value.js';
import { newBudget } from '../../src/wire/walk-budget.js';
import { DEFAULT_WIRE_LIMITS } from '../../src/wire/limits.js';
import { entryArb, FUZZ, jsonValue } from '../wire/arbitraries.js';

/** True when `message` leaves a sender and is accepted by a receiver under `maxPayloadBytes`. */
function passes(message: Message, maxPayloadBytes: number): boolean {
  const limits = resolveLimits({ maxPayloadBytes });
  try {
    const payload = messageToPayload(message, limits, 'validate-copy');
    return fromPayload(JSON.parse(JSON.stringify(payload)), { from: message.from, limits }).ok;
  } catch {
    return false;
  }
}

/** The smallest maxPayloadBytes under which `message` passes both ends (binary search). */
function smallestPassingLimit(message: Message): number {
  let low = 0;
  let high = ENVELOPE_BYTES;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (passes(message, mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

describe('entry sizes on the wire scale', () => {
  it('jsonSizeEstimate is the figure the wire walk checks against maxPayloadBytes', () => {
    fc.assert(
      fc.property(jsonValue(), (value) => {
        const budget = newBudget(DEFAULT_WIRE_LIMITS);
        copyJsonValue(value, 'command', budget, false);
        expect(jsonSizeEstimate(value)).toBe(budget.size);
      }),
      FUZZ,
    );
  });

  it('counts an array of small numbers at the wire figure, well above its JSON length', () => {
    const value = Array.from({ length: 1000 }, (_, i) => i % 10);
    expect(jsonSizeEstimate(value)).toBe(2 + 1000 + 8 * 1000);
    expect(JSON.stringify(value).length).toBeLessThan(2100);
  });

  it('entries count at least what the wire counts for them: a batch sized to the limit passes the sender and the receiver', () => {
    const batch = fc.integer({ min: 1, max: 6 }).chain((count) =>
      fc.tuple(...Array.from({ length: count }, (_, i) => entryArb(101 + i, 7))),
    );
    const appendEntries = (entries: LogEntry[]): Message => ({
      from: 'leader-a',
      to: 'follower-b',
      term: 7,
      body: { type: 'AppendEntriesRequest', prevLogIndex: 100, prevLogTerm: 7, entries, leaderCommit: 100, readRound: 0 },
    });
    const envelope = smallestPassingLimit(appendEntries([]));
    expect(envelope).toBeLessThan(ENVELOPE_BYTES);
    fc.assert(
      fc.property(batch, (entries: LogEntry[]) => {
        const total = entries.reduce((sum, entry) => sum + entryByteSize(entry), 0);
        // The tightest limit: the envelope's own figure plus what the core counted for the entries.
        expect(passes(appendEntries(entries), envelope + total)).toBe(true);
      }),
      FUZZ,
    );
  });
});
