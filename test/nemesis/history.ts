/**
 * The history of client operations, as recorded by the workload, and its
 * translation for the checker (src/testing/linearizability.ts).
 *
 * Outcomes, as Jepsen names them:
 * - `ok`: the node answered with a result;
 * - `fail`: the operation certainly did not take effect: nothing was sent (no
 *   connection), or it was a read that returned an error (a read changes nothing);
 * - `info`: indeterminate: a write or cas that timed out, lost its connection
 *   or got an error from the node (TIMEOUT, NO_LEADER, ...): it may have taken
 *   effect, at any time after its call. The checker gives it returnedAt = Infinity.
 *
 * An answer that arrives after the client gave up turns an `info` operation
 * into `ok` with that arrival time as its return (`late`): the node's answer
 * proves the operation took effect before it, so the interval stays truthful.
 */
import type { KvOperation } from '../../src/testing/linearizability.js';

export type OpType = 'read' | 'write' | 'cas';
export type OpOutcome = 'ok' | 'fail' | 'info';

export interface OpRecord {
  id: number;
  /** Client name (c0, c1, ... or `final` for the reads after the heal). */
  client: string;
  /** Node slot name the request went to. */
  node: string;
  type: OpType;
  key: string;
  /** write/cas: the new value. */
  value?: string;
  /** cas: the expected value (null: absent). */
  expected?: string | null;
  /** ms since the start of the run. */
  start: number;
  /** When the answer arrived (ok), or when the client gave up or learnt the failure (fail, info). */
  end: number;
  outcome: OpOutcome;
  /** read: the value read. */
  result?: string | null;
  /** cas: whether it swapped. */
  swapped?: boolean;
  /** fail/info: why (error code, `timeout`, `reset`, `unavailable`). */
  error?: string;
  /** The answer came after the client had given up (see above). */
  late?: boolean;
}

export class History {
  readonly ops: OpRecord[] = [];
  private nextId = 0;

  add(op: Omit<OpRecord, 'id'>): OpRecord {
    const record = { ...op, id: this.nextId++ };
    this.ops.push(record);
    return record;
  }

  /**
   * The checker's view: reads that did not return are left out (they
   * constrain nothing); `fail` operations are left out (they did not happen);
   * `info` writes and cas never return. `map[i]` is the record of checker op i.
   */
  forChecker(): { operations: KvOperation[]; map: OpRecord[] } {
    const operations: KvOperation[] = [];
    const map: OpRecord[] = [];
    for (const op of this.ops) {
      if (op.outcome === 'fail') continue;
      if (op.type === 'read' && op.outcome !== 'ok') continue;
      const returnedAt = op.outcome === 'ok' ? op.end : Infinity;
      const base = { client: op.client, key: op.key, calledAt: op.start, returnedAt };
      if (op.type === 'read') operations.push({ ...base, kind: 'get', result: op.result ?? null });
      else if (op.type === 'write') operations.push({ ...base, kind: 'put', value: op.value ?? null });
      else operations.push({ ...base, kind: 'cas', expected: op.expected ?? null, value: op.value ?? null, result: op.outcome === 'ok' ? op.swapped : undefined });
      map.push(op);
    }
    return { operations, map };
  }
}

/** One line describing an operation, e.g. `c3 on n2: cas k17 "41" -> "88" = swapped [12.345s, 12.351s]`. */
export function describeOp(op: OpRecord): string {
  const q = (v: string | null | undefined) => (v === null || v === undefined ? 'nil' : JSON.stringify(v));
  let what: string;
  if (op.type === 'read') what = `read ${op.key}${op.outcome === 'ok' ? ` -> ${q(op.result)}` : ''}`;
  else if (op.type === 'write') what = `write ${op.key} ${q(op.value)}`;
  else what = `cas ${op.key} ${q(op.expected)} -> ${q(op.value)}${op.outcome === 'ok' ? (op.swapped ? ' = swapped' : ' = not swapped') : ''}`;
  const outcome = op.outcome === 'ok' ? (op.late ? ' (late answer)' : '') : ` ${op.outcome.toUpperCase()} (${op.error ?? '?'})`;
  const span = op.outcome === 'info' ? `[${secs(op.start)}, gave up ${secs(op.end)}: may take effect any time after its call]` : `[${secs(op.start)}, ${secs(op.end)}]`;
  return `#${op.id} ${op.client} on ${op.node}: ${what}${outcome} ${span}`;
}

export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}
