/** end() then a new node on the same storage is the same node restarted. */
import { describe, expect, it } from 'vitest';
import { MemoryStorage } from 'webraft';
import { cluster, sleep, TestNet, TestRaft, waitFor, waitLeader } from './helpers.js';

describe('restart on the same storage', () => {
  it('single node: replays apply events from the start, keeps term and log, leads again', async () => {
    const net = new TestNet();
    const storage = new MemoryStorage();
    const a = new TestRaft('a', net, { storage });
    const first: { index: number; command: unknown }[] = [];
    a.listen('apply', (e, index) => void first.push({ index, command: e.command }));
    await waitFor(() => a.isLeader);
    for (let i = 0; i < 4; i++) await a.propose({ i });
    const before = a.status();
    a.end();
    expect(a.ended).toBe(true);

    const t0 = performance.now();
    const again = new TestRaft('a', net, { storage }, { heartbeatTimeout: 60 });
    const second: { index: number; command: unknown }[] = [];
    let campaignedAt = 0;
    again.listen('start election', () => (campaignedAt ||= performance.now()));
    again.listen('apply', (e, index) => void second.push({ index, command: e.command }));
    await waitFor(() => second.length === first.length, 3000, 'replay');
    expect(second).toEqual(first);
    expect(again.currentTerm).toBeGreaterThanOrEqual(before.term);
    expect(again.status().lastIndex).toBeGreaterThanOrEqual(before.lastIndex);
    await waitFor(() => again.isLeader);
    expect(campaignedAt - t0).toBeGreaterThanOrEqual(60);
    const r = await again.propose('after');
    expect(r.index).toBeGreaterThan(before.lastIndex);
    expect(second.map((e) => e.command)).toEqual([...first.map((e) => e.command), 'after']);
    again.end();
  });

  it('a cluster member restarts, replays, keeps its term and rejoins', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    for (let i = 0; i < 5; i++) await c.nodes[i % 3].propose(i);
    const victim = c.nodes.find((n) => n !== leader)!;
    await waitFor(() => c.applied.get(victim.address)!.length === 5);
    const before = victim.status();
    const firstRun = [...c.applied.get(victim.address)!];
    victim.end();
    await leader.propose('while down');
    const back = c.start(victim.address);
    await waitFor(() => c.applied.get(back.address)!.length >= 6, 5000, 'replay and catch up');
    const list = c.applied.get(back.address)!;
    expect(list.slice(0, 5)).toEqual(firstRun);
    expect(list[5].command).toBe('while down');
    expect(back.currentTerm).toBeGreaterThanOrEqual(before.term);
    await back.propose('from restarted');
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.some((e) => e.command === 'from restarted')));
    c.end();
  });

  it('restart with a snapshot: refresh (after the constructor returns) then apply of the log after it', async () => {
    const net = new TestNet();
    const storage = new MemoryStorage();
    class Counter extends TestRaft {
      items: number[] = [];
      override createSnapshot() {
        return { items: [...this.items] };
      }
    }
    const a = new Counter('a', net, { storage, snapshotThreshold: 3 });
    a.listen('apply', (e) => void a.items.push(e.command as number));
    await waitFor(() => a.isLeader);
    for (let i = 1; i <= 8; i++) await a.propose(i);
    await waitFor(() => a.status().snapshotIndex > 0, 3000, 'a snapshot was taken');
    await sleep(20);
    const snapIndex = a.status().snapshotIndex;
    a.end();

    const b = new Counter('a', net, { storage, snapshotThreshold: 3 });
    // listeners attach after the constructor returned: they still see the refresh
    const events: string[] = [];
    b.listen('refresh', (snapshot: { index: number; term: number; data: unknown }, cb: () => void) => {
      events.push(`refresh ${snapshot.index}`);
      expect(snapshot.index).toBeGreaterThan(0);
      expect(snapshot.term).toBeGreaterThan(0);
      b.items = [...(snapshot.data as { items: number[] }).items];
      cb();
    });
    b.listen('apply', (e, index) => {
      events.push(`apply ${index}`);
      b.items.push(e.command as number);
    });
    await waitFor(() => b.items.length === 8, 3000, 'state rebuilt');
    expect(b.items).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events[0]).toMatch(/^refresh /);
    expect(Number(events[0].split(' ')[1])).toBeGreaterThanOrEqual(snapIndex);
    for (const e of events.slice(1)) expect(e).toMatch(/^apply /);
    b.end();
  });

  it('term and vote survive restart of every node of a cluster', async () => {
    const c = cluster(['a', 'b', 'c']);
    await waitLeader(c);
    await c.nodes[0].propose('p');
    const terms = new Map(c.nodes.map((n) => [n.address, n.currentTerm]));
    c.end();
    for (const id of ['a', 'b', 'c']) c.start(id);
    for (const n of c.nodes) await waitFor(() => n.currentTerm >= terms.get(n.address)!);
    await waitLeader(c);
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.some((e) => e.command === 'p')));
    c.end();
  });
});
