/** The overridable timing getters are read each time they are needed (they may be random). */
import { describe, expect, it } from 'vitest';
import { NodeInstance, RaftInterface } from 'webraft';
import { cluster, sleep, TestNet, waitFor, waitLeader } from './helpers.js';

describe('timing getters', () => {
  it('getters returning random values work and are read repeatedly', async () => {
    const reads = { hf: 0, ht: 0, et: 0 };
    const c = cluster(['a', 'b', 'c'], {
      timing: {
        heartbeatFrequency: () => (reads.hf++, 5 + Math.random() * 10),
        heartbeatTimeout: () => (reads.ht++, 40 + Math.random() * 40),
        electionTimeout: () => (reads.et++, 40 + Math.random() * 40),
      },
    });
    let leader = await waitLeader(c);
    for (let i = 0; i < 5; i++) await c.nodes[i % 3].propose(i);
    const hf = reads.hf;
    await sleep(150);
    expect(reads.hf).toBeGreaterThan(hf + 3); // read again for every heartbeat interval
    expect(reads.ht).toBeGreaterThan(3);
    c.net.isolate(leader.address);
    await waitFor(() => c.nodes.some((n) => n !== leader && n.isLeader), 5000);
    c.net.heal();
    leader = await waitLeader(c);
    await leader.propose('after');
    await waitFor(() => c.nodes.every((n) => c.applied.get(n.address)!.length === 6));
    c.end();
  });

  it('a getter read after a change returns the new value for the next deadline', async () => {
    let timeout = 10_000;
    const c = cluster(['a', 'b', 'c'], { timing: { heartbeatTimeout: () => timeout, electionTimeout: () => 40 } });
    await sleep(120);
    expect(c.nodes.every((n) => n.state === 'follower')).toBe(true);
    timeout = 40;
    // A message from a leader (a member, as a node takes nothing from non-members) resets the election deadline,
    // which reads the getter again.
    for (const n of c.nodes) {
      const from = n.address === 'a' ? 'b' : 'a';
      n.gotData(from, { from, to: n.address, term: '1', appendEntriesRequest: { prevLogIndex: '1', prevLogTerm: '1', leaderCommit: '1' } });
    }
    await waitLeader(c, 2000);
    c.end();
  });

  it('instance messageTimeout override bounds a forwarded proposal', async () => {
    class Slow extends NodeInstance {
      override write() {
        /* a black hole */
      }
      override get messageTimeout() {
        return 150;
      }
    }
    class R extends RaftInterface {
      createInstance(address: string): NodeInstance {
        return new Slow(address, this);
      }
      override get heartbeatTimeout() {
        return 40;
      }
      override get electionTimeout() {
        return 40;
      }
    }
    const r = new R('a', { peers: ['a', 'b', 'c'] });
    await waitFor(() => r.status().lastIndex >= 1);
    // Tell it who the leader is so the instance's timeout applies.
    r.gotData('b', { from: 'b', to: 'a', term: '2', appendEntriesRequest: { prevLogIndex: '1', prevLogTerm: '1', leaderCommit: '1' } });
    await waitFor(() => r.leaderID === 'b');
    const t0 = performance.now();
    const err = await r.propose('x').then(
      () => null,
      (e) => e,
    );
    expect(err?.code).toMatch(/TIMEOUT|NO_LEADER/);
    expect(performance.now() - t0).toBeLessThan(150 + 1500);
    r.end();
    void TestNet;
  });
});
