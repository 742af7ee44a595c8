/** propose(): resolution after commit and local apply, forwarding, failures with codes, exactly-once. */
import { describe, expect, it } from 'vitest';
import { cluster, rejection, sleep, TestNet, TestRaft, waitFor, waitLeader } from './helpers.js';

describe('propose', () => {
  it('resolves {index, term} after commit and local apply (the apply listener already saw it)', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    for (const node of [leader, ...c.nodes.filter((n) => n !== leader)]) {
      const seen: number[] = [];
      const un = node.listen('apply', (_e, index) => void seen.push(index));
      const r = await node.propose({ from: node.address });
      expect(Object.keys(r).sort()).toEqual(['index', 'term']);
      expect(Number.isInteger(r.index) && r.index > 0).toBe(true);
      expect(Number.isInteger(r.term) && r.term > 0).toBe(true);
      expect(seen).toContain(r.index);
      const list = c.applied.get(node.address)!;
      expect(list.find((e) => e.index === r.index)?.command).toEqual({ from: node.address });
      const s = node.status();
      expect(s.commitIndex).toBeGreaterThanOrEqual(r.index);
      expect(s.lastApplied).toBeGreaterThanOrEqual(r.index);
      un();
    }
    c.end();
  });

  it('is forwarded from followers; the leader applies it at the same index', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const followers = c.nodes.filter((n) => n !== leader);
    const rs = await Promise.all(followers.map((f, i) => f.propose(`f${i}`)));
    await waitFor(() => c.applied.get(leader.address)!.length === 2);
    for (const [i, r] of rs.entries()) {
      expect(c.applied.get(leader.address)!.find((e) => e.index === r.index)?.command).toBe(`f${i}`);
      expect(r.term).toBe(leader.currentTerm);
    }
    c.end();
  });

  it('a proposal made before any leader exists is delivered once one is elected', async () => {
    const c = cluster(['a', 'b', 'c']);
    const p = c.nodes[1].propose('early');
    const r = await p;
    expect(r.index).toBeGreaterThan(0);
    c.end();
  });

  it('isolated follower: rejects with TIMEOUT or NO_LEADER within about messageTimeout, never hangs', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 300 } });
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    c.net.isolate(f.address);
    const t0 = performance.now();
    const err = await rejection(f.propose('lost'));
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(Error);
    expect(['TIMEOUT', 'NO_LEADER']).toContain(err.code);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(300 + 1500);
    c.end();
  });

  it('isolated leader: rejects with a code within about messageTimeout', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 300 } });
    const leader = await waitLeader(c);
    c.net.isolate(leader.address);
    const t0 = performance.now();
    const err = await rejection(leader.propose('lost'));
    expect(typeof err.code).toBe('string');
    expect(['TIMEOUT', 'NO_LEADER', 'LEADERSHIP_LOST']).toContain(err.code);
    expect(performance.now() - t0).toBeLessThan(300 + 1500);
    c.end();
  });

  it('a single node that has lost its peers (no quorum ever) rejects with a code', async () => {
    const net = new TestNet();
    const lonely = new TestRaft('a', net, { peers: ['a', 'b', 'c'] }, { messageTimeout: 200 });
    const t0 = performance.now();
    const err = await rejection(lonely.propose('x'));
    expect(['TIMEOUT', 'NO_LEADER']).toContain(err.code);
    expect(performance.now() - t0).toBeLessThan(200 + 1500);
    lonely.end();
  });

  it('rejects with ENDED on end(), and after end()', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 5000 } });
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    c.net.isolate(f.address);
    const pending = f.propose('never');
    await sleep(20);
    f.end();
    const err = await rejection(pending);
    expect(err.code).toBe('ENDED');
    const after = await rejection(f.propose('later'));
    expect(after.code).toBe('ENDED');
    c.end();
  });

  it('end() right after construction rejects a pending proposal with ENDED', async () => {
    const net = new TestNet();
    const n = new TestRaft('a', net);
    const p = n.propose('x');
    n.end();
    expect((await rejection(p)).code).toBe('ENDED');
  });

  it('a command that is not JSON rejects with a code', async () => {
    const net = new TestNet();
    const n = new TestRaft('a', net);
    await waitFor(() => n.isLeader);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: unknown[] = [undefined, () => 1, Symbol('s'), 1n, NaN, Infinity, new Map(), new Date(), { f: () => 1 }, [undefined], cyclic, { n: NaN }];
    for (const cmd of bad) {
      const err = await rejection(n.propose(cmd));
      expect(err).toBeInstanceOf(Error);
      expect(typeof err.code).toBe('string');
    }
    expect(n.status().lastApplied).toBe(n.status().commitIndex);
    // and valid JSON values all work
    for (const cmd of [null, 0, -1.5, '', 'x', true, false, [], {}, { a: [null] }]) {
      const r = await n.propose(cmd);
      expect(r.index).toBeGreaterThan(0);
    }
    n.end();
  });

  it('a command the wire cannot carry rejects up front and does not wedge the cluster', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 500 } });
    const leader = await waitLeader(c);
    const follower = c.nodes.find((n) => n !== leader)!;
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const tooBig = [
      'x'.repeat(1024 * 1024 + 5), // longer than maxStringLength
      deep, // deeper than maxJsonDepth
      'lone \uD800 surrogate', // not well-formed UTF-16
      { ['k'.repeat(1024 * 1024 + 1)]: 1 }, // oversized key
    ];
    for (const node of [leader, follower]) {
      for (const cmd of tooBig) {
        const err = await rejection(node.propose(cmd));
        expect(typeof err.code).toBe('string');
      }
    }
    // the cluster still commits
    const r = await follower.propose('still works');
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.some((e) => e.index === r.index)));
    for (const n of c.nodes) expect(c.applied.get(n.address)!.map((e) => e.command)).toEqual(['still works']);
    c.end();
  });

  it('-0 and other edge numbers apply identically on every node', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    for (const v of [-0, 2 ** 60, 1e308, 5e-324, { '': -0 }]) await leader.propose(v);
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.length === 5));
    const lists = c.nodes.map((n) => c.applied.get(n.address)!.map((e) => e.command));
    for (const l of lists) expect(l).toStrictEqual(lists[1]);
    c.end();
  });

  it('the proposed object is copied: mutating it after propose() changes nothing', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    const cmd = { v: 1, list: [1] };
    const p = f.propose(cmd);
    cmd.v = 2;
    cmd.list.push(2);
    const r = await p;
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.some((e) => e.index === r.index)));
    for (const n of c.nodes) expect(c.applied.get(n.address)!.find((e) => e.index === r.index)!.command).toEqual({ v: 1, list: [1] });
    c.end();
  });

  it('duplicated forwarded proposals never apply twice (every message duplicated)', async () => {
    const c = cluster(['a', 'b', 'c']);
    c.net.faults = { duplicate: 1 };
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => f.propose({ i })));
    expect(new Set(rs.map((r) => r.index)).size).toBe(20);
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.length >= 20));
    await sleep(50);
    for (const n of c.nodes) expect(c.applied.get(n.address)!.map((e) => e.command)).toHaveLength(20);
    c.end();
  });

  it('retried forwarded proposals (responses lost) never apply twice', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 5000 } });
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    let dropped = 0;
    // Lose every ProposeResponse for a while: the follower retries the ProposeRequest.
    c.net.faults = {
      filter: (_from, _to, p) => {
        if ('proposeResponse' in p && dropped < 12) {
          dropped++;
          return true;
        }
        return false;
      },
    };
    const rs = await Promise.all([f.propose('r1'), f.propose('r2'), f.propose('r3')]);
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.length >= 3));
    await sleep(100);
    for (const n of c.nodes) expect(c.applied.get(n.address)!.map((e) => e.command)).toEqual(['r1', 'r2', 'r3']);
    expect(new Set(rs.map((r) => r.index)).size).toBe(3);
    c.end();
  });

  it('proposals in flight across a leader change settle (applied once, or rejected with a code)', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e'], { timing: { messageTimeout: 3000 } });
    const leader = await waitLeader(c);
    const ps = c.nodes.map((n, i) => n.propose({ i }).then((r) => ({ ok: true as const, r }), (e) => ({ ok: false as const, e })));
    c.net.isolate(leader.address);
    const more = c.nodes.filter((n) => n !== leader).map((n, i) => n.propose({ j: i }));
    await Promise.all(more);
    c.net.heal();
    const settled = await Promise.all(ps);
    for (const s of settled) if (!s.ok) expect(typeof (s.e as { code?: unknown }).code).toBe('string');
    await waitFor(() => new Set(c.nodes.map((n) => n.status().lastApplied)).size === 1 && c.nodes.every((n) => n.leaderID !== null), 5000);
    const lists = c.nodes.map((n) => JSON.stringify(c.applied.get(n.address)));
    expect(new Set(lists).size).toBe(1);
    const cmds = c.applied.get('a')!.map((e) => JSON.stringify(e.command));
    expect(new Set(cmds).size).toBe(cmds.length);
    for (const s of settled) if (s.ok) expect(cmds).toContain(JSON.stringify(c.applied.get('a')!.find((e) => e.index === s.r.index)?.command));
    c.end();
  });
});
