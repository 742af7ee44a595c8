/** readBarrier() (ReadIndex) and transferLeadership(). */
import { describe, expect, it } from 'vitest';
import { cluster, rejection, sleep, waitFor, waitLeader } from './helpers.js';

describe('readBarrier', () => {
  it('after it resolves, every entry committed before the call is applied locally (leader and followers)', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    // Slow down applies on one follower so a barrier has to wait for them.
    const slow = c.nodes.find((n) => n !== leader)!;
    slow.listen('apply', (_e, _i, cb) => void setTimeout(cb, 10));
    for (let round = 0; round < 3; round++) {
      const r = await leader.propose({ round });
      for (const n of c.nodes) {
        await n.readBarrier();
        expect(n.status().lastApplied).toBeGreaterThanOrEqual(r.index);
        expect(c.applied.get(n.address)!.some((e) => e.index === r.index)).toBe(true);
      }
    }
    c.end();
  });

  it('on a single node resolves at once', async () => {
    const c = cluster(['a']);
    await waitFor(() => c.nodes[0].isLeader);
    await c.nodes[0].propose(1);
    await c.nodes[0].readBarrier();
    expect(c.applied.get('a')!.length).toBe(1);
    c.end();
  });

  it('an isolated node rejects with a code instead of hanging', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 300 } });
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    c.net.isolate(f.address);
    const err = await rejection(f.readBarrier());
    expect(typeof err.code).toBe('string');
    c.net.heal();
    c.net.isolate(leader.address);
    const err2 = await Promise.race([rejection(leader.readBarrier()), sleep(5000).then(() => ({ code: 'HUNG' }))]);
    expect(typeof err2.code).toBe('string');
    expect(err2.code).not.toBe('HUNG');
    c.end();
  });

  it('a deposed leader that still thinks it leads cannot confirm a read (no stale reads)', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 400, heartbeatTimeout: 200, electionTimeout: 50 } });
    const leader = await waitLeader(c);
    c.net.isolate(leader.address);
    const others = c.nodes.filter((n) => n !== leader);
    const res = leader.readBarrier().then(
      () => 'resolved',
      () => 'rejected',
    );
    await waitFor(() => others.some((n) => n.isLeader), 5000);
    const newLeader = others.find((n) => n.isLeader)!;
    await newLeader.propose('new');
    expect(await res).toBe('rejected');
    c.end();
  });

  it('rejects with ENDED on end()', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 5000 } });
    const leader = await waitLeader(c);
    const f = c.nodes.find((n) => n !== leader)!;
    c.net.isolate(f.address);
    const p = f.readBarrier();
    await sleep(10);
    f.end();
    expect((await rejection(p)).code).toBe('ENDED');
    c.end();
  });
});

describe('transferLeadership', () => {
  it('to a named voter: resolves only once it is leader', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    await leader.propose(1);
    const target = c.nodes.find((n) => n !== leader)!;
    await leader.transferLeadership(target.address);
    expect(target.isLeader).toBe(true);
    await waitLeader(c);
    expect(c.leader()).toBe(target);
    await target.propose(2);
    c.end();
  });

  it('without a target: another voter becomes leader', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    await leader.transferLeadership();
    await waitFor(() => c.nodes.some((n) => n !== leader && n.isLeader), 3000);
    c.end();
  });

  it('rejects when the target is not a voter', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const err = await rejection(leader.transferLeadership('zz'));
    expect(typeof err.code).toBe('string');
    expect(leader.isLeader).toBe(true);
    c.end();
  });

  it('does not report success when the target cannot become leader', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 300 } });
    const leader = await waitLeader(c);
    const target = c.nodes.find((n) => n !== leader)!;
    c.net.isolate(target.address);
    const outcome = await Promise.race([
      leader.transferLeadership(target.address).then(
        () => 'resolved',
        (e: { code?: unknown }) => `rejected ${String(e.code)}`,
      ),
      sleep(8000).then(() => 'hung'),
    ]);
    expect(outcome).toMatch(/^rejected /);
    expect(target.isLeader).toBe(false);
    c.end();
  });

  it('from a follower, forwarded or rejected with a code (never hangs)', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    const [f1, f2] = c.nodes.filter((n) => n !== leader);
    const outcome = await Promise.race([
      f1.transferLeadership(f2.address).then(
        () => 'resolved',
        (e: { code?: unknown }) => `rejected ${String(e.code)}`,
      ),
      sleep(5000).then(() => 'hung'),
    ]);
    expect(outcome).not.toBe('hung');
    if (outcome === 'resolved') expect(f2.isLeader).toBe(true);
    c.end();
  });
});
