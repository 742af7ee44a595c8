import { describe, expect, it } from 'vitest';
import { MemoryNetwork, MemoryRaft } from '../../src/testing/memory-network.js';

class FastRaft extends MemoryRaft {
  override get heartbeatFrequency(): number {
    return 10;
  }
  // A long timeout makes the lease (heartbeatTimeout / 1.25 = 480 ms) robust on a loaded machine.
  override get heartbeatTimeout(): number {
    return 600;
  }
  override get electionTimeout(): number {
    return 600;
  }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function cluster(leaseReads: boolean): Promise<{ network: MemoryNetwork; nodes: FastRaft[]; leader: FastRaft }> {
  const network = new MemoryNetwork('immediate');
  const peers = ['a', 'b', 'c'];
  const nodes = peers.map((id) => new FastRaft(id, network, { peers, leaseReads }));
  await until(() => nodes.some((n) => n.isLeader));
  const leader = nodes.find((n) => n.isLeader) as FastRaft;
  await leader.propose('warm-up');
  await new Promise((r) => setTimeout(r, 30)); // a few heartbeat rounds: the lease is established
  return { network, nodes, leader };
}

describe('lease-based reads (dissertation §6.4.1)', () => {
  it('with leaseReads a leader answers readBarrier from its lease, with no round trip (it succeeds even with every link cut)', async () => {
    const { network, nodes, leader } = await cluster(true);
    network.isolate(leader.address);
    await expect(leader.readBarrier()).resolves.toBeUndefined();
    for (const n of nodes) n.end();
  });

  it('without leaseReads the same read needs a quorum round, so with every link cut it cannot succeed', async () => {
    const { network, nodes, leader } = await cluster(false);
    network.isolate(leader.address);
    await expect(leader.readBarrier()).rejects.toMatchObject({ code: expect.any(String) });
    for (const n of nodes) n.end();
  });

  it('an isolated leader stops answering from its lease: the read fails instead of returning stale data', async () => {
    const { network, nodes, leader } = await cluster(true);
    network.isolate(leader.address);
    await new Promise((r) => setTimeout(r, 800)); // longer than the lease (heartbeatTimeout / 1.25)
    await expect(leader.readBarrier()).rejects.toMatchObject({ code: expect.stringMatching(/TIMEOUT|NO_LEADER|LEADERSHIP_LOST|NOT_LEADER/) });
    for (const n of nodes) n.end();
  });
});
