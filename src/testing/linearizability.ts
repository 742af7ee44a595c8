/**
 * A linearizability checker for key-value histories (Wing & Gong's search with
 * Lowe's memoization, as in porcupine and Knossos), partitioned per key: a
 * history is linearizable when every key's sub-history is (a register per key
 * is a local property, Herlihy & Wing §3).
 *
 * Operations whose outcome is unknown (a timeout) are given `returnedAt =
 * Infinity`: they may be linearized at any point after their call, which
 * includes "after everything observed", i.e. never seen to take effect.
 */

/** One client operation on a key. */
export interface KvOperation {
  /** Who issued it (for error reports). */
  client: string;
  kind: 'put' | 'get';
  key: string;
  /** For put: the value written. */
  value?: string;
  /** For get: the value read (null when the key was absent); undefined when unknown. */
  result?: string | null;
  /** Logical time the call was issued; strictly increasing across the history. */
  calledAt: number;
  /** Logical time the response arrived, or Infinity when the outcome is unknown. */
  returnedAt: number;
}

export interface LinearizabilityResult {
  ok: boolean;
  /** Keys whose sub-history is not linearizable. */
  failedKeys: string[];
  /** Keys whose search gave up at the step budget (neither proven nor refuted). */
  undecidedKeys: string[];
}

interface Event {
  op: number;
  isCall: boolean;
  time: number;
}

/** Checks a whole history; `maxSteps` bounds the search per key. */
export function checkKvLinearizability(history: readonly KvOperation[], maxSteps = 5_000_000): LinearizabilityResult {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    const list = byKey.get(op.key);
    if (list) list.push(op);
    else byKey.set(op.key, [op]);
  }
  const failedKeys: string[] = [];
  const undecidedKeys: string[] = [];
  for (const [key, ops] of byKey) {
    const verdict = checkRegister(ops, maxSteps);
    if (verdict === 'no') failedKeys.push(key);
    else if (verdict === 'unknown') undecidedKeys.push(key);
  }
  return { ok: failedKeys.length === 0 && undecidedKeys.length === 0, failedKeys, undecidedKeys };
}

/** Register semantics: a get returns the last value put (null before any), unless its result is unknown. */
function step(state: string | null, op: KvOperation): { ok: boolean; next: string | null } {
  if (op.kind === 'put') return { ok: true, next: op.value ?? null };
  if (op.result === undefined) return { ok: true, next: state };
  return { ok: op.result === state, next: state };
}

function checkRegister(ops: readonly KvOperation[], maxSteps: number): 'yes' | 'no' | 'unknown' {
  const events: Event[] = [];
  ops.forEach((op, i) => {
    events.push({ op: i, isCall: true, time: op.calledAt });
    events.push({ op: i, isCall: false, time: op.returnedAt });
  });
  // Returns sort before calls at equal times: such operations are not concurrent.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? 1 : -1));

  // A doubly linked list over the events, with each call pointing at its return.
  const n = events.length;
  const next = new Int32Array(n + 1);
  const prev = new Int32Array(n + 1);
  const HEAD = n;
  const returnOf = new Int32Array(ops.length);
  for (let i = 0; i < n; i++) {
    prev[i] = i === 0 ? HEAD : i - 1;
    next[i] = i === n - 1 ? -1 : i + 1;
    if (!events[i].isCall) returnOf[events[i].op] = i;
  }
  next[HEAD] = n > 0 ? 0 : -1;
  const unlink = (i: number) => {
    next[prev[i]] = next[i];
    if (next[i] !== -1) prev[next[i]] = prev[i];
  };
  const relink = (i: number) => {
    next[prev[i]] = i;
    if (next[i] !== -1) prev[next[i]] = i;
  };

  const linearized = new Uint8Array(ops.length);
  const seen = new Set<string>();
  const stack: { event: number; state: string | null }[] = [];
  let state: string | null = null;
  let entry = next[HEAD];
  let steps = 0;
  while (next[HEAD] !== -1) {
    if (++steps > maxSteps) return 'unknown';
    if (entry === -1) return 'no';
    const event = events[entry];
    if (event.isCall) {
      const op = ops[event.op];
      const { ok, next: nextState } = step(state, op);
      if (ok) {
        linearized[event.op] = 1;
        const cacheKey = `${linearized.join('')}|${nextState ?? '\u0000null'}`;
        if (!seen.has(cacheKey)) {
          seen.add(cacheKey);
          stack.push({ event: entry, state });
          state = nextState;
          unlink(entry);
          unlink(returnOf[event.op]);
          entry = next[HEAD];
          continue;
        }
        linearized[event.op] = 0;
      }
      entry = next[entry];
    } else {
      // A return whose call is not linearized yet: backtrack.
      const top = stack.pop();
      if (!top) return 'no';
      const call = events[top.event];
      state = top.state;
      linearized[call.op] = 0;
      relink(returnOf[call.op]);
      relink(top.event);
      entry = next[top.event];
    }
  }
  return 'yes';
}
