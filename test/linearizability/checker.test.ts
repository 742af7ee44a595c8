import { describe, expect, it } from 'vitest';
import { checkKvLinearizability, type KvOperation } from '../../src/testing/linearizability.js';

const put = (client: string, key: string, value: string, calledAt: number, returnedAt: number): KvOperation => ({ client, kind: 'put', key, value, calledAt, returnedAt });
const get = (client: string, key: string, result: string | null | undefined, calledAt: number, returnedAt: number): KvOperation => ({ client, kind: 'get', key, result, calledAt, returnedAt });

describe('linearizability checker', () => {
  const cases: { name: string; history: KvOperation[]; ok: boolean }[] = [
    { name: 'sequential put then get', history: [put('a', 'x', '1', 1, 2), get('b', 'x', '1', 3, 4)], ok: true },
    { name: 'get before any put reads null', history: [get('b', 'x', null, 1, 2), put('a', 'x', '1', 3, 4)], ok: true },
    { name: 'stale read after a completed write', history: [put('a', 'x', '1', 1, 2), put('a', 'x', '2', 3, 4), get('b', 'x', '1', 5, 6)], ok: false },
    { name: 'concurrent read may see old or new value', history: [put('a', 'x', '1', 1, 2), put('a', 'x', '2', 3, 6), get('b', 'x', '1', 4, 5)], ok: true },
    { name: 'reads going back in time', history: [put('a', 'x', '1', 1, 10), get('b', 'x', '1', 2, 3), get('c', 'x', null, 4, 5)], ok: false },
    { name: 'a timed-out put may take effect later', history: [put('a', 'x', '1', 1, Infinity), get('b', 'x', null, 2, 3), get('c', 'x', '1', 4, 5)], ok: true },
    { name: 'a timed-out put may never take effect', history: [put('a', 'x', '1', 1, Infinity), get('b', 'x', null, 2, 3), get('c', 'x', null, 4, 5)], ok: true },
    { name: 'a value never written is not linearizable', history: [put('a', 'x', '1', 1, 2), get('b', 'x', '7', 3, 4)], ok: false },
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
