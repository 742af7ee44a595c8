import { describe, expect, it } from 'vitest';
import { checkKvLinearizability, type KvOperation } from '../../src/testing/linearizability.js';
import { SeededRandom } from '../../src/testing/seeded-random.js';
import { bruteForceLinearizable, cas, get, linearizableHistory, put } from './histories.js';

describe('linearizability checker: registers with put and get', () => {
  const cases: { name: string; history: KvOperation[]; ok: boolean }[] = [
    { name: 'sequential put then get', history: [put('a', 'x', '1', 1, 2), get('b', 'x', '1', 3, 4)], ok: true },
    { name: 'get before any put reads null', history: [get('b', 'x', null, 1, 2), put('a', 'x', '1', 3, 4)], ok: true },
    { name: 'stale read after a completed write', history: [put('a', 'x', '1', 1, 2), put('a', 'x', '2', 3, 4), get('b', 'x', '1', 5, 6)], ok: false },
    { name: 'concurrent read may see old or new value', history: [put('a', 'x', '1', 1, 2), put('a', 'x', '2', 3, 6), get('b', 'x', '1', 4, 5)], ok: true },
    { name: 'reads going back in time', history: [put('a', 'x', '1', 1, 10), get('b', 'x', '1', 2, 3), get('c', 'x', null, 4, 5)], ok: false },
    { name: 'a timed-out put may take effect later', history: [put('a', 'x', '1', 1, Infinity), get('b', 'x', null, 2, 3), get('c', 'x', '1', 4, 5)], ok: true },
    { name: 'a timed-out put may never take effect', history: [put('a', 'x', '1', 1, Infinity), get('b', 'x', null, 2, 3), get('c', 'x', null, 4, 5)], ok: true },
    { name: 'a timed-out put cannot take effect before its call', history: [get('b', 'x', '1', 1, 2), put('a', 'x', '1', 3, Infinity)], ok: false },
    { name: 'a value never written is not linearizable', history: [put('a', 'x', '1', 1, 2), get('b', 'x', '7', 3, 4)], ok: false },
    { name: 'a read with an unknown result constrains nothing', history: [put('a', 'x', '1', 1, 2), get('b', 'x', undefined, 3, Infinity), get('c', 'x', '1', 4, 5)], ok: true },
    { name: 'keys are independent', history: [put('a', 'x', '1', 1, 2), put('a', 'y', '2', 3, 4), get('b', 'x', '1', 5, 6), get('b', 'y', '2', 5.5, 6.5)], ok: true },
  ];
  for (const c of cases) {
    it(`${c.ok ? 'accepts' : 'rejects'}: ${c.name}`, () => {
      expect(checkKvLinearizability(c.history).ok).toBe(c.ok);
    });
  }

  it('names the key that failed', () => {
    const result = checkKvLinearizability([put('a', 'x', '1', 1, 2), put('a', 'y', '1', 1.5, 2.5), get('b', 'y', null, 3, 4)]);
    expect(result.failedKeys).toEqual(['y']);
  });
});

describe('linearizability checker: compare-and-set', () => {
  const cases: { name: string; history: KvOperation[]; ok: boolean }[] = [
    { name: 'a cas that swapped from the current value', history: [put('a', 'x', '1', 1, 2), cas('b', 'x', '1', '2', true, 3, 4), get('c', 'x', '2', 5, 6)], ok: true },
    { name: 'a cas that swapped from a value the register did not hold', history: [put('a', 'x', '1', 1, 2), cas('b', 'x', '3', '2', true, 3, 4)], ok: false },
    { name: 'a cas that failed although the register held its expected value', history: [put('a', 'x', '1', 1, 2), cas('b', 'x', '1', '2', false, 3, 4)], ok: false },
    { name: 'a failed cas changes nothing', history: [put('a', 'x', '1', 1, 2), cas('b', 'x', '9', '2', false, 3, 4), get('c', 'x', '2', 5, 6)], ok: false },
    { name: 'a cas from absent (null) on a fresh key', history: [cas('b', 'x', null, '2', true, 1, 2), get('c', 'x', '2', 3, 4)], ok: true },
    { name: 'two cas from the same value cannot both swap', history: [put('a', 'x', '1', 1, 2), cas('b', 'x', '1', '2', true, 3, 6), cas('c', 'x', '1', '3', true, 4, 7)], ok: false },
    { name: 'a cas concurrent with a write may fail because the write came first', history: [put('a', 'x', '1', 1, 2), put('a', 'x', '5', 3, 6), cas('c', 'x', '1', '3', false, 4, 7)], ok: true },
    { name: 'an indeterminate cas may have swapped', history: [put('a', 'x', '1', 1, 2), cas('b', 'x', '1', '2', undefined, 3, Infinity), get('c', 'x', '2', 5, 6)], ok: true },
    { name: 'an indeterminate cas may not have swapped', history: [put('a', 'x', '1', 1, 2), cas('b', 'x', '1', '2', undefined, 3, Infinity), get('c', 'x', '1', 5, 6)], ok: true },
    { name: 'an indeterminate cas swaps only from its expected value', history: [put('a', 'x', '7', 1, 2), cas('b', 'x', '1', '2', undefined, 3, Infinity), get('c', 'x', '2', 5, 6)], ok: false },
  ];
  for (const c of cases) {
    it(`${c.ok ? 'accepts' : 'rejects'}: ${c.name}`, () => {
      expect(checkKvLinearizability(c.history).ok).toBe(c.ok);
    });
  }
});

describe('linearizability checker: explanations', () => {
  it('points at the stale read, with the partial linearization before it and the value the register held', () => {
    const history = [put('a', 'x', '1', 1, 2), put('a', 'x', '2', 3, 4), get('b', 'x', '1', 5, 6), get('c', 'y', null, 1, 2)];
    const result = checkKvLinearizability(history);
    expect(result.failures).toHaveLength(1);
    const failure = result.failures[0];
    expect(failure.key).toBe('x');
    expect(failure.operations).toEqual([0, 1, 2]);
    expect(failure.stuck).toBe(2);
    expect(failure.linearizedCount).toBe(2);
    expect(failure.lastLinearized).toEqual([0, 1]);
    expect(failure.valueBefore).toBe('2');
    expect(failure.pending).toEqual([]);
  });

  it('lists the pending operations concurrent with the stuck one', () => {
    const history = [put('a', 'x', '1', 1, 2), get('b', 'x', '3', 3, 5), get('c', 'x', '9', 4, 8)];
    const failure = checkKvLinearizability(history).failures[0];
    expect(failure.stuck).toBe(1);
    expect(failure.linearizedCount).toBe(1);
    expect(failure.pending).toEqual([2]);
  });
});

describe('linearizability checker agrees with brute force on small random histories', () => {
  it('1500 random histories of 2 to 7 operations over 3 values', () => {
    const rng = new SeededRandom(20240601);
    let linearizable = 0;
    for (let round = 0; round < 1500; round++) {
      const history: KvOperation[] = [];
      const count = rng.range(2, 7);
      const values = [null, '1', '2'];
      for (let i = 0; i < count; i++) {
        const calledAt = rng.int(10);
        const returnedAt = rng.chance(0.15) ? Infinity : calledAt + 1 + rng.int(4);
        const choice = rng.int(3);
        if (choice === 0) history.push(put(`c${i}`, 'x', rng.pick(['1', '2']), calledAt, returnedAt));
        else if (choice === 1) history.push(get(`c${i}`, 'x', returnedAt === Infinity ? undefined : rng.pick(values), calledAt, returnedAt));
        else history.push(cas(`c${i}`, 'x', rng.pick(values), rng.pick(['1', '2']), returnedAt === Infinity ? undefined : rng.chance(0.5), calledAt, returnedAt));
      }
      const expected = bruteForceLinearizable(history);
      if (expected) linearizable++;
      expect(checkKvLinearizability(history).ok, `round ${round}: ${JSON.stringify(history)}`).toBe(expected);
    }
    // Both verdicts are exercised.
    expect(linearizable).toBeGreaterThan(150);
    expect(linearizable).toBeLessThan(1350);
  });
});

describe('linearizability checker on generated histories', () => {
  it('accepts linearizable-by-construction histories with cas and indeterminate operations (20 seeds)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const history = linearizableHistory(seed, { operations: 2000, keys: 10, clients: 8, indeterminate: 0.05 });
      const result = checkKvLinearizability(history);
      expect(result.ok, `seed ${seed}: ${result.failedKeys.join(', ')} failed, ${result.undecidedKeys.join(', ')} undecided`).toBe(true);
    }
  });

  it('rejects them once one read returns a value that was never written (20 seeds)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const history = linearizableHistory(seed, { operations: 2000, keys: 10, clients: 8, indeterminate: 0.05 });
      const victim = history.findIndex((op, i) => i > 1000 && op.kind === 'get' && op.result !== undefined);
      const tampered = history.map((op, i): KvOperation => (i === victim && op.kind === 'get' ? { ...op, result: 'never-written' } : op));
      const result = checkKvLinearizability(tampered);
      expect(result.failedKeys, `seed ${seed}`).toEqual([history[victim].key]);
      expect(result.failures[0].stuck, `seed ${seed}`).toBe(victim);
    }
  });

  it('checks 200,000 operations (1,000 keys of 200, 10 clients, 3% indeterminate) and prints its cost', () => {
    const history = linearizableHistory(7, { operations: 200_000, keys: 1000, clients: 10, indeterminate: 0.03 });
    const started = performance.now();
    const result = checkKvLinearizability(history);
    const ms = performance.now() - started;
    console.log(`checker: ${result.stats.operations} operations, ${result.stats.keys} keys, ${result.stats.steps} steps, ${ms.toFixed(0)} ms`);
    expect(result.ok).toBe(true);
    expect(result.stats.operations).toBe(200_000);
  });

  it('checks one key with 20,000 operations (10 clients, 2% indeterminate)', () => {
    const history = linearizableHistory(11, { operations: 20_000, keys: 1, clients: 10, indeterminate: 0.02 });
    const started = performance.now();
    const result = checkKvLinearizability(history);
    console.log(`checker: one key, ${result.stats.operations} operations, ${result.stats.steps} steps, ${(performance.now() - started).toFixed(0)} ms`);
    expect(result.ok).toBe(true);
  });
});
