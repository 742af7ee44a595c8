/** join()/leave() through the log, join/leave events, removed nodes do not disrupt. */
import { describe, expect, it } from 'vitest';
import { cluster, sleep, waitFor, waitLeader } from './helpers.js';

describe('membership', () => {
  it('join() adds a voter (forwarded from a follower), is idempotent, emits join everywhere', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    await leader.propose('old');
    const joins = new Map<string, string[]>();
    for (const n of c.nodes) {
      const l: string[] = [];
      joins.set(n.address, l);
      n.listen('join', (addr: string) => void l.push(addr));
    }
    const d = c.start('d', { peers: [] });
    const follower = c.nodes.find((n) => n !== leader && n.address !== 'd')!;
    await follower.join('d');
    for (const n of c.nodes) await waitFor(() => n.status().voters.includes('d'), 3000, `${n.address} sees d`);
    for (const [addr, l] of joins) if (addr !== 'd') expect(l).toContain('d');
    await follower.join('d'); // idempotent
    await leader.join('d');
    expect(c.nodes[0].status().voters.filter((v) => v === 'd').length).toBe(1);
    await waitFor(() => c.applied.get('d')!.some((e) => e.command === 'old'));
    await d.propose('from d');
    expect(d.status().learners).toEqual([]);
    c.end();
  });

  it('a node that lost its storage rejoins under its address after leave(): join() again with peers []', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    await leader.propose('before d');
    c.start('d', { peers: [] });
    await leader.join('d');
    await waitFor(() => c.nodes.every((n) => n.status().voters.includes('d')), 3000, 'd a voter everywhere');
    // d leaves, its storage is lost, and it comes back empty under the same address.
    await leader.leave('d');
    c.byId('d').end();
    c.storages.delete('d');
    await leader.propose('while d was away');
    const fresh = c.start('d', { peers: [] });
    expect(fresh.status().lastIndex).toBe(0);
    await leader.join('d');
    await waitFor(() => c.applied.get('d')!.some((e) => e.command === 'while d was away'), 3000, 'd caught up');
    expect(c.applied.get('d')!.map((e) => e.command)).toEqual(c.applied.get(leader.address)!.map((e) => e.command));
    expect(fresh.status().voters).toContain('d');
    const r = await fresh.propose('from the new d');
    for (const n of c.nodes) await waitFor(() => n.status().lastApplied >= r.index, 3000, `${n.address} applies it`);
    c.end();
  });

  it('leave() removes a member through the log; idempotent; leave events; instance ended', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    const leader = await waitLeader(c);
    const victim = c.nodes.find((n) => n !== leader)!;
    const leaves: string[] = [];
    leader.listen('leave', (a: string) => void leaves.push(a));
    await leader.leave(victim.address);
    expect(leader.status().voters).not.toContain(victim.address);
    expect(leaves).toEqual([victim.address]);
    await leader.leave(victim.address);
    await leader.leave('never-was-a-member');
    const inst = leader.created.find((i) => i.address === victim.address);
    expect(inst?.ended).toBe(true);
    await leader.propose('after leave');
    c.end();
  });

  it('a leader that removes itself steps down after the change commits', async () => {
    const c = cluster(['a', 'b', 'c']);
    const leader = await waitLeader(c);
    await leader.leave(leader.address);
    await waitFor(() => !leader.isLeader, 3000, 'old leader stepped down');
    await waitFor(() => c.nodes.some((n) => n !== leader && n.isLeader), 5000, 'a new leader among the remaining');
    const newLeader = c.nodes.find((n) => n !== leader && n.isLeader)!;
    expect(newLeader.status().voters.sort()).toEqual(c.nodes.filter((n) => n !== leader).map((n) => n.address).sort());
    await newLeader.propose('x');
    c.end();
  });

  // Generous timing here: these tests assert that nothing happens, and a loaded
  // machine must not produce a spurious election that looks like a disruption.
  const CALM = { heartbeatFrequency: 15, heartbeatTimeout: 200, electionTimeout: 200 };

  it('a removed node that keeps running does not disrupt the remaining members', async () => {
    const c = cluster(['a', 'b', 'c', 'd'], { timing: CALM });
    const leader = await waitLeader(c);
    const removed = c.nodes.find((n) => n !== leader)!;
    await leader.leave(removed.address);
    const rest = c.nodes.filter((n) => n !== removed);
    await waitFor(() => rest.every((n) => !n.status().voters.includes(removed.address)));
    const terms = rest.map((n) => n.currentTerm);
    let changes = 0;
    for (const n of rest) n.listen('state changed', () => changes++);
    // the removed node keeps running (and will time out, campaign, ...)
    await sleep(1000);
    expect(removed.ended).toBe(false);
    expect(changes, `removed node at term ${removed.currentTerm}, others at ${rest.map((n) => n.currentTerm)}`).toBe(0);
    expect(rest.map((n) => n.currentTerm)).toEqual(terms);
    expect(rest.every((n) => n.leaderID === leader.address)).toBe(true);
    await leader.propose('still fine');
    c.end();
  });

  it('a node removed while partitioned, then healed, does not disrupt the remaining members', async () => {
    const c = cluster(['a', 'b', 'c', 'd'], { timing: CALM });
    const leader = await waitLeader(c);
    const removed = c.nodes.find((n) => n !== leader)!;
    c.net.isolate(removed.address);
    await leader.leave(removed.address);
    const rest = c.nodes.filter((n) => n !== removed);
    await waitFor(() => rest.every((n) => !n.status().voters.includes(removed.address)));
    await sleep(600); // the removed node times out and campaigns in its corner
    expect(removed.status().voters).toContain(removed.address); // it never learnt of its removal
    const terms = rest.map((n) => n.currentTerm);
    let changes = 0;
    for (const n of rest) n.listen('state changed', () => changes++);
    c.net.heal();
    await sleep(1000);
    expect(changes, `removed node at term ${removed.currentTerm}, others at ${rest.map((n) => n.currentTerm)}`).toBe(0);
    expect(rest.map((n) => n.currentTerm)).toEqual(terms);
    await leader.propose('undisturbed');
    c.end();
  });

  it('join() of a node that is down does not hang forever (settles with a code or succeeds once it is up)', async () => {
    const c = cluster(['a', 'b', 'c'], { timing: { messageTimeout: 200 } });
    const leader = await waitLeader(c);
    const p = leader.join('ghost').then(
      () => 'ok',
      (e: { code?: unknown }) => e.code,
    );
    const outcome = await Promise.race([p, sleep(8000).then(() => 'hung')]);
    expect(outcome).not.toBe('hung');
    // never caught up, so never a voter: the quorum of the others is untouched
    expect(leader.status().voters).not.toContain('ghost');
    await (await waitLeader(c)).propose('still commits');
    c.end();
  });
});
