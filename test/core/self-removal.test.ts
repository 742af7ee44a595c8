/**
 * Dissertation §4.2.2: a leader may remove itself. If it appends its removal
 * and loses leadership before the entry commits, it can hold the only
 * up-to-date log. It must still be able to campaign (counting only the new
 * voters), commit the change and step down; otherwise the cluster deadlocks:
 * the others need its vote and it refuses them because their logs are behind.
 * Found by the simulation (seed 80, 3 nodes, churn).
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import { deliverUntilQuiet, startedCore, TEST_TIMEOUT as TIMEOUT } from './helpers.js';

/** Delivers messages between cores until quiet; `cut` drops messages between two addresses. */
function run(cores: Map<string, RaftCore>, now: number, cut: Set<string> = new Set()): void {
  deliverUntilQuiet(cores, now, (m) => !cut.has(`${m.from}>${m.to}`));
}

describe('a leader that appended its own removal and lost leadership (§4.2.2)', () => {
  it('campaigns with the new voters, commits its removal and hands over: no deadlock', () => {
    const cores = new Map(['b', 'c'].map((id) => [id, startedCore(id, ['b', 'c'])]));
    const b = cores.get('b') as RaftCore;
    const c = cores.get('c') as RaftCore;
    let now = 0;
    // c wins the first election.
    now += 2 * TIMEOUT;
    c.tick(now);
    run(cores, now);
    expect(c.isLeader).toBe(true);
    // c appends its own removal; b never receives it.
    const cut = new Set(['c>b']);
    c.changeMembership('remove', 'c', 10_000);
    run(cores, now, cut);
    expect(c.configuration.voters).toEqual(['b']);
    expect(c.log.lastIndex()).toBeGreaterThan(b.log.lastIndex());
    // c loses leadership (CheckQuorum: it hears from no quorum of its new configuration).
    for (let i = 0; i < 4 && c.isLeader; i++) {
      now += TIMEOUT;
      c.tick(now);
      run(cores, now, new Set(['c>b', 'b>c']));
    }
    expect(c.isLeader).toBe(false);
    expect(c.promotable).toBe(true);
    // Heal; let time pass. A leader of configuration [b] must emerge and commit c's removal.
    for (let i = 0; i < 20 && !(b.isLeader && b.commitIndex >= c.log.lastIndex()); i++) {
      now += TIMEOUT;
      for (const core of cores.values()) core.tick(now);
      run(cores, now);
    }
    expect(b.isLeader).toBe(true);
    expect(b.configuration.voters).toEqual(['b']);
    expect(b.commitIndex).toBeGreaterThanOrEqual(c.latestConfigurationIndex);
    expect(c.isLeader).toBe(false);
    expect(c.promotable).toBe(false);
  });
});
