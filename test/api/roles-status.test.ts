/** Role events, status() shape/agreement with the getters and index invariants. */
import { describe, expect, it } from 'vitest';
import { checkStatus, cluster, monitor, STATUS_KEYS, waitFor, waitLeader } from './helpers.js';

describe('role events', () => {
  it('leader/candidate/follower/state changed fire when the state getter already shows the role', async () => {
    const c = cluster(['a', 'b', 'c']);
    const problems: string[] = [];
    const counts = { leader: 0, candidate: 0, follower: 0, 'state changed': 0 };
    for (const n of c.nodes) {
      for (const role of ['leader', 'candidate', 'follower'] as const) {
        n.listen(role, (...args: unknown[]) => {
          counts[role]++;
          if (args.length !== 0) problems.push(`${role} event had arguments ${JSON.stringify(args)}`);
          if (n.state !== role) problems.push(`${n.address}: '${role}' event but state getter ${n.state}`);
          if (n.status().state !== role) problems.push(`${n.address}: '${role}' event but status().state ${n.status().state}`);
          if (n.isLeader !== (role === 'leader')) problems.push(`${n.address}: '${role}' event but isLeader ${n.isLeader}`);
          if (role === 'leader' && n.leaderID !== n.address) problems.push(`${n.address}: 'leader' event but leaderID ${n.leaderID}`);
          if (role === 'candidate' && n.leaderID !== null) problems.push(`${n.address}: 'candidate' event but leaderID ${n.leaderID}`);
          problems.push(...checkStatus(n));
        });
      }
      n.listen('state changed', (state: string) => {
        counts['state changed']++;
        if (state !== n.state) problems.push(`${n.address}: 'state changed' carried ${state} but getter ${n.state}`);
        if (!['leader', 'candidate', 'follower'].includes(state)) problems.push(`bad state string ${state}`);
      });
    }
    let leader = await waitLeader(c);
    c.net.isolate(leader.address);
    await waitFor(() => c.nodes.some((n) => n !== leader && n.isLeader), 5000);
    await waitFor(() => !leader.isLeader, 5000, 'old leader steps down (CheckQuorum)');
    c.net.heal();
    leader = await waitLeader(c);
    await leader.propose('x');
    expect(problems).toEqual([]);
    expect(counts.leader).toBeGreaterThanOrEqual(2);
    expect(counts.candidate).toBeGreaterThanOrEqual(2);
    expect(counts.follower).toBeGreaterThanOrEqual(1);
    expect(counts['state changed']).toBe(counts.leader + counts.candidate + counts.follower);
    c.end();
  });

  it("'heartbeat timeout' then 'start election' fire before a follower campaigns", async () => {
    const c = cluster(['a'], {});
    const n = c.nodes[0];
    const seq: string[] = [];
    for (const e of ['heartbeat timeout', 'start election', 'candidate', 'leader']) n.listen(e, () => void seq.push(e));
    await waitFor(() => n.isLeader);
    expect(seq[0]).toBe('heartbeat timeout');
    expect(seq).toContain('start election');
    expect(seq.indexOf('start election')).toBeLessThan(seq.indexOf('leader'));
    c.end();
  });
});

describe('status()', () => {
  it('has the contract shape; learners is []; voters are the members', async () => {
    const c = cluster(['a', 'b', 'c']);
    const before = c.nodes[0].status();
    for (const k of STATUS_KEYS) expect(before).toHaveProperty(k);
    await waitLeader(c);
    await c.nodes[0].propose(1);
    for (const n of c.nodes) {
      const s = n.status();
      expect(s.address).toBe(n.address);
      expect(s.learners).toEqual([]);
      expect([...s.voters].sort()).toEqual(['a', 'b', 'c']);
      expect(typeof s.term).toBe('number');
      for (const k of ['commitIndex', 'lastApplied', 'firstIndex', 'lastIndex', 'snapshotIndex'] as const) expect(Number.isInteger(s[k])).toBe(true);
      expect(s.leader).toBe(c.leader()!.address);
      expect(checkStatus(n, s)).toEqual([]);
      // a plain object that survives JSON
      expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
      // it is a snapshot: mutating it does not affect the node
      s.voters.push('zz');
      expect(n.status().voters).not.toContain('zz');
    }
    c.end();
  });

  it('invariants hold and term/commitIndex/lastApplied/snapshotIndex never go back (sampled on every event and timer)', async () => {
    const c = cluster(['a', 'b', 'c'], { seed: 3 });
    const monitors = c.nodes.map(monitor);
    c.net.faults = { drop: 0.05, duplicate: 0.1, delayMax: 5 };
    let leader = await waitLeader(c);
    for (let round = 0; round < 3; round++) {
      await Promise.all([0, 1, 2].map((i) => c.nodes[i].propose({ round, i })));
      c.net.isolate(leader.address);
      await waitFor(() => c.nodes.some((n) => n !== leader && n.isLeader), 5000);
      c.net.heal();
      leader = await waitLeader(c);
    }
    await leader.propose('end');
    for (const m of monitors) {
      m.stop();
      expect(m.samples).toBeGreaterThan(50);
      expect(m.problems).toEqual([]);
    }
    c.end();
  });

  it('a node that has not started yet reports a consistent status', () => {
    const c = cluster(['a', 'b', 'c']);
    for (const n of c.nodes) expect(checkStatus(n)).toEqual([]);
    c.end();
  });
});

describe('event API', () => {
  it('listen returns an unlisten function; unlisten; listenOnce fires once; emit for custom events', async () => {
    const c = cluster(['a']);
    const n = c.nodes[0];
    const got: unknown[][] = [];
    const un = n.listen('custom', (...args: unknown[]) => void got.push(args));
    expect(typeof un).toBe('function');
    n.emit('custom', 1, 'two', { three: 3 });
    expect(got).toEqual([[1, 'two', { three: 3 }]]);
    un();
    n.emit('custom', 2);
    expect(got.length).toBe(1);

    const h = (x: unknown) => void got.push(['h', x]);
    n.listen('other', h);
    n.emit('other', 1);
    n.unlisten('other', h);
    n.emit('other', 2);
    expect(got).toEqual([[1, 'two', { three: 3 }], ['h', 1]]);

    let once = 0;
    n.listenOnce('o', () => once++);
    n.emit('o');
    n.emit('o');
    expect(once).toBe(1);

    let once2 = 0;
    const un2 = n.listenOnce('o2', () => once2++);
    un2();
    n.emit('o2');
    expect(once2).toBe(0);

    // listenOnce on a built-in event
    let leaderEvents = 0;
    n.listenOnce('leader', () => leaderEvents++);
    await waitFor(() => n.isLeader);
    expect(leaderEvents).toBe(1);

    // a listener that throws does not stop the others
    let reached = false;
    n.listen('error', () => {});
    n.listen('t', () => {
      throw new Error('x');
    });
    n.listen('t', () => (reached = true));
    expect(() => n.emit('t')).not.toThrow();
    expect(reached).toBe(true);
    c.end();
  });

  it('unlisten of an apply listener stops it', async () => {
    const c = cluster(['a']);
    const n = c.nodes[0];
    await waitFor(() => n.isLeader);
    const seen: unknown[] = [];
    const un = n.listen('apply', (e) => void seen.push(e.command));
    await n.propose(1);
    un();
    await n.propose(2);
    expect(seen).toEqual([1]);
    c.end();
  });
});
