import { describe, expect, it } from 'vitest';
import { MemoryNetwork, MemoryRaft } from '../../src/testing/memory-network.js';

function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error('condition not reached in time'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

describe('smoke', () => {
  for (const delivery of ['sync', 'microtask', 'immediate'] as const) {
    it(`3 nodes elect a leader and replicate (${delivery} delivery)`, async () => {
      const network = new MemoryNetwork(delivery);
      const peers = ['a', 'b', 'c'];
      const applied = new Map<string, unknown[]>();
      const nodes = peers.map((id) => {
        const node = new MemoryRaft(id, network, { peers });
        applied.set(id, []);
        node.listen('apply', (entry) => {
          applied.get(id)?.push(entry.command);
        });
        return node;
      });
      await waitFor(() => nodes.some((n) => n.isLeader));
      const follower = nodes.find((n) => !n.isLeader);
      if (!follower) throw new Error('no follower');
      const results = await Promise.all([nodes[0].propose({ x: 1 }), follower.propose('two'), nodes[2].propose([3])]);
      expect(results.every((r) => r.index > 0)).toBe(true);
      await waitFor(() => [...applied.values()].every((list) => list.length === 3));
      const orders = [...applied.values()].map((list) => JSON.stringify(list));
      expect(new Set(orders).size).toBe(1);
      for (const node of nodes) node.end();
    });
  }
});
