/** snapshotThreshold: bounded log, InstallSnapshot for followers behind the first index. */
import { describe, expect, it } from 'vitest';
import type { RaftOptions } from 'webraft';
import { MemoryStorage } from 'webraft';
import { checkStatus, monitor, TestNet, TestRaft, waitFor, type Timing } from './helpers.js';

class KV extends TestRaft {
  kv: Record<string, number> = {};
  refreshes = 0;
  constructor(address: string, net: TestNet, options: RaftOptions, timing?: Timing) {
    super(address, net, options, timing);
    this.listen('apply', (e) => {
      const { k, v } = e.command as { k: string; v: number };
      this.kv[k] = v;
    });
    this.listen('refresh', (s: { data: unknown }, cb: () => void) => {
      this.refreshes++;
      this.kv = { ...(s.data as Record<string, number>) };
      cb();
    });
  }
  override createSnapshot() {
    return { ...this.kv };
  }
}

describe('snapshots', () => {
  it('the log stays bounded with snapshotThreshold; indices stay consistent', async () => {
    const net = new TestNet();
    const peers = ['a', 'b', 'c'];
    const nodes = peers.map((id) => new KV(id, net, { peers, snapshotThreshold: 10, storage: new MemoryStorage() }));
    const mons = nodes.map(monitor);
    await waitFor(() => nodes.some((n) => n.isLeader));
    let maxLen = 0;
    for (let i = 0; i < 120; i++) {
      await nodes[i % 3].propose({ k: `k${i % 7}`, v: i });
      for (const n of nodes) {
        const s = n.status();
        maxLen = Math.max(maxLen, s.lastIndex - s.firstIndex + 1);
      }
    }
    await waitFor(() => nodes.every((n) => n.status().lastApplied === nodes[0].status().commitIndex));
    for (const n of nodes) {
      expect(n.status().snapshotIndex).toBeGreaterThan(0);
      expect(n.status().firstIndex).toBeGreaterThan(1);
      expect(checkStatus(n)).toEqual([]);
    }
    expect(maxLen).toBeLessThanOrEqual(4 * 10);
    for (const n of nodes) expect(n.kv).toEqual(nodes[0].kv);
    for (const m of mons) {
      m.stop();
      expect(m.problems).toEqual([]);
    }
    for (const n of nodes) n.end();
  });

  it('a follower behind the first index is brought up with InstallSnapshot (refresh)', async () => {
    const net = new TestNet();
    const peers = ['a', 'b', 'c'];
    const nodes = peers.map((id) => new KV(id, net, { peers, snapshotThreshold: 5, storage: new MemoryStorage() }));
    await waitFor(() => nodes.some((n) => n.isLeader));
    const leader = nodes.find((n) => n.isLeader)!;
    const lagging = nodes.find((n) => n !== leader)!;
    net.isolate(lagging.address);
    for (let i = 0; i < 40; i++) await leader.propose({ k: `k${i % 5}`, v: i });
    await waitFor(() => leader.status().firstIndex > lagging.status().lastIndex + 1, 3000, 'leader compacted past the laggard');
    net.heal();
    await waitFor(() => lagging.refreshes > 0, 5000, 'refresh on the laggard');
    await waitFor(() => lagging.status().lastApplied === leader.status().commitIndex, 5000);
    expect(lagging.kv).toEqual(leader.kv);
    const r = await lagging.propose({ k: 'z', v: 1 });
    await waitFor(() => leader.status().lastApplied >= r.index);
    expect(lagging.kv).toEqual(leader.kv);
    for (const n of nodes) n.end();
  });

  it('a node joined after compaction gets the snapshot', async () => {
    const net = new TestNet();
    const a = new KV('a', net, { snapshotThreshold: 4, storage: new MemoryStorage() });
    await waitFor(() => a.isLeader);
    for (let i = 0; i < 20; i++) await a.propose({ k: `k${i}`, v: i });
    await waitFor(() => a.status().snapshotIndex > 1);
    const b = new KV('b', net, { peers: [], snapshotThreshold: 4, storage: new MemoryStorage() });
    await a.join('b');
    await waitFor(() => b.status().lastApplied === a.status().commitIndex, 5000);
    expect(b.refreshes).toBeGreaterThan(0);
    expect(b.kv).toEqual(a.kv);
    a.end();
    b.end();
  });

  it('apply never overlaps a refresh', async () => {
    const net = new TestNet();
    const peers = ['a', 'b', 'c'];
    let overlap = false;
    class Slow extends TestRaft {
      kv: number[] = [];
      active = 0;
      override createSnapshot() {
        return [...this.kv];
      }
    }
    const nodes = peers.map((id) => {
      const n = new Slow(id, net, { peers, snapshotThreshold: 3, storage: new MemoryStorage() });
      n.listen('apply', (e, _i, cb) => {
        if (n.active++) overlap = true;
        setTimeout(() => {
          n.kv.push(e.command as number);
          n.active--;
          cb();
        }, 1);
      });
      n.listen('refresh', (s: { data: unknown }, cb: () => void) => {
        if (n.active++) overlap = true;
        setTimeout(() => {
          n.kv = [...(s.data as number[])];
          n.active--;
          cb();
        }, 3);
      });
      return n;
    });
    await waitFor(() => nodes.some((n) => n.isLeader));
    const leader = nodes.find((n) => n.isLeader)!;
    const lag = nodes.find((n) => n !== leader)!;
    net.isolate(lag.address);
    for (let i = 0; i < 20; i++) await leader.propose(i);
    net.heal();
    await waitFor(() => lag.status().lastApplied === leader.status().commitIndex, 5000);
    await waitFor(() => lag.kv.length === 20);
    expect(overlap).toBe(false);
    expect(lag.kv).toEqual(leader.kv);
    for (const n of nodes) n.end();
  });
  it('a createSnapshot that throws or rejects does not stop applying (proposals still resolve)', async () => {
    for (const mode of ['throw', 'reject'] as const) {
      const net = new TestNet();
      class Failing extends TestRaft {
        override createSnapshot() {
          if (mode === 'throw') throw new Error('cannot snapshot');
          return new Promise((_resolve, reject) => setTimeout(() => reject(new Error('cannot snapshot')), 2));
        }
      }
      const n = new Failing('a', net, { snapshotThreshold: 2 }, { messageTimeout: 1000 });
      const errors: unknown[] = [];
      n.listen('error', (e: unknown) => void errors.push(e));
      await waitFor(() => n.isLeader);
      for (let i = 0; i < 6; i++) {
        const r = await n.propose(i);
        expect(r.index).toBeGreaterThan(0);
      }
      expect(n.status().lastApplied).toBe(n.status().commitIndex);
      expect(errors.length).toBeGreaterThan(0);
      n.end();
    }
  });
});

describe('snapshots under faults and restarts', () => {
  for (const mode of ['sync', 'microtask', 'timeout'] as const) {
    it(`chunked InstallSnapshot with loss/duplication/reordering (${mode})`, async () => {
      const net = new TestNet(mode, 7);
      const peers = ['a', 'b', 'c'];
      const nodes = peers.map((id) => new KV(id, net, { peers, snapshotThreshold: 5, snapshotChunkBytes: 64, storage: new MemoryStorage() }, { messageTimeout: 5000 }));
      const mons = nodes.map(monitor);
      await waitFor(() => nodes.some((n) => n.isLeader) && nodes.every((n) => n.leaderID !== null));
      const leader = nodes.find((n) => n.isLeader)!;
      const lagging = nodes.find((n) => n !== leader)!;
      net.isolate(lagging.address);
      for (let i = 0; i < 30; i++) await leader.propose({ k: `key-${i % 6}-${'p'.repeat(20)}`, v: i });
      await waitFor(() => leader.status().firstIndex > lagging.status().lastIndex + 1);
      net.faults = mode === 'sync' ? { duplicate: 0.3, drop: 0.1 } : { drop: 0.1, duplicate: 0.3, delayMax: 5 };
      net.heal();
      await waitFor(() => lagging.refreshes > 0 && lagging.status().lastApplied >= leader.status().commitIndex, 8000, 'laggard caught up');
      expect(lagging.kv).toEqual(leader.kv);
      net.faults = {};
      const r = await lagging.propose({ k: 'z', v: 99 });
      await waitFor(() => nodes.every((n) => n.status().lastApplied >= r.index));
      for (const n of nodes) expect(n.kv).toEqual(leader.kv);
      for (const m of mons) {
        m.stop();
        expect(m.problems).toEqual([]);
      }
      for (const n of nodes) n.end();
    });
  }

  it("a follower's proposal covered by an InstallSnapshot resolves with the index it was applied at", async () => {
    const net = new TestNet();
    const peers = ['a', 'b', 'c'];
    const nodes = peers.map((id) => new KV(id, net, { peers, snapshotThreshold: 5, storage: new MemoryStorage() }, { messageTimeout: 5000 }));
    await waitFor(() => nodes.some((n) => n.isLeader) && nodes.every((n) => n.leaderID !== null));
    const leader = nodes.find((n) => n.isLeader)!;
    const f = nodes.find((n) => n !== leader)!;
    let blocking = true;
    // f can still talk to the leader, but hears no replication: it falls behind.
    net.faults = { filter: (_from, to, p) => blocking && to === f.address && ('appendEntriesRequest' in p || 'installSnapshotRequest' in p) };
    const applied = new Map<string, number>();
    leader.listen('apply', (e, index) => void applied.set(JSON.stringify(e.command), index));
    const pending = f.propose({ k: 'mine', v: 1 });
    for (let i = 0; i < 20; i++) await leader.propose({ k: `k${i}`, v: i });
    await waitFor(() => applied.has(JSON.stringify({ k: 'mine', v: 1 })) && leader.status().firstIndex > f.status().lastIndex + 1);
    blocking = false;
    const r = await pending;
    expect(r.index).toBe(applied.get(JSON.stringify({ k: 'mine', v: 1 })));
    expect(f.refreshes).toBeGreaterThan(0);
    expect(f.kv.mine).toBe(1);
    for (const n of nodes) n.end();
  });

  it('cluster members restart from their snapshots (refresh, then the log after it) and agree', async () => {
    const net = new TestNet();
    const peers = ['a', 'b', 'c'];
    const storages = new Map(peers.map((p) => [p, new MemoryStorage()]));
    const make = (id: string) => new KV(id, net, { peers, snapshotThreshold: 4, storage: storages.get(id) });
    let nodes = peers.map(make);
    await waitFor(() => nodes.some((n) => n.isLeader));
    for (let i = 0; i < 15; i++) await nodes[i % 3].propose({ k: `k${i % 4}`, v: i });
    await waitFor(() => nodes.every((n) => n.status().lastApplied === nodes[0].status().commitIndex && n.status().snapshotIndex > 0));
    const expected = { ...nodes[0].kv };
    const terms = nodes.map((n) => n.currentTerm);
    for (const n of nodes) n.end();
    nodes = peers.map(make);
    await waitFor(() => nodes.every((n) => n.refreshes > 0 && JSON.stringify(n.kv) === JSON.stringify(expected)), 5000, 'state rebuilt from snapshot + log');
    nodes.forEach((n, i) => expect(n.currentTerm).toBeGreaterThanOrEqual(terms[i]));
    await waitFor(() => nodes.some((n) => n.isLeader));
    const r = await nodes[1].propose({ k: 'after', v: 1 });
    await waitFor(() => nodes.every((n) => n.status().lastApplied >= r.index));
    for (const n of nodes) expect(n.kv).toEqual({ ...expected, after: 1 });
    for (const n of nodes) n.end();
  });
});
