/**
 * Figures of a run (operations by type and outcome, faults, failovers,
 * latency inside and outside fault windows, throughput) and the final table
 * printed at the end of `npm run nemesis`.
 */
import type { LeaderChange } from './cluster.js';
import { describeOp, type OpOutcome, type OpRecord, type OpType } from './history.js';
import type { FaultRecord } from './nemesis.js';
import type { FaultKind } from './schedule.js';

export type AnomalyKind = 'linearizability' | 'undecided' | 'divergence' | 'not-converged' | 'node-exit' | 'membership';

export interface Anomaly {
  kind: AnomalyKind;
  summary: string;
  /** Lines to print (e.g. the offending operations). */
  details: string[];
  /** linearizability: the key, its operations' ids, the stuck one. */
  key?: string;
  opIds?: number[];
  stuckId?: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface RunStats {
  durationMs: number;
  ops: Record<OpType, Record<OpOutcome, number>>;
  total: number;
  casSwapped: number;
  casNotSwapped: number;
  /** Writes acknowledged, plus cas acknowledged as swapped. */
  acknowledgedWrites: number;
  lateAnswers: number;
  faults: Partial<Record<FaultKind, number>>;
  faultsOnLeader: number;
  /** New leaders (a new term with a leader) after the first election. */
  failovers: number;
  /** Latency of `ok` operations (late answers excluded), by whether they started inside a fault window. */
  latency: { outside: Percentiles; inside: Percentiles };
  /** Operations that did not end `ok` (timeouts, errors, failures), by the same split. */
  notOk: { outside: number; inside: number };
  /** Completed (`ok`) operations per second of the run. */
  throughput: number[];
}

export function computeStats(ops: readonly OpRecord[], faults: readonly FaultRecord[], leaderChanges: readonly LeaderChange[], durationMs: number): RunStats {
  const zero = (): Record<OpOutcome, number> => ({ ok: 0, fail: 0, info: 0 });
  const stats: RunStats = {
    durationMs,
    ops: { read: zero(), write: zero(), cas: zero() },
    total: 0, casSwapped: 0, casNotSwapped: 0, acknowledgedWrites: 0, lateAnswers: 0,
    faults: {}, faultsOnLeader: 0,
    failovers: Math.max(0, leaderChanges.length - 1),
    latency: { outside: percentiles([]), inside: percentiles([]) },
    notOk: { outside: 0, inside: 0 },
    throughput: new Array<number>(Math.max(1, Math.ceil(durationMs / 1000))).fill(0),
  };
  const windows = mergeWindows(faults, durationMs);
  const insideLatencies: number[] = [];
  const outsideLatencies: number[] = [];
  for (const op of ops) {
    if (op.client === 'final') continue;
    stats.total++;
    stats.ops[op.type][op.outcome]++;
    if (op.late) stats.lateAnswers++;
    const inside = inWindow(windows, op.start);
    if (op.outcome !== 'ok') {
      stats.notOk[inside ? 'inside' : 'outside']++;
      continue;
    }
    if (op.type === 'cas') {
      if (op.swapped) stats.casSwapped++;
      else stats.casNotSwapped++;
    }
    if (op.type === 'write' || (op.type === 'cas' && op.swapped)) stats.acknowledgedWrites++;
    // A late answer came after the client had given up: the client saw a timeout, not this latency.
    if (!op.late) (inside ? insideLatencies : outsideLatencies).push(op.end - op.start);
    const second = Math.floor(op.end / 1000);
    if (second >= 0 && second < stats.throughput.length) stats.throughput[second]++;
  }
  stats.latency = { outside: percentiles(outsideLatencies), inside: percentiles(insideLatencies) };
  for (const fault of faults) {
    stats.faults[fault.kind] = (stats.faults[fault.kind] ?? 0) + 1;
    if (fault.hitLeader) stats.faultsOnLeader++;
  }
  return stats;
}

/** Fault windows merged into disjoint sorted intervals. */
export function mergeWindows(faults: readonly FaultRecord[], durationMs: number): [number, number][] {
  const spans = faults.map((f) => [f.startMs, f.endMs ?? durationMs] as [number, number]).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of spans) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

function inWindow(windows: readonly [number, number][], t: number): boolean {
  let lo = 0;
  let hi = windows.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (t < windows[mid][0]) hi = mid - 1;
    else if (t > windows[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
}

export interface CheckerCost {
  keys: number;
  operations: number;
  steps: number;
  ms: number;
}

const DETAILED_ANOMALIES = 3;

/** The final table. */
export function formatTable(stats: RunStats, checker: CheckerCost, anomalies: readonly Anomaly[]): string {
  const lines: string[] = [];
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  lines.push('operations     ok        fail      info      total');
  for (const type of ['read', 'write', 'cas'] as const) {
    const o = stats.ops[type];
    lines.push(`  ${type.padEnd(12)}${pad(o.ok, 7)}${pad(o.fail, 10)}${pad(o.info, 10)}${pad(o.ok + o.fail + o.info, 11)}`);
  }
  lines.push(`  cas ok: ${stats.casSwapped} swapped, ${stats.casNotSwapped} not swapped; acknowledged writes (write ok + cas swapped): ${stats.acknowledgedWrites}; late answers: ${stats.lateAnswers}`);
  lines.push(`  ${stats.total} operations in ${(stats.durationMs / 1000).toFixed(0)} s (${(stats.total / (stats.durationMs / 1000)).toFixed(0)}/s)`);
  const faultList = Object.entries(stats.faults).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  lines.push(`faults injected: ${faultList}; ${stats.faultsOnLeader} hit the leader`);
  lines.push(`failovers (new leaders after the first): ${stats.failovers}`);
  const lat = (p: Percentiles) => `p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(0)} ms (${p.count} ops)`;
  lines.push(`latency of ok operations outside fault windows: ${lat(stats.latency.outside)}; ${stats.notOk.outside} not ok`);
  lines.push(`latency of ok operations inside fault windows:  ${lat(stats.latency.inside)}; ${stats.notOk.inside} not ok`);
  lines.push(`checker: ${checker.operations} operations on ${checker.keys} keys, ${checker.steps} search steps, ${checker.ms.toFixed(0)} ms`);
  lines.push(`anomalies: ${anomalies.length}`);
  anomalies.forEach((anomaly, i) => {
    lines.push(`  ${anomaly.kind.toUpperCase()}: ${anomaly.summary}`);
    // The first few in full; all of them are in report.html and summary.json.
    if (i < DETAILED_ANOMALIES) for (const detail of anomaly.details) lines.push(`    ${detail}`);
  });
  if (anomalies.length > DETAILED_ANOMALIES) lines.push(`  (details of the first ${DETAILED_ANOMALIES} only; all are in report.html and summary.json)`);
  return lines.join('\n');
}

/** The text of a linearizability anomaly: the stuck operation and the context the search had. */
export function explainFailure(
  key: string,
  failure: { operations: OpRecord[]; linearized: OpRecord[]; linearizedCount: number; valueBefore: string | null; stuck: OpRecord; pending: OpRecord[] },
): Anomaly {
  const q = (v: string | null) => (v === null ? 'nil' : JSON.stringify(v));
  const details = [
    `${failure.operations.length} operations on ${key}; the longest linearizable prefix has ${failure.linearizedCount}, after which the register holds ${q(failure.valueBefore)}.`,
    'last operations of that prefix, in linearization order:',
    ...failure.linearized.map((op) => `  ${describeOp(op)}`),
    'cannot be linearized (it returned before any order could fit it in):',
    `  ${describeOp(failure.stuck)}`,
  ];
  if (failure.pending.length > 0) details.push('operations pending at that point (called, not linearized):', ...failure.pending.map((op) => `  ${describeOp(op)}`));
  return {
    kind: 'linearizability',
    summary: `key ${key} is not linearizable: ${describeOp(failure.stuck)}`,
    details,
    key,
    opIds: failure.operations.map((op) => op.id),
    stuckId: failure.stuck.id,
  };
}
