/**
 * A save that fails stops the node (fail-stop, as etcd panics on a failed
 * write): nothing that depends on the unsaved state leaves it, it reports the
 * storage's error and ends. The rest of the cluster goes on, and the node
 * restarted on its storage (which kept only completed saves) catches up.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, type StorageUpdate } from 'webraft';
import { TestNet, TestRaft, waitFor } from './helpers.js';

class FailingStorage extends MemoryStorage {
  saves = 0;
  failAt = Number.POSITIVE_INFINITY;
  override async save(update: StorageUpdate): Promise<void> {
    if (++this.saves === this.failAt) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    return super.save(update);
  }
}

describe('a failed save', () => {
  it('ends the node with an error event; the cluster goes on; a restart on the same storage catches up', async () => {
    const net = new TestNet();
    const peers = ['a', 'b', 'c'];
    const storages = new Map(peers.map((id) => [id, new FailingStorage()]));
    const nodes = peers.map((id) => new TestRaft(id, net, { peers, storage: storages.get(id) }));
    await waitFor(() => nodes.some((n) => n.isLeader), 5000, 'a leader');
    const failing = nodes.find((n) => !n.isLeader) as TestRaft;
    const storage = storages.get(failing.address) as FailingStorage;
    const errors: unknown[] = [];
    failing.listen('error', (error: unknown) => void errors.push(error));
    storage.failAt = storage.saves + 1;
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => nodes[i % 3].propose(i)));
    expect(failing.ended).toBe(true);
    expect(errors).toEqual([expect.objectContaining({ code: 'ENOSPC' })]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failed.map((r) => (r.reason as { code?: string }).code).every((code) => code === 'ENDED')).toBe(true);
    const others = nodes.filter((n) => n !== failing);
    const { index } = await others[0].propose('after the failure');
    await waitFor(() => others.every((n) => n.status().lastApplied >= index), 5000, 'the others applied');
    storage.failAt = Number.POSITIVE_INFINITY;
    const restarted = new TestRaft(failing.address, net, { peers, storage });
    await waitFor(() => restarted.status().lastApplied >= index, 5000, 'the restarted node caught up');
    for (const n of [...others, restarted]) n.end();
  });
});
