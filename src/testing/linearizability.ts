/**
 * A linearizability checker for key-value histories of registers with `put`
 * (write), `get` (read) and `cas` (compare-and-set) operations: Wing & Gong's
 * search with Lowe's memoization, as in porcupine and Knossos.
 *
 * P-compositionality (Horn & Kroening, "Faster linearizability checking via
 * P-compositionality", 2015; porcupine's partition functions): a history is
 * linearizable iff every key's sub-history is (a register per key is a local
 * property, Herlihy & Wing §3), so each key is searched on its own and the
 * cost is the sum over keys, not a product.
 *
 * Operations whose outcome is unknown (a timeout, a connection reset) are
 * given `returnedAt = Infinity`: they may be linearized at any point after
 * their call, which includes "after everything observed", i.e. never seen to
 * take effect. A `get` whose result is unknown constrains nothing and is left
 * out of the search (as Knossos drops indeterminate reads); a `cas` whose result
 * is unknown swaps when linearized at a point where the register holds
 * `expected`, and changes nothing otherwise.
 *
 * Cost: the memo is keyed by (set of linearized operations, register value),
 * stored as two independent 53-bit Zobrist hashes of the set (per operation
 * four random 32-bit words, XORed in and out as it is linearized and undone) mixed
 * with the value, so a step costs O(1) and a memo entry two numbers, whatever
 * the history's length. A collision of both hashes could only prune a live
 * branch, i.e. turn "linearizable" into a false "not linearizable", never the
 * reverse; with n memo entries its probability is about n^2 / 2^107 (below
 * 1e-18 for ten million entries). For a key's sub-history of m operations with
 * at most c concurrent at a time and k indeterminate ones pending, the search
 * typically takes O(m * (c + k)) steps.
 */

interface KvOperationBase {
  /** Who issued it (for error reports). */
  client: string;
  key: string;
  /** Time the call was issued (any unit; only the order matters). */
  calledAt: number;
  /** Time the response arrived, or Infinity when the outcome is unknown. */
  returnedAt: number;
}

/** Write `value` (null or absent: delete the key). */
export interface KvPut extends KvOperationBase {
  kind: 'put';
  value?: string | null;
}

/** Read: `result` is the value read (null when the key was absent); undefined when unknown. */
export interface KvGet extends KvOperationBase {
  kind: 'get';
  result?: string | null;
}

/**
 * Compare-and-set, decided atomically: if the register holds `expected`
 * (null: the key is absent) it becomes `value`. `result` says whether it
 * swapped; undefined when unknown.
 */
export interface KvCas extends KvOperationBase {
  kind: 'cas';
  expected: string | null;
  value: string | null;
  result?: boolean;
}

/** One client operation on a key. */
export type KvOperation = KvPut | KvGet | KvCas;

/** Why one key's sub-history is not linearizable, as far as the search got. */
export interface KeyFailure {
  key: string;
  /** Indices (into the checked history) of the key's operations, by call time. */
  operations: number[];
  /** Most operations the search could linearize before getting stuck. */
  linearizedCount: number;
  /**
   * The last operations of that longest partial linearization, in order
   * (at most 16; history indices).
   */
  lastLinearized: number[];
  /** The register's value after that partial linearization. */
  valueBefore: string | null;
  /**
   * The operation whose response came before it could be linearized: at that
   * point, no pending operation could take effect in a way consistent with it.
   */
  stuck: number;
  /** Operations called before `stuck` returned and not linearized (at most 32; history indices). */
  pending: number[];
}

export interface CheckOptions {
  /**
   * Bound on search steps per key; a key over it is undecided. Default
   * 5,000,000 + 100 per operation of the key (a 200,000-operation key of a
   * register workload takes about 10 million).
   */
  maxStepsPerKey?: number;
}

const DEFAULT_BASE_STEPS = 5_000_000;
const DEFAULT_STEPS_PER_OPERATION = 100;

export interface LinearizabilityResult {
  ok: boolean;
  /** Keys whose sub-history is not linearizable. */
  failedKeys: string[];
  /** Keys whose search gave up at the step budget (neither proven nor refuted). */
  undecidedKeys: string[];
  /** One explanation per failed key, in `failedKeys` order. */
  failures: KeyFailure[];
  stats: {
    keys: number;
    operations: number;
    /** Reads with an unknown result, which constrain nothing and are not searched. */
    unknownReadsSkipped: number;
    /** Search steps over all keys. */
    steps: number;
    /** The largest per-key sub-history searched. */
    maxKeyOperations: number;
  };
}

/**
 * Checks a whole history. `options` may be a number: the step bound per key
 * (the original signature).
 */
export function checkKvLinearizability(history: readonly KvOperation[], options: CheckOptions | number = {}): LinearizabilityResult {
  const maxSteps = typeof options === 'number' ? options : options.maxStepsPerKey;
  const byKey = new Map<string, number[]>();
  let unknownReadsSkipped = 0;
  history.forEach((op, index) => {
    if (op.kind === 'get' && op.result === undefined) {
      unknownReadsSkipped++;
      return;
    }
    const list = byKey.get(op.key);
    if (list) list.push(index);
    else byKey.set(op.key, [index]);
  });
  const failedKeys: string[] = [];
  const undecidedKeys: string[] = [];
  const failures: KeyFailure[] = [];
  let steps = 0;
  let maxKeyOperations = 0;
  for (const [key, indices] of byKey) {
    indices.sort((a, b) => history[a].calledAt - history[b].calledAt || a - b);
    maxKeyOperations = Math.max(maxKeyOperations, indices.length);
    const search = new RegisterSearch(history, indices);
    const verdict = search.run(maxSteps ?? DEFAULT_BASE_STEPS + DEFAULT_STEPS_PER_OPERATION * indices.length);
    steps += search.steps;
    if (verdict === 'no') {
      failedKeys.push(key);
      failures.push(search.explain(key));
    } else if (verdict === 'unknown') undecidedKeys.push(key);
  }
  return {
    ok: failedKeys.length === 0 && undecidedKeys.length === 0,
    failedKeys,
    undecidedKeys,
    failures,
    stats: { keys: byKey.size, operations: history.length, unknownReadsSkipped, steps, maxKeyOperations },
  };
}

const PUT = 0;
const GET = 1;
const CAS = 2;
/** `casResult` values. */
const FAILED = 0;
const SWAPPED = 1;
const UNKNOWN = 2;
/** Interned value id of null (absent key). */
const ABSENT = 0;

/** Zobrist words: a fixed-seed stream, so runs are reproducible. */
function zobristWords(count: number, seed: number): Uint32Array {
  const words = new Uint32Array(count);
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    words[i] = (t ^ (t >>> 14)) >>> 0;
  }
  return words;
}

/**
 * The search over one key's sub-history (Wing & Gong with Lowe's memo), on a
 * doubly linked list of call and return events sorted by time. Taking a call
 * whose operation is legal in the current state removes its call and return
 * from the list; reaching a return whose call was not taken backtracks.
 */
class RegisterSearch {
  steps = 0;
  private readonly m: number;
  /** Per operation (local index 0..m-1): kind, argument value ids, cas result. */
  private readonly kind: Uint8Array;
  /** put: value; get: result; cas: expected. */
  private readonly argA: Int32Array;
  /** cas: new value. */
  private readonly argB: Int32Array;
  private readonly casResult: Uint8Array;
  private readonly values: (string | null)[] = [null];
  /** Events: 2 per operation; `eventOp[e]`, and whether it is the call. */
  private readonly eventOp: Int32Array;
  private readonly eventIsCall: Uint8Array;
  private readonly returnEventOf: Int32Array;
  private readonly callEventOf: Int32Array;
  // Best partial linearization seen when getting stuck (for explain()).
  private bestDepth = -1;
  private bestTail: number[] = [];
  private bestState = ABSENT;
  private bestStuck = -1;
  private bestPending: number[] = [];

  constructor(
    private readonly history: readonly KvOperation[],
    /** History indices of this key's operations, sorted by call time. */
    private readonly indices: readonly number[],
  ) {
    const m = indices.length;
    this.m = m;
    this.kind = new Uint8Array(m);
    this.argA = new Int32Array(m);
    this.argB = new Int32Array(m);
    this.casResult = new Uint8Array(m);
    const ids = new Map<string, number>();
    const intern = (value: string | null | undefined): number => {
      if (value === null || value === undefined) return ABSENT;
      let id = ids.get(value);
      if (id === undefined) {
        id = this.values.length;
        this.values.push(value);
        ids.set(value, id);
      }
      return id;
    };
    for (let j = 0; j < m; j++) {
      const op = history[indices[j]];
      if (op.kind === 'put') {
        this.kind[j] = PUT;
        this.argA[j] = intern(op.value);
      } else if (op.kind === 'get') {
        this.kind[j] = GET;
        this.argA[j] = intern(op.result);
      } else {
        this.kind[j] = CAS;
        this.argA[j] = intern(op.expected);
        this.argB[j] = intern(op.value);
        this.casResult[j] = op.result === undefined ? UNKNOWN : op.result ? SWAPPED : FAILED;
      }
    }
    // Events sorted by time; a return sorts before a call at the same time (they do not overlap).
    const order = new Int32Array(2 * m);
    for (let i = 0; i < 2 * m; i++) order[i] = i;
    const timeOf = (e: number) => (e < m ? history[indices[e]].calledAt : history[indices[e - m]].returnedAt);
    const sorted = Array.from(order).sort((a, b) => {
      const ta = timeOf(a);
      const tb = timeOf(b);
      if (ta !== tb) return ta < tb ? -1 : 1;
      const aCall = a < m;
      const bCall = b < m;
      if (aCall !== bCall) return aCall ? 1 : -1;
      return a - b;
    });
    this.eventOp = new Int32Array(2 * m);
    this.eventIsCall = new Uint8Array(2 * m);
    this.returnEventOf = new Int32Array(m);
    this.callEventOf = new Int32Array(m);
    sorted.forEach((e, position) => {
      const call = e < m;
      const op = call ? e : e - m;
      this.eventOp[position] = op;
      this.eventIsCall[position] = call ? 1 : 0;
      if (call) this.callEventOf[op] = position;
      else this.returnEventOf[op] = position;
    });
  }

  /** The state after applying local operation `j` in `state`, or -1 when `j` is not legal there. */
  private apply(state: number, j: number): number {
    switch (this.kind[j]) {
      case PUT:
        return this.argA[j];
      case GET:
        return this.argA[j] === state ? state : -1;
      default: {
        const matches = this.argA[j] === state;
        switch (this.casResult[j]) {
          case SWAPPED:
            return matches ? this.argB[j] : -1;
          case FAILED:
            return matches ? -1 : state;
          default:
            return matches ? this.argB[j] : state;
        }
      }
    }
  }

  run(maxSteps: number): 'yes' | 'no' | 'unknown' {
    const m = this.m;
    const n = 2 * m;
    const HEAD = n;
    const next = new Int32Array(n + 1);
    const prev = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) {
      prev[i] = i === 0 ? HEAD : i - 1;
      next[i] = i === n - 1 ? -1 : i + 1;
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

    const zobristA = zobristWords(m, 0x2545f491);
    const zobristB = zobristWords(m, 0x9e3779b9);
    const zobristC = zobristWords(m, 0x7f4a7c15);
    const zobristD = zobristWords(m, 0x94d049bb);
    let hashA = 0;
    let hashB = 0;
    let hashC = 0;
    let hashD = 0;
    /** First 53-bit hash -> second 53-bit hash (or several, on a first-hash collision). */
    const memo = new Map<number, number | number[]>();
    /** Records (linearized set, state) in the memo; false when it was there already. */
    const remember = (state: number): boolean => {
      const mix = Math.imul(state + 1, 0x9e3779b1);
      const first = ((hashA ^ mix) >>> 0) * 0x200000 + (hashB >>> 11);
      const second = ((hashC ^ mix) >>> 0) * 0x200000 + (hashD >>> 11);
      const known = memo.get(first);
      if (known === undefined) memo.set(first, second);
      else if (typeof known === 'number') {
        if (known === second) return false;
        memo.set(first, [known, second]);
      } else {
        if (known.includes(second)) return false;
        known.push(second);
      }
      return true;
    };
    const toggle = (j: number) => {
      hashA ^= zobristA[j];
      hashB ^= zobristB[j];
      hashC ^= zobristC[j];
      hashD ^= zobristD[j];
    };

    /** The stack of taken calls: the local operation and the state before it. */
    const stackOp = new Int32Array(m);
    const stackState = new Int32Array(m);
    let depth = 0;
    let state = ABSENT;
    let entry = next[HEAD];
    while (next[HEAD] !== -1) {
      if (++this.steps > maxSteps) return 'unknown';
      if (entry === -1) return 'no'; // cannot happen: the list always ends with a return
      const j = this.eventOp[entry];
      if (this.eventIsCall[entry]) {
        const after = this.apply(state, j);
        if (after !== -1) {
          toggle(j);
          if (remember(after)) {
            stackOp[depth] = j;
            stackState[depth] = state;
            depth++;
            state = after;
            unlink(entry);
            unlink(this.returnEventOf[j]);
            entry = next[HEAD];
            continue;
          }
          toggle(j);
        }
        entry = next[entry];
      } else {
        // The return of an operation not linearized yet: this branch is dead.
        if (depth > this.bestDepth) this.noteStuck(depth, stackOp, state, j, next, HEAD, entry);
        if (depth === 0) return 'no';
        depth--;
        const taken = stackOp[depth];
        state = stackState[depth];
        toggle(taken);
        relink(this.returnEventOf[taken]);
        relink(this.callEventOf[taken]);
        entry = next[this.callEventOf[taken]];
      }
    }
    return 'yes';
  }

  private noteStuck(depth: number, stackOp: Int32Array, state: number, stuck: number, next: Int32Array, head: number, stuckEvent: number): void {
    this.bestDepth = depth;
    this.bestTail = Array.from(stackOp.subarray(Math.max(0, depth - 16), depth));
    this.bestState = state;
    this.bestStuck = stuck;
    const pending: number[] = [];
    for (let e = next[head]; e !== -1 && e !== stuckEvent && pending.length < 32; e = next[e]) {
      if (this.eventIsCall[e] && this.eventOp[e] !== stuck) pending.push(this.eventOp[e]);
    }
    this.bestPending = pending;
  }

  explain(key: string): KeyFailure {
    const toHistory = (j: number) => this.indices[j];
    return {
      key,
      operations: [...this.indices],
      linearizedCount: Math.max(0, this.bestDepth),
      lastLinearized: this.bestTail.map(toHistory),
      valueBefore: this.values[this.bestState],
      stuck: this.bestStuck >= 0 ? toHistory(this.bestStuck) : this.indices[0],
      pending: this.bestPending.map(toHistory),
    };
  }
}
