/**
 * `messageTimeout` has one owner: the raft's getter, which every NodeInstance
 * inherits unless its subclass overrides it for its peer. Runs on a virtual
 * clock, so the times asserted are the node's own time, not the machine's.
 */
import { describe, expect, it } from 'vitest';
import { NodeInstance, type RaftOptions } from 'webraft';
import { MemoryNetwork, MemoryNodeInstance, MemoryRaft } from '../../src/testing/memory-network.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

class RaftWithTimeout extends MemoryRaft {
  constructor(
    address: string,
    network: MemoryNetwork,
    options: RaftOptions,
    private readonly raftTimeout: number | undefined,
    private readonly instanceTimeout: number | undefined,
  ) {
    super(address, network, options);
  }

  override get messageTimeout(): number {
    return this.raftTimeout ?? super.messageTimeout;
  }

  override createInstance(address: string): NodeInstance {
    const instanceTimeout = this.instanceTimeout;
    if (instanceTimeout === undefined) return new MemoryNodeInstance(address, this, this.network);
    return new (class extends MemoryNodeInstance {
      override get messageTimeout(): number {
        return instanceTimeout;
      }
    })(address, this, this.network);
  }
}

/** Drops everything on the directed links in `cut` ("from>to"). */
class OneWayNetwork extends MemoryNetwork {
  readonly oneWayCuts = new Set<string>();
  override deliver(from: string, to: string, text: string): void {
    if (!this.oneWayCuts.has(`${from}>${to}`)) super.deliver(from, to, text);
  }
}

/** Virtual ms a follower's proposal takes to reject while it cannot reach the leader. */
async function rejectionTime(raftTimeout: number | undefined, instanceTimeout: number | undefined): Promise<{ code: unknown; afterMs: number }> {
  const clock = new VirtualClock();
  const network = new OneWayNetwork('immediate');
  const peers = ['a', 'b', 'c'];
  let seed = 1;
  const nodes = peers.map(
    (id) =>
      new RaftWithTimeout(id, network, { peers, clock, random: () => ((seed = (seed * 48271) % 2147483647) / 2147483647) }, raftTimeout, instanceTimeout),
  );
  for (let i = 0; i < 40 && !nodes.some((n) => n.isLeader); i++) await clock.runFor(100);
  const leader = nodes.find((n) => n.isLeader);
  if (!leader) throw new Error('no leader elected');
  await clock.runFor(200); // every follower knows the leader
  const follower = nodes.find((n) => n !== leader && n.leaderID === leader.address)!;
  // Proposals forwarded to the leader are lost; the follower still hears heartbeats, so it keeps its leader.
  network.oneWayCuts.add(`${follower.address}>${leader.address}`);
  const started = clock.now();
  let outcome: { code: unknown; afterMs: number } | undefined;
  follower.propose('lost').then(
    () => (outcome = { code: 'resolved', afterMs: clock.now() - started }),
    (error: { code?: unknown }) => (outcome = { code: error.code, afterMs: clock.now() - started }),
  );
  for (let i = 0; i < 100 && !outcome; i++) await clock.runFor(50);
  for (const n of nodes) n.end();
  if (!outcome) throw new Error('the proposal did not settle within 5 s of virtual time');
  return outcome;
}

describe('messageTimeout', () => {
  it('a RaftInterface subclass that overrides messageTimeout sets it for requests forwarded to the leader', async () => {
    const { code, afterMs } = await rejectionTime(400, undefined);
    expect(code).toBe('TIMEOUT');
    // Pending requests are checked every <= 25 ms (plus the test's 50 ms steps).
    expect(afterMs).toBeGreaterThanOrEqual(400);
    expect(afterMs).toBeLessThanOrEqual(500);
  });

  it('a NodeInstance subclass that overrides messageTimeout wins for requests through that peer', async () => {
    const { code, afterMs } = await rejectionTime(2500, 300);
    expect(code).toBe('TIMEOUT');
    expect(afterMs).toBeGreaterThanOrEqual(300);
    expect(afterMs).toBeLessThanOrEqual(400);
  });

  it('with neither overridden the default is 3000 ms', async () => {
    const { code, afterMs } = await rejectionTime(undefined, undefined);
    expect(code).toBe('TIMEOUT');
    expect(afterMs).toBeGreaterThanOrEqual(3000);
    expect(afterMs).toBeLessThanOrEqual(3100);
  });
});
