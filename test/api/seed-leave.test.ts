import { describe, expect, it } from 'vitest';
import { NodeInstance, RaftInterface } from 'webraft';

/**
 * The seed README's transport calls `this.raft.leave(this.address)` from a
 * socket 'close' handler and ignores the promise. When that leave cannot
 * complete, the app must not crash with an unhandled rejection.
 */
class Quiet extends NodeInstance {
  override write(): void {}
}
class SeedRaft extends RaftInterface {
  createInstance(address: string): NodeInstance {
    return new Quiet(address, this);
  }
}

describe('seed pattern: leave() from a close handler, promise ignored', () => {
  it('a leave or join that fails produces no unhandled rejection, and awaiting it still sees the code', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const raft = new SeedRaft('a', { peers: [] });
      void raft.leave('b'); // as the seed does: fire and forget
      void raft.join('c');
      const awaited = raft.leave('d');
      raft.end();
      await expect(awaited).rejects.toMatchObject({ code: 'ENDED' });
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
