/** Construction, `peers`, the first election and the heartbeatTimeout floor. */
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from 'webraft';
import { MemoryNetwork, MemoryRaft } from '../../src/testing/memory-network.js';
import { cluster, sleep, TestNet, TestRaft, waitFor, waitLeader } from './helpers.js';

describe('bootstrap', () => {
  it('default peers: a cluster of one that elects itself after heartbeatTimeout, never before', async () => {
    const net = new TestNet();
    const t0 = performance.now();
    const node = new TestRaft('solo', net, {}, { heartbeatTimeout: 80 });
    let electedAt = 0;
    let campaignAt = 0;
    node.listen('start election', () => {
      if (!campaignAt) campaignAt = performance.now();
    });
    node.listen('leader', () => {
      electedAt = performance.now();
      expect(node.state).toBe('leader');
    });
    expect(node.state).toBe('follower');
    expect(node.isLeader).toBe(false);
    await waitFor(() => node.isLeader, 3000, 'self-election');
    expect(campaignAt - t0).toBeGreaterThanOrEqual(80);
    expect(electedAt - t0).toBeGreaterThanOrEqual(80);
    expect(node.leaderID).toBe('solo');
    expect(node.status().voters).toEqual(['solo']);
    expect(node.currentTerm).toBeGreaterThanOrEqual(1);
    const r = await node.propose({ v: 1 });
    expect(r.index).toBeGreaterThan(0);
    node.end();
  });

  it('MemoryRaft with default peers and default timing elects itself', async () => {
    const net = new MemoryNetwork('immediate');
    const t0 = performance.now();
    const node = new MemoryRaft('m', net);
    await waitFor(() => node.isLeader, 3000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(node.heartbeatTimeout);
    node.end();
  });

  it('no node of a new cluster campaigns before heartbeatTimeout', async () => {
    const t0 = performance.now();
    const c = cluster(['a', 'b', 'c'], { timing: { heartbeatTimeout: 100 } });
    const firsts: number[] = [];
    for (const n of c.nodes) n.listen('start election', () => firsts.push(performance.now()));
    for (const n of c.nodes) n.listen('candidate', () => firsts.push(performance.now()));
    await waitLeader(c);
    expect(Math.min(...firsts) - t0).toBeGreaterThanOrEqual(100);
    c.end();
  });

  it('a follower never campaigns before heartbeatTimeout since it last heard from the leader', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e'], { timing: { heartbeatTimeout: 80, heartbeatFrequency: 10 } });
    const lastHeard = new Map<string, number>();
    const violations: string[] = [];
    c.net.onArrive = (_from, to, p) => {
      if ('appendEntriesRequest' in p || 'installSnapshotRequest' in p) lastHeard.set(to, performance.now());
    };
    for (const n of c.nodes) {
      for (const e of ['heartbeat timeout', 'start election', 'candidate']) {
        n.listen(e, () => {
          const heard = lastHeard.get(n.address);
          if (heard !== undefined && performance.now() - heard < 80) violations.push(`${n.address} ${e} ${(performance.now() - heard).toFixed(1)} ms after hearing from a leader`);
        });
      }
    }
    for (let round = 0; round < 3; round++) {
      const leader = await waitLeader(c);
      await leader.propose(round);
      c.net.isolate(leader.address);
      await waitFor(() => c.nodes.some((n) => n !== leader && n.isLeader), 5000);
      c.net.heal();
    }
    expect(violations).toEqual([]);
    c.end();
  });

  it('peers with or without the own address mean the same cluster', async () => {
    const net = new TestNet();
    const a = new TestRaft('a', net, { peers: ['b', 'c'] });
    const b = new TestRaft('b', net, { peers: ['a', 'b', 'c'] });
    const cc = new TestRaft('c', net, { peers: ['a', 'b'] });
    const nodes = [a, b, cc];
    await waitFor(() => nodes.some((n) => n.isLeader) && nodes.every((n) => n.leaderID !== null));
    for (const n of nodes) expect([...n.status().voters].sort()).toEqual(['a', 'b', 'c']);
    const res = await a.propose('x');
    await waitFor(() => nodes.every((n) => n.status().lastApplied >= res.index));
    // All agree on the log: same lastIndex eventually.
    await waitFor(() => new Set(nodes.map((n) => n.status().commitIndex)).size === 1);
    for (const n of nodes) n.end();
  });

  it('peers: [] never campaigns, then becomes a member when a cluster join()s it', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    await leader.propose('before');
    const d = new TestRaft('d', c.net, { peers: [], storage: new MemoryStorage() });
    const dApplied: unknown[] = [];
    d.listen('apply', (e) => {
      dApplied.push(e.command);
    });
    let campaigned = false;
    d.listen('candidate', () => (campaigned = true));
    d.listen('start election', () => (campaigned = true));
    d.listen('heartbeat timeout', () => (campaigned = true));
    await sleep(400); // 8 heartbeatTimeouts
    expect(campaigned).toBe(false);
    expect(d.state).toBe('follower');
    expect(d.status().voters).toEqual([]);
    expect(d.isLeader).toBe(false);
    await c.leader()!.join('d');
    await waitFor(() => d.status().voters.includes('d'), 5000, 'd sees itself as voter');
    for (const n of c.nodes) expect(n.status().voters).toContain('d');
    await waitFor(() => dApplied.includes('before'));
    const r = await d.propose('from d');
    expect(r.index).toBeGreaterThan(0);
    expect(dApplied).toEqual(['before', 'from d']);
    d.end();
    c.end();
  });

  it('peers is ignored when the storage already holds state', async () => {
    const net = new TestNet();
    const storage = new MemoryStorage();
    const a = new TestRaft('a', net, { storage });
    await waitFor(() => a.isLeader);
    await a.propose(1);
    a.end();
    const again = new TestRaft('a', net, { storage, peers: ['a', 'b', 'c'] });
    await waitFor(() => again.isLeader, 3000, 'restarted single node leads again');
    expect(again.status().voters).toEqual(['a']);
    again.end();
  });
});
