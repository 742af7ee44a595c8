/**
 * Request ids across restarts (§6.4): a response addressed to an earlier run
 * of a node can still be in the network when the node is back. Each run's ids
 * start from a hash of its client id (unique per run), so such a response
 * never matches a new request; before, every run counted from 1, and a
 * replayed ReadIndexResponse handed a new read an old read index (a stale
 * read, found by the simulation's replay fault).
 */
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../src/core/raft.js';
import type { Message } from '../../src/core/types.js';
import { requestIdStart } from '../../src/core/request-ids.js';
import { deliverUntilQuiet, drain, flush, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

describe('request ids of a restarted node', () => {
  it('a ReadIndexResponse sent to the previous run does not answer a read of the new run', () => {
    const cores = new Map(['a', 'b', 'c'].map((id) => [id, startedCore(id, ['a', 'b', 'c'])]));
    const a = cores.get('a') as RaftCore;
    const now = 3 * TIMEOUT;
    a.tick(now);
    deliverUntilQuiet(cores, now);
    expect(a.isLeader).toBe(true);

    // b's first run asks for a read barrier; the leader's answer is held back in the network.
    const b = cores.get('b') as RaftCore;
    b.readIndex(10_000);
    const held: Message[] = [];
    deliverUntilQuiet(cores, now, (m) => {
      if (m.body.type !== 'ReadIndexResponse') return true;
      held.push(m);
      return false;
    });
    expect(held).toHaveLength(1);

    // b restarts (a new run: a new client id, and the same random source) and asks for a read barrier again.
    // (Its state does not matter here; it starts empty and learns the leader from a heartbeat.)
    const restarted = startedCore('b', ['a', 'b', 'c'], { clientId: 'b#second-run' });
    cores.set('b', restarted);
    a.tick(now + 60);
    deliverUntilQuiet(cores, now + 60);
    expect(restarted.leaderId).toBe('a');
    const second = restarted.readIndex(10_000);
    const forwarded = flush(restarted).filter((m) => m.body.type === 'ReadIndexRequest');
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0].body).toMatchObject({ requestId: second });

    // The old answer arrives now: it must not settle the new read.
    restarted.step(held[0], now + 60);
    expect(drain(restarted).readResults).toEqual([]);
  });

  it('ids of one run count up; runs with different client ids start apart, within 48 bits', () => {
    const clientIds = ['b#1', 'b#2', 'b#3', 'b#9cef0beb0f60a580', 'b#9cef0beb0f60a581'];
    const starts = clientIds.map((clientId) => startedCore('b', ['a', 'b'], { clientId }).readIndex(1000));
    expect(starts).toEqual(clientIds.map(requestIdStart));
    expect(new Set(starts).size).toBe(clientIds.length);
    for (const id of starts) expect(Number.isSafeInteger(id) && id >= 1 && id <= 2 ** 48).toBe(true);
    const core = startedCore('b', ['a', 'b'], { clientId: 'b#4' });
    const first = core.readIndex(1000);
    expect(core.readIndex(1000)).toBe(first + 1);
  });
});
