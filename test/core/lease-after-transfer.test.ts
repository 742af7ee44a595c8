/**
 * Lease reads (dissertation §6.4.1) and leadership transfer (§3.10): a
 * TimeoutNow makes its target campaign at once, and voters grant transfer
 * votes without waiting out their leader's lease. A leader that has sent a
 * TimeoutNow therefore holds no lease for the rest of that term, even once
 * the transfer has timed out and a quorum acknowledged it again: the
 * TimeoutNow may still be in flight.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { Message } from '../../src/core/types.js';
import { deliverUntilQuiet, drain, startedCore } from './helpers.js';

describe('no lease reads after a TimeoutNow (§6.4.1, §3.10)', () => {
  it('a transfer times out, a quorum acknowledges the leader again, then the late TimeoutNow elects the target: the old leader must not answer a read from its lease', () => {
    const peers = ['a', 'b', 'c'];
    const cores = new Map<string, RaftCore>(peers.map((id) => [id, startedCore(id, peers, { leaseReads: true, checkQuorum: true, preVote: true })]));
    const a = cores.get('a')!;
    const b = cores.get('b')!;
    const c = cores.get('c')!;
    // a leads term 2 and commits its no-op at index 2.
    a.tick(600);
    deliverUntilQuiet(cores, 600);
    expect({ leader: a.isLeader, term: a.term, commit: a.commitIndex }).toEqual({ leader: true, term: 2, commit: 2 });

    // transferLeadership(b): b is caught up, so the TimeoutNow goes out at once and is delayed.
    a.transferLeadership('b', 500);
    let timeoutNow: Message | undefined;
    deliverUntilQuiet(cores, 600, (m) => {
      if (m.body.type !== 'TimeoutNowRequest') return true;
      timeoutNow = m;
      return false;
    });
    expect(timeoutNow).toBeDefined();

    // The transfer times out; a's next heartbeat round is acknowledged by b and c: a holds a lease again.
    a.tick(1200);
    const aborted = drain(a);
    expect(aborted.messages.length).toBeGreaterThan(0);
    for (const m of aborted.messages) cores.get(m.to)?.step(m, 1200);
    deliverUntilQuiet(cores, 1200);
    expect(a.isLeader).toBe(true);

    // The late TimeoutNow reaches b, which wins term 3 with c's transfer vote and commits a write at 4.
    // Nothing reaches a any more.
    const toOthers = (m: Message) => m.to !== 'a';
    b.step(timeoutNow!, 1210);
    deliverUntilQuiet(cores, 1210, toOthers);
    expect({ leader: b.isLeader, term: b.term }).toEqual({ leader: true, term: 3 });
    b.propose('written after the transfer', 1000);
    deliverUntilQuiet(cores, 1210, toOthers);
    expect(b.commitIndex).toBe(4);
    expect(c.commitIndex).toBe(4);

    // a, hearing nothing, is still leader of term 2, inside what would be its lease.
    expect({ leader: a.isLeader, term: a.term, commit: a.commitIndex }).toEqual({ leader: true, term: 2, commit: 2 });
    a.readIndex(1000);
    const answered = drain(a).readResults;
    // A lease read would answer at once with read index 2: stale, the write at 4 was acknowledged before the read began.
    expect(answered).toEqual([]);
  });

  it('without a TimeoutNow the lease still answers reads at once (the rule is no broader than needed)', () => {
    const peers = ['a', 'b', 'c'];
    const cores = new Map<string, RaftCore>(peers.map((id) => [id, startedCore(id, peers, { leaseReads: true, checkQuorum: true, preVote: true })]));
    const a = cores.get('a')!;
    a.tick(600);
    deliverUntilQuiet(cores, 600);
    a.tick(700);
    deliverUntilQuiet(cores, 700);
    a.readIndex(1000);
    expect(drain(a).readResults).toEqual([{ requestId: expect.any(Number), readIndex: 2 }]);
  });
});
