/** API calls from inside event handlers and transports, in synchronous delivery. */
import { describe, expect, it } from 'vitest';
import { cluster, sleep, waitFor, waitLeader } from './helpers.js';

describe('re-entrancy', () => {
  it('propose/status/readBarrier from inside event handlers (sync delivery)', async () => {
    const c = cluster(['a', 'b', 'c'], { mode: 'sync' });
    const fromLeaderEvent: Promise<unknown>[] = [];
    const fromApply: Promise<unknown>[] = [];
    for (const n of c.nodes) {
      n.listen('leader', () => {
        n.status();
        fromLeaderEvent.push(n.propose({ hello: n.address }));
      });
      n.listen('apply', (e) => {
        n.status();
        if ((e.command as { chain?: number }).chain === 1) fromApply.push(n.propose({ chain: 2, by: n.address }));
        void n.readBarrier().catch(() => {});
      });
      n.listen('state changed', () => void n.status());
    }
    const leader = await waitLeader(c);
    await leader.propose({ chain: 1 });
    await Promise.all(fromLeaderEvent);
    await waitFor(() => fromApply.length === 3);
    await Promise.all(fromApply);
    await waitFor(() => new Set(c.nodes.map((n) => n.status().lastApplied)).size === 1);
    const lists = c.nodes.map((n) => JSON.stringify(c.applied.get(n.address)));
    expect(new Set(lists).size).toBe(1);
    expect(c.applied.get('a')!.filter((e) => (e.command as { chain?: number }).chain === 2).length).toBe(3);
    c.end();
  });

  it('a write() that throws is reported and does not stop the node; it recovers when the transport does', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    let broken = true;
    const errors: unknown[] = [];
    for (const n of c.nodes) n.listen('write error', (...a: unknown[]) => void errors.push(a));
    for (const n of c.nodes) n.listen('error', (...a: unknown[]) => void errors.push(a));
    const f = c.nodes.find((n) => n !== leader)!;
    for (const inst of f.created) {
      const original = inst.write.bind(inst);
      inst.write = (p: object) => {
        if (broken) throw new Error('socket closed');
        original(p);
      };
    }
    const p = f.propose('through a broken socket');
    await sleep(100);
    expect(errors.length).toBeGreaterThan(0);
    broken = false;
    const r = await p;
    expect(r.index).toBeGreaterThan(0);
    c.end();
  });

  it('end() from inside handlers and write() is safe', async () => {
    const c = cluster(['a', 'b', 'c'], { mode: 'sync' });
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    const other = c.nodes.find((n) => n !== leader && n !== f)!;
    f.listen('apply', () => f.end());
    const errors: unknown[] = [];
    for (const n of c.nodes) n.listen('error', (e: unknown) => void errors.push(e));
    await leader.propose('ends f');
    await waitFor(() => f.ended);
    // a transport that ends its own node while writing
    for (const inst of other.created) {
      const original = inst.write.bind(inst);
      inst.write = (p: object) => {
        other.end();
        original(p);
      };
    }
    await leader.propose('may end other').catch(() => {});
    await waitFor(() => other.ended, 3000);
    // the leader alone has no quorum now: its proposals settle with a code, never hang
    const outcome = await Promise.race([leader.propose('alone').then(() => 'ok', (e: { code?: string }) => e.code), sleep(5000).then(() => 'hung')]);
    expect(outcome).not.toBe('hung');
    expect(errors).toEqual([]);
    c.end();
  });
});
