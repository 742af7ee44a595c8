/**
 * `wireLimits` other than the defaults, the same on every node: what the
 * leader sends must pass the receivers' limits, or replication stops for good.
 * Before the batching options were capped by the wire limits, a leader batched
 * 1 MiB of entries into receivers that accept 64 KiB (every AppendEntries
 * rejected), and checked its own payloads against the default limits rather
 * than the node's (a 2 MiB string allowed by `maxStringLength` never left it).
 */
import { describe, expect, it } from 'vitest';
import type { RaftOptions } from 'webraft';
import { cluster, type TestNet, type TestRaft, waitFor, waitLeader } from './helpers.js';

interface Problems {
  invalid: string[];
  writeErrors: string[];
  errors: string[];
}

/** Three nodes (the shared test cluster) with `options`, and the problems they report. */
async function limitedCluster(options: RaftOptions): Promise<{ nodes: TestRaft[]; net: TestNet; leader: TestRaft; problems: Problems }> {
  const c = cluster(['a', 'b', 'c'], { options });
  const problems: Problems = { invalid: [], writeErrors: [], errors: [] };
  for (const node of c.nodes) {
    const id = node.address;
    node.listen('invalid message', (from: string, error: Error) => problems.invalid.push(`${id} from ${from}: ${error.message}`));
    node.listen('write error', (to: string, error: unknown) => problems.writeErrors.push(`${id} to ${to}: ${String(error)}`));
    node.listen('error', (error: unknown) => problems.errors.push(`${id}: ${String(error)}`));
  }
  const leader = await waitLeader(c);
  return { nodes: c.nodes, net: c.net, leader, problems };
}

function expectNoProblems(problems: Problems): void {
  expect(problems.invalid.slice(0, 3)).toEqual([]);
  expect(problems.writeErrors.slice(0, 3)).toEqual([]);
  expect(problems.errors.slice(0, 3)).toEqual([]);
}

describe('wireLimits shared by the cluster', () => {
  it('a small maxPayloadBytes: many commands proposed at once still replicate, in messages the followers accept', async () => {
    const maxPayloadBytes = 64 * 1024;
    const { nodes, net, leader, problems } = await limitedCluster({ wireLimits: { maxPayloadBytes } });
    net.record = true;
    const command = { v: 'x'.repeat(1000) };
    const results = await Promise.all(Array.from({ length: 300 }, () => leader.propose(command)));
    const last = Math.max(...results.map((r) => r.index));
    await waitFor(() => nodes.every((n) => n.status().lastApplied >= last), 5000, 'every node applied the commands');
    const appends = net.writes.filter((w) => 'appendEntriesRequest' in w.payload);
    const biggest = Math.max(...appends.map((w) => JSON.stringify(w.payload).length));
    expect(biggest).toBeLessThanOrEqual(maxPayloadBytes);
    expect(appends.some((w) => JSON.stringify(w.payload).length > maxPayloadBytes / 2)).toBe(true); // still batched
    expectNoProblems(problems);
    for (const n of nodes) n.end();
  });

  it('a small maxEntriesPerMessage caps the entries per AppendEntries', async () => {
    const { nodes, net, leader, problems } = await limitedCluster({ wireLimits: { maxEntriesPerMessage: 8 } });
    net.record = true;
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => leader.propose(i)));
    const last = Math.max(...results.map((r) => r.index));
    await waitFor(() => nodes.every((n) => n.status().lastApplied >= last), 5000, 'every node applied the commands');
    const counts = net.writes.map((w) => ((w.copy as { appendEntriesRequest?: { entries?: unknown[] } }).appendEntriesRequest?.entries ?? []).length);
    expect(Math.max(...counts)).toBe(8);
    expectNoProblems(problems);
    for (const n of nodes) n.end();
  });

  it('a large maxStringLength: a command with a 2 MiB string replicates', async () => {
    const { nodes, leader, problems } = await limitedCluster({
      wireLimits: { maxStringLength: 4 * 1024 * 1024, maxPayloadBytes: 64 * 1024 * 1024 },
    });
    const { index } = await leader.propose({ v: 'y'.repeat(2 * 1024 * 1024) });
    await waitFor(() => nodes.every((n) => n.status().lastApplied >= index), 5000, 'every node applied the command');
    expectNoProblems(problems);
    for (const n of nodes) n.end();
  });

  it('a small maxPayloadBytes: a snapshot larger than one payload reaches a follower in chunks that fit', async () => {
    const maxPayloadBytes = 16 * 1024;
    const state: Record<string, string> = {};
    const { nodes, net, leader, problems } = await limitedCluster({ wireLimits: { maxPayloadBytes }, snapshotThreshold: 5 });
    for (const n of nodes) {
      n.listen('apply', (entry: { command: unknown }) => {
        const { k, v } = entry.command as { k: string; v: string };
        state[k] = v;
      });
      n.createSnapshot = () => ({ ...state });
    }
    const lagging = nodes.find((n) => n !== leader) as TestRaft;
    let refreshed = false;
    lagging.listen('refresh', () => {
      refreshed = true;
    });
    net.isolate(lagging.address);
    // About 100 KB of state: the snapshot needs several 16 KiB payloads.
    for (let i = 0; i < 40; i++) await leader.propose({ k: `k${i}`, v: 'z'.repeat(2500) });
    await waitFor(() => leader.status().firstIndex > lagging.status().lastIndex + 1, 5000, 'the leader compacted past the lagging node');
    net.record = true;
    net.heal();
    await waitFor(() => refreshed && lagging.status().lastApplied >= leader.status().commitIndex, 10000, 'the lagging node caught up');
    const chunks = net.writes.filter((w) => 'installSnapshotRequest' in w.payload);
    // Bytes of each snapshot sent (by its index), counting each chunk offset once. Which snapshots are
    // sent depends on timing (a leader goes on with the one it started sending, and keeps the entries
    // after it), but at least one is larger than a payload may be.
    const snapshotBytes = new Map<string, Map<string, number>>();
    for (const { payload } of chunks) {
      const request = (payload as { installSnapshotRequest: { lastIncludedIndex?: string; offset?: string; data?: string } }).installSnapshotRequest;
      const offsets = snapshotBytes.get(request.lastIncludedIndex ?? '0') ?? new Map<string, number>();
      offsets.set(request.offset ?? '0', Buffer.from(request.data ?? '', 'base64').length);
      snapshotBytes.set(request.lastIncludedIndex ?? '0', offsets);
    }
    const largest = Math.max(...[...snapshotBytes.values()].map((offsets) => [...offsets.values()].reduce((sum, n) => sum + n, 0)));
    expect(largest).toBeGreaterThan(maxPayloadBytes);
    expect(Math.max(...chunks.map((w) => JSON.stringify(w.payload).length))).toBeLessThanOrEqual(maxPayloadBytes);
    expectNoProblems(problems);
    for (const n of nodes) n.end();
  });
});
