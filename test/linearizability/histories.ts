/**
 * Test helpers for the linearizability checker: operation builders, a random
 * generator of histories that are linearizable by construction, and a
 * brute-force oracle for small histories. Test code only.
 */
import type { KvCas, KvGet, KvOperation, KvPut } from '../../src/testing/linearizability.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';

export const put = (client: string, key: string, value: string | null, calledAt: number, returnedAt: number): KvPut => ({ client, kind: 'put', key, value, calledAt, returnedAt });
export const get = (client: string, key: string, result: string | null | undefined, calledAt: number, returnedAt: number): KvGet => ({ client, kind: 'get', key, result, calledAt, returnedAt });
export const cas = (client: string, key: string, expected: string | null, value: string | null, result: boolean | undefined, calledAt: number, returnedAt: number): KvCas => ({ client, kind: 'cas', key, expected, value, result, calledAt, returnedAt });

export interface GeneratorOptions {
  operations: number;
  keys: number;
  /** Concurrent clients (sequential each). */
  clients: number;
  /** Share of operations whose outcome is unknown (returnedAt = Infinity, unknown result). */
  indeterminate: number;
}

/**
 * A history that is linearizable by construction: every operation gets a
 * linearization point inside its interval (an indeterminate one: any time
 * after its call, or never), and results are computed by applying them in
 * point order to one register per key. Values are unique per write, as in
 * the nemesis workload.
 */
export function linearizableHistory(seed: number, options: GeneratorOptions): KvOperation[] {
  const rng = new SeededRandom(seed);
  interface Planned {
    op: KvOperation;
    point: number;
  }
  const planned: Planned[] = [];
  const clientTime = new Array<number>(options.clients).fill(0);
  let nextValue = 1;
  const recent = new Map<string, string[]>();
  for (let i = 0; i < options.operations; i++) {
    const c = rng.int(options.clients);
    const calledAt = clientTime[c] + rng.next() * 2;
    const duration = 0.1 + rng.next() * 3;
    const indeterminate = rng.chance(options.indeterminate);
    const returnedAt = indeterminate ? Infinity : calledAt + duration;
    // An indeterminate operation takes effect at some point after its call, or (one in three) never.
    const point = indeterminate ? (rng.chance(1 / 3) ? Infinity : calledAt + rng.next() * 20) : calledAt + rng.next() * duration;
    clientTime[c] = calledAt + duration; // the client gives up on an indeterminate one after `duration`
    const key = `k${rng.int(options.keys)}`;
    const choice = rng.next();
    const client = `c${c}`;
    let op: KvOperation;
    if (choice < 0.45) op = get(client, key, undefined, calledAt, returnedAt);
    else if (choice < 0.75) op = put(client, key, String(nextValue++), calledAt, returnedAt);
    else {
      const known = recent.get(key) ?? [];
      const expected = known.length > 0 && rng.chance(0.8) ? rng.pick(known) : null;
      op = cas(client, key, expected, String(nextValue++), undefined, calledAt, returnedAt);
    }
    if (op.kind !== 'get') {
      const list = recent.get(key) ?? [];
      list.push(op.value as string);
      if (list.length > 4) list.shift();
      recent.set(key, list);
    }
    planned.push({ op, point });
  }
  const state = new Map<string, string | null>();
  for (const { op, point } of [...planned].sort((a, b) => a.point - b.point)) {
    if (point === Infinity) continue;
    const current = state.get(op.key) ?? null;
    if (op.kind === 'put') state.set(op.key, op.value ?? null);
    else if (op.kind === 'get') {
      if (op.returnedAt !== Infinity) op.result = current;
    } else {
      const swapped = current === op.expected;
      if (swapped) state.set(op.key, op.value);
      if (op.returnedAt !== Infinity) op.result = swapped;
    }
  }
  return planned.map((p) => p.op);
}

/**
 * Brute force: is there an order of all operations, respecting real time
 * (a before b when a returned before b was called), in which every known
 * result matches a register? Exponential; for a handful of operations.
 */
export function bruteForceLinearizable(history: readonly KvOperation[]): boolean {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  for (const ops of byKey.values()) if (!search(ops, new Array<boolean>(ops.length).fill(false), null, 0)) return false;
  return true;
}

function search(ops: readonly KvOperation[], done: boolean[], state: string | null, count: number): boolean {
  if (count === ops.length) return true;
  for (let i = 0; i < ops.length; i++) {
    if (done[i]) continue;
    // i may go next only if no remaining operation returned before (or when) i was called:
    // as in the checker, a return and a call at the same time do not overlap.
    if (ops.some((other, j) => !done[j] && j !== i && other.returnedAt <= ops[i].calledAt)) continue;
    const op = ops[i];
    let next: string | null = state;
    if (op.kind === 'put') next = op.value ?? null;
    else if (op.kind === 'get') {
      if (op.result !== undefined && op.result !== state) continue;
    } else {
      const matches = state === op.expected;
      if (op.result === true && !matches) continue;
      if (op.result === false && matches) continue;
      if (matches) next = op.value;
    }
    done[i] = true;
    if (search(ops, done, next, count + 1)) {
      done[i] = false;
      return true;
    }
    done[i] = false;
  }
  return false;
}
