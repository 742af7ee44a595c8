/**
 * Delivery may be lost, duplicated, reordered, delayed or synchronous: a
 * workload of proposals applies identically on all nodes, exactly once.
 */
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, MemoryRaft } from '../../src/testing/memory-network.js';
import { cluster, monitor, waitFor, waitLeader, type Faults, type Mode } from './helpers.js';

async function workload(mode: Mode, faults: Faults, seed: number, count = 30) {
  const c = cluster(['a', 'b', 'c'], { mode, seed, timing: { messageTimeout: 8000 } });
  const monitors = c.nodes.map(monitor);
  c.net.faults = faults;
  await waitLeader(c, 8000);
  const proposals: Promise<{ index: number; term: number }>[] = [];
  for (let i = 0; i < count; i++) proposals.push(c.nodes[i % 3].propose({ id: i }));
  const results = await Promise.all(proposals);
  // every result index is distinct
  expect(new Set(results.map((r) => r.index)).size).toBe(count);
  await waitFor(() => [...c.applied.values()].every((l) => l.length >= count), 10_000, 'all nodes applied the workload');
  await new Promise((r) => setTimeout(r, 50));
  const lists = [...c.applied.values()];
  for (const list of lists) {
    expect(list.length).toBe(count);
    const ids = list.map((e) => (e.command as { id: number }).id);
    expect(new Set(ids).size).toBe(count);
    for (let i = 1; i < list.length; i++) expect(list[i].index).toBeGreaterThan(list[i - 1].index);
  }
  expect(new Set(lists.map((l) => JSON.stringify(l))).size).toBe(1);
  // each proposal resolved with the index it was applied at
  const applied = lists[0];
  for (let i = 0; i < count; i++) expect(applied.find((e) => e.index === results[i].index)?.command).toEqual({ id: i });
  for (const m of monitors) {
    m.stop();
    expect(m.problems).toEqual([]);
  }
  c.end();
}

describe('delivery faults', () => {
  it('lost messages (15%)', () => workload('timeout', { drop: 0.15 }, 11));
  it('duplicated messages (every one twice)', () => workload('timeout', { duplicate: 1 }, 12));
  it('reordered and delayed messages (0-15 ms random delay)', () => workload('timeout', { delayMax: 15 }, 13));
  it('all at once: loss, duplication, reordering', () => workload('timeout', { drop: 0.1, duplicate: 0.3, delayMax: 10 }, 14));
  it('synchronous re-entrant delivery (write calls gotData in the same stack)', () => workload('sync', {}, 15));
  it('synchronous delivery with duplication', () => workload('sync', { duplicate: 0.5 }, 16));
  it('microtask delivery', () => workload('microtask', {}, 17));

  it('MemoryNetwork sync delivery with partitions and heal', async () => {
    const net = new MemoryNetwork('sync');
    const peers = ['a', 'b', 'c'];
    class Fast extends MemoryRaft {
      override get heartbeatFrequency() {
        return 10;
      }
      override get heartbeatTimeout() {
        return 50;
      }
      override get electionTimeout() {
        return 50;
      }
    }
    const applied = new Map<string, unknown[]>();
    const nodes = peers.map((id) => {
      const n = new Fast(id, net, { peers });
      const l: unknown[] = [];
      applied.set(id, l);
      n.listen('apply', (e) => void l.push(e.command));
      return n;
    });
    await waitFor(() => nodes.some((n) => n.isLeader));
    const leader = nodes.find((n) => n.isLeader)!;
    await leader.propose(1);
    net.isolate(leader.address);
    await waitFor(() => nodes.some((n) => n !== leader && n.isLeader), 5000, 'new leader');
    const other = nodes.find((n) => n !== leader && n.isLeader)!;
    await other.propose(2);
    net.heal();
    await leader.propose(3);
    await waitFor(() => [...applied.values()].every((l) => l.length === 3));
    for (const l of applied.values()) expect(l).toEqual([1, 2, 3]);
    for (const n of nodes) n.end();
  });
});
