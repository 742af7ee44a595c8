/** createInstance/end bookkeeping and what write() receives. */
import { describe, expect, it } from 'vitest';
import { bodyKeyOf, BODY_KEYS, cluster, waitFor, waitLeader } from './helpers.js';

describe('instances', () => {
  it('createInstance is called at most once per peer per run; end() ends every instance created', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    for (let i = 0; i < 5; i++) await c.nodes[i % 3].propose(i);
    // a restart of one node: its new run creates its own instances
    c.byId('b').end();
    const b2 = c.start('b');
    await waitFor(() => b2.status().lastApplied >= leader.status().commitIndex - 1 && b2.leaderID !== null);
    await b2.propose('after restart');
    for (const n of c.nodes) {
      const addrs = n.created.map((i) => i.address);
      expect(new Set(addrs).size, `${n.address} created ${addrs}`).toBe(addrs.length);
      expect(addrs).not.toContain(n.address);
      for (const a of addrs) expect(['a', 'b', 'c']).toContain(a);
    }
    const all = c.nodes.flatMap((n) => n.created);
    c.end();
    for (const inst of all) {
      expect(inst.ended).toBe(true);
      expect(inst.endCalls).toBeGreaterThanOrEqual(1);
    }
  });

  it('a sender it must answer gets an instance too (once), and leaving ends it', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const d = c.start('d', { peers: [] });
    await leader.join('d');
    await waitFor(() => d.status().voters.includes('d'));
    const inst = leader.created.filter((i) => i.address === 'd');
    expect(inst.length).toBe(1);
    await c.leader()!.leave('d');
    await waitFor(() => inst[0].ended, 3000, 'instance for d ended after leave');
    c.end();
  });
});

describe('write() payloads', () => {
  it('fresh, never reused, never mutated later, JSON-stable, exactly one body key', async () => {
    const c = cluster(['a', 'b', 'c']);
    c.net.record = true;
    const leader = await waitLeader(c);
    const follower = c.nodes.find((n) => n !== leader)!;
    const cmds = [{ a: [1, { b: 'x' }] }, 'str', 7.5, null, true, [[]], { nested: { deep: { deeper: [1, 2, 3] } } }];
    for (const cmd of cmds) await follower.propose(cmd);
    for (const cmd of cmds) await leader.propose(cmd);
    await leader.readBarrier().catch(() => {});
    await follower.readBarrier().catch(() => {});
    await c.leader()?.join('a').catch(() => {});
    // let heartbeats etc. flow for a bit
    await waitFor(() => c.net.writes.length > 200, 3000).catch(() => {});
    c.end();
    const writes = c.net.writes;
    expect(writes.length).toBeGreaterThan(20);
    const seen = new Set<object>();
    const kinds = new Set<string>();
    for (const w of writes) {
      expect(seen.has(w.payload), 'the same object was written twice').toBe(false);
      seen.add(w.payload);
      // never mutated after write(): still deep-equal to the copy taken at write time
      expect(w.payload).toStrictEqual(w.copy);
      expect(JSON.parse(JSON.stringify(w.payload))).toStrictEqual(w.payload);
      expect(Object.getPrototypeOf(w.payload)).toBe(Object.prototype);
      const keys = bodyKeyOf(w.payload);
      expect(keys.length, JSON.stringify(w.payload)).toBe(1);
      kinds.add(keys[0]);
      for (const k of Object.keys(w.payload)) expect(['from', 'to', 'term', ...BODY_KEYS]).toContain(k);
      expect((w.payload as { from: string }).from).toBe(w.from);
      expect((w.payload as { to: string }).to).toBe(w.to);
    }
    expect(kinds.has('appendEntriesRequest')).toBe(true);
    expect(kinds.has('proposeRequest')).toBe(true);
  });

  it('no two instances of different nodes share a payload object (broadcast gets fresh objects)', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e']);
    c.net.record = true;
    const leader = await waitLeader(c);
    await leader.propose({ big: 'x'.repeat(100) });
    c.end();
    const objs = c.net.writes.map((w) => w.payload);
    expect(new Set(objs).size).toBe(objs.length);
    // nested objects are not shared between payloads either
    const nested = new Set<object>();
    const walk = (v: unknown) => {
      if (v && typeof v === 'object') {
        expect(nested.has(v as object), 'nested object shared between payloads').toBe(false);
        nested.add(v as object);
        for (const x of Object.values(v)) walk(x);
      }
    };
    for (const o of objs) walk(o);
  });
});
