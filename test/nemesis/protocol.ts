/**
 * The nemesis test server's client protocol: one JSON object per line over
 * TCP on 127.0.0.1, requests carry an `id` that the response repeats, so a
 * connection may carry many requests at once (answers come in any order).
 * Used by test/nemesis/server.ts (the node) and connection.ts (the harness).
 */

/** Register operations (what the checker sees). */
export type RegisterRequest =
  | { type: 'read'; key: string }
  | { type: 'write'; key: string; value: string }
  | { type: 'cas'; key: string; expected: string | null; value: string };

/** Harness control (nemesis and checks; not part of the history). */
export type ControlRequest =
  | { type: 'status' }
  /** Clock: set the rate (virtual ms per real ms) and jump forward by `jumpMs` (>= 0). */
  | { type: 'clock'; rate: number; jumpMs: number }
  | { type: 'join'; address: string }
  | { type: 'leave'; address: string }
  /** The local state machine, as applied (no read barrier): for the convergence check. */
  | { type: 'dump' };

export type Request = (RegisterRequest | ControlRequest) & { id: number };

/** What `status` returns: the node's `raft.status()` plus process facts. */
export interface NodeStatus {
  address: string;
  state: string;
  term: number;
  leader: string | null;
  commitIndex: number;
  lastApplied: number;
  snapshotIndex: number;
  voters: string[];
  learners: string[];
  pid: number;
  /** The clock as the node sees it. */
  clock: { rate: number; offsetMs: number };
}

export interface NodeDump {
  lastApplied: number;
  /** Keys and values in key order. */
  entries: [string, string][];
}

export type Response =
  | { id: number; ok: true; value?: string | null; swapped?: boolean; status?: NodeStatus; dump?: NodeDump }
  | { id: number; ok: false; code: string; message: string };

/** Longest line either side accepts; a longer one closes the connection. */
export const MAX_LINE_BYTES = 4 << 20;

/**
 * Splits a byte stream into lines of at most `MAX_LINE_BYTES`; `push` returns
 * the complete lines, or null once the stream broke the limit (close it then).
 */
export class LineReader {
  private partial = '';

  push(chunk: Buffer): string[] | null {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > MAX_LINE_BYTES) return null;
    return lines.filter((line) => line.length > 0);
  }
}
