import { IntKeyMap } from './int-key-map.js';
import type { AppliedProposal, ClientSession, LogEntry } from './types.js';

/** Sessions kept at most; the least recently used is evicted first (deterministically, by apply order). */
export const DEFAULT_MAX_SESSIONS = 4096;

/**
 * Exactly-once application of client proposals (Raft dissertation §6.3).
 *
 * Part of the replicated state machine: every node feeds it the same committed
 * entries in the same order, so every node reaches the same decisions, and its
 * state travels in snapshots. A client numbers its proposals 1, 2, 3, ... and
 * tells the cluster the lowest number it has not settled
 * (`firstOutstandingSequence`); numbers below that can be forgotten.
 */
export class SessionTable {
  private readonly sessions = new Map<string, { lowWater: number; applied: IntKeyMap<AppliedProposal>; lastIndex: number }>();

  /** The session last admitted: already at the most-recently-used end of `sessions`. */
  private mostRecentClientId: string | null = null;

  constructor(private readonly maxSessions = DEFAULT_MAX_SESSIONS) {}

  /**
   * Decides whether a committed command entry is applied (true) or is a
   * duplicate of one already applied or abandoned (false), and records it.
   * Entries without a client id are always applied.
   */
  admit(entry: LogEntry): boolean {
    const clientId = entry.clientId;
    if (!clientId || !entry.sequence) return true;
    let session = this.sessions.get(clientId);
    if (!session) {
      session = { lowWater: 0, applied: new IntKeyMap(), lastIndex: 0 };
      this.sessions.set(clientId, session);
      this.evictIfFull();
    } else if (clientId !== this.mostRecentClientId) {
      // Re-insert to keep Map order = least recently used first.
      this.sessions.delete(clientId);
      this.sessions.set(clientId, session);
    }
    this.mostRecentClientId = clientId;
    session.lastIndex = entry.index;
    const sequence = entry.sequence;
    const duplicate = sequence < session.lowWater || session.applied.has(sequence);
    // The entry itself records where the proposal was applied (it has sequence, index and
    // term): no extra object per applied command, which every node would keep until the
    // client's low-water mark passes it.
    if (!duplicate) session.applied.set(sequence, entry as AppliedProposal);
    const lowWater = entry.firstOutstandingSequence ?? 0;
    if (lowWater > session.lowWater) {
      session.lowWater = lowWater;
      session.applied.deleteBelow(lowWater);
    }
    return !duplicate;
  }

  /** Where a proposal was applied, if this table still remembers it. */
  lookup(clientId: string, sequence: number): AppliedProposal | undefined {
    return this.sessions.get(clientId)?.applied.get(sequence);
  }

  /** The table as snapshot data, in a stable order. */
  toSnapshot(): ClientSession[] {
    return [...this.sessions].map(([clientId, s]) => ({
      clientId,
      lowWater: s.lowWater,
      applied: s.applied.values().map((a) => ({ sequence: a.sequence, index: a.index, term: a.term })),
      lastIndex: s.lastIndex,
    }));
  }

  /** Replaces the table with one from a snapshot. */
  restore(sessions: readonly ClientSession[]): void {
    this.sessions.clear();
    this.mostRecentClientId = null;
    for (const s of sessions) {
      const applied = new IntKeyMap<AppliedProposal>();
      for (const a of s.applied) applied.set(a.sequence, { sequence: a.sequence, index: a.index, term: a.term });
      this.sessions.set(s.clientId, { lowWater: s.lowWater, applied, lastIndex: s.lastIndex });
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  private evictIfFull(): void {
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
      if (oldest === this.mostRecentClientId) this.mostRecentClientId = null;
    }
  }
}
