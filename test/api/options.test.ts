/**
 * Options that cannot work are refused at construction with INVALID_ARGUMENT
 * (as etcd's Config.validate and hashicorp/raft's ValidateConfig refuse them),
 * and a timing getter returning something unusable means its default.
 */
import { describe, expect, it } from 'vitest';
import type { RaftOptions } from 'webraft';
import { MemoryStorage } from 'webraft';
import { TestNet, TestRaft, waitFor } from './helpers.js';

describe('options checked at construction', () => {
  const refused: [string, RaftOptions][] = [
    ['maxInflight', { maxInflight: 0 }],
    ['maxEntriesPerMessage', { maxEntriesPerMessage: -1 }],
    ['maxBytesPerMessage', { maxBytesPerMessage: 1.5 }],
    ['snapshotChunkBytes', { snapshotChunkBytes: Number.NaN }],
    ['snapshotThreshold', { snapshotThreshold: -1 }],
    ['maxClockDrift', { maxClockDrift: Number.POSITIVE_INFINITY }],
    ['preVote', { preVote: 'yes' as unknown as boolean }],
    ['random', { random: 5 as unknown as () => number }],
    ['peers', { peers: 'a' as unknown as string[] }],
    ['peers', { peers: ['b', ''] }],
    ['wireLimits.maxPayloadBytes', { wireLimits: { maxPayloadBytes: 0 } }],
    ['wireLimits.maxJsonDepth', { wireLimits: { maxJsonDepth: 2.5 } }],
  ];
  for (const [name, options] of refused) {
    it(`refuses a ${name} that cannot work`, () => {
      let thrown: unknown;
      try {
        new TestRaft('a', new TestNet(), options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`options.${name}`) });
    });
  }

  it('accepts snapshotThreshold 0 (no snapshots) and absent options', async () => {
    const node = new TestRaft('a', new TestNet(), { snapshotThreshold: 0, storage: new MemoryStorage() });
    await waitFor(() => node.isLeader, 5000, 'a leader');
    await node.propose(1);
    expect(node.status().snapshotIndex).toBe(0);
    node.end();
  });
});

describe('timing getters', () => {
  for (const [what, value] of [
    ['0', 0],
    ['NaN', Number.NaN],
    ['a string', '50' as unknown as number],
  ] as const) {
    it(`returning ${what} means the default: a cluster still elects a leader and commits`, async () => {
      const net = new TestNet();
      const peers = ['a', 'b', 'c'];
      const nodes = peers.map(
        (id) => new TestRaft(id, net, { peers }, { heartbeatFrequency: value, heartbeatTimeout: value, electionTimeout: value }),
      );
      const terms: number[] = [];
      await waitFor(() => nodes.some((n) => n.isLeader), 5000, 'a leader');
      const leader = nodes.find((n) => n.isLeader) as TestRaft;
      const { index } = await leader.propose({ ok: true });
      await waitFor(() => nodes.every((n) => n.status().lastApplied >= index), 5000, 'every node applied');
      for (const n of nodes) terms.push(n.currentTerm);
      // With a timeout of 0 the nodes campaigned on every tick and the term ran away.
      expect(Math.max(...terms)).toBeLessThan(5);
      for (const n of nodes) n.end();
    });
  }
});
