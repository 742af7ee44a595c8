/** The apply/updated events: shape, exactly-once, order, serialization, handler styles. */
import { describe, expect, it } from 'vitest';
import type { AppliedEntry } from 'webraft';
import { cluster, sleep, TestNet, TestRaft, waitFor, waitLeader } from './helpers.js';

async function single(): Promise<TestRaft> {
  const n = new TestRaft('a', new TestNet());
  await waitFor(() => n.isLeader);
  return n;
}

describe('apply', () => {
  it('is called with (entry, index, cb): entry.command and entry.term', async () => {
    const n = await single();
    const calls: unknown[][] = [];
    n.listen('apply', (...args: unknown[]) => {
      calls.push(args);
    });
    const r = await n.propose({ k: 'v' });
    expect(calls.length).toBe(1);
    const [entry, index, cb] = calls[0] as [AppliedEntry, number, () => void];
    expect(entry.command).toEqual({ k: 'v' });
    expect(entry.term).toBe(r.term);
    expect(index).toBe(r.index);
    expect(typeof cb).toBe('function');
    n.end();
  });

  it('exactly once per index, strictly increasing, only user commands — across leader changes', async () => {
    const c = cluster(['a', 'b', 'c']);
    const perNode = new Map<string, { index: number; command: unknown; term: number }[]>();
    for (const n of c.nodes) {
      const l: { index: number; command: unknown; term: number }[] = [];
      perNode.set(n.address, l);
      n.listen('apply', (e, index) => void l.push({ index, command: e.command, term: e.term }));
    }
    let leader = await waitLeader(c);
    const proposed: string[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        const cmd = `r${round}-${i}`;
        proposed.push(cmd);
        await c.nodes[i % 3].propose(cmd);
      }
      // force a leader change (new no-op entries, new term)
      c.net.isolate(leader.address);
      await waitFor(() => c.nodes.some((n) => n !== leader && n.isLeader), 5000);
      c.net.heal();
      leader = await waitLeader(c);
    }
    await leader.propose('last');
    proposed.push('last');
    await waitFor(() => [...perNode.values()].every((l) => l.length === proposed.length));
    await sleep(30);
    for (const l of perNode.values()) {
      expect(l.map((e) => e.command)).toEqual(proposed);
      for (let i = 1; i < l.length; i++) {
        expect(l[i].index).toBeGreaterThan(l[i - 1].index);
        expect(l[i].term).toBeGreaterThanOrEqual(l[i - 1].term);
      }
    }
    c.end();
  });

  it('is serialized: a slow handler using cb delays the next apply', async () => {
    const n = await single();
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    n.listen('apply', (e, index, cb) => {
      active++;
      maxActive = Math.max(maxActive, active);
      order.push(`start ${index}`);
      setTimeout(() => {
        order.push(`end ${index}`);
        active--;
        cb();
      }, 15);
    });
    const rs = await Promise.all([n.propose(1), n.propose(2), n.propose(3)]);
    expect(maxActive).toBe(1);
    const idx = rs.map((r) => r.index);
    expect(order).toEqual(idx.flatMap((i) => [`start ${i}`, `end ${i}`]));
    n.end();
  });

  it('a handler returning a Promise is awaited', async () => {
    const n = await single();
    let active = 0;
    let maxActive = 0;
    const done: number[] = [];
    n.listen('apply', async (_e: AppliedEntry, index: number) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(10);
      active--;
      done.push(index);
    });
    const r = await n.propose('x');
    // propose resolves only after the promise settled
    expect(done).toContain(r.index);
    await Promise.all([n.propose(1), n.propose(2), n.propose(3)]);
    expect(maxActive).toBe(1);
    n.end();
  });

  it('a handler declaring only (entry, index) that returns nothing is synchronous', async () => {
    const n = await single();
    const seen: number[] = [];
    n.listen('apply', (_entry: AppliedEntry, index: number) => {
      seen.push(index);
    });
    const rs = [];
    for (let i = 0; i < 3; i++) rs.push(await n.propose(i));
    expect(seen).toEqual(rs.map((r) => r.index));
    n.end();
  });

  it('updated(index) fires after each apply completed, for every applied index', async () => {
    const n = await single();
    const log: string[] = [];
    n.listen('apply', (_e, index, cb) => {
      log.push(`apply ${index}`);
      setTimeout(() => {
        log.push(`done ${index}`);
        cb();
      }, 5);
    });
    n.listen('updated', (index: number) => void log.push(`updated ${index}`));
    const rs = await Promise.all([n.propose('a'), n.propose('b')]);
    await waitFor(() => log.filter((l) => l.startsWith('updated')).length === 2);
    expect(log).toEqual(rs.flatMap((r) => [`apply ${r.index}`, `done ${r.index}`, `updated ${r.index}`]));
    n.end();
  });

  it('with no apply listener entries count as applied at once', async () => {
    const n = await single();
    const updated: number[] = [];
    n.listen('updated', (i: number) => void updated.push(i));
    const r = await n.propose('x');
    expect(n.status().lastApplied).toBeGreaterThanOrEqual(r.index);
    await n.readBarrier();
    n.end();
  });

  it('a throwing handler does not wedge the apply pipeline', async () => {
    const n = await single();
    const seen: number[] = [];
    n.listen('error', () => {});
    n.listen('apply', (e: AppliedEntry, index: number) => {
      seen.push(index);
      if (e.command === 'boom') throw new Error('handler failure');
    });
    await n.propose('boom').catch(() => {});
    const r = await n.propose('fine');
    expect(seen).toContain(r.index);
    n.end();
  });

  it('apply listeners on followers see the same entries as the leader', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    for (let i = 0; i < 5; i++) await leader.propose(i);
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.length === 5));
    const lists = c.nodes.map((n) => JSON.stringify(c.applied.get(n.address)));
    expect(new Set(lists).size).toBe(1);
    c.end();
  });
  it('mutating entry.command in a listener changes neither the log nor what followers get', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    leader.listen('apply', (entry: AppliedEntry) => {
      (entry.command as { nested: { n: number } }).nested.n = -1;
    });
    const r = await leader.propose({ nested: { n: 1 } });
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.length === 1));
    // Listeners of one node share one copy (the leader's own list sees the change); nothing else does.
    for (const n of c.nodes.filter((n) => n !== leader)) expect(c.applied.get(n.address)![0].command).toEqual({ nested: { n: 1 } });
    const saved = await c.storages.get(leader.address)!.load();
    expect(saved.entries.find((e) => e.index === r.index)?.command).toEqual({ nested: { n: 1 } });
    c.end();
  });

  it('a callback called late, or twice, completes the apply once and keeps order', async () => {
    const n = await single();
    const order: string[] = [];
    n.listen('apply', (_e: AppliedEntry, index: number, cb: () => void) => {
      order.push(`start ${index}`);
      setTimeout(() => {
        order.push(`end ${index}`);
        cb();
        cb();
      }, 5);
    });
    const updated: number[] = [];
    n.listen('updated', (index: number) => updated.push(index));
    const rs = await Promise.all([n.propose(1), n.propose(2)]);
    const indexes = rs.map((r) => r.index);
    expect(order).toEqual(indexes.flatMap((i) => [`start ${i}`, `end ${i}`]));
    expect(updated.filter((i) => indexes.includes(i))).toEqual(indexes);
    n.end();
  });
});
