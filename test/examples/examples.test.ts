import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.js';

/** The `<node> applied: ...` lines of a script's output, keyed by node. */
function appliedLogs(output: string): Map<string, string> {
  const logs = new Map<string, string>();
  for (const match of output.matchAll(/^(\S+) applied: (.*)$/gm)) logs.set(match[1], match[2]);
  return logs;
}

describe('examples', () => {
  it('websocket: 3 nodes over ws on 127.0.0.1 apply the same log', async () => {
    const { code, output } = await runScript('examples/websocket/cluster.ts', [], 20_000);
    expect(code, output).toBe(0);
    expect(output).toMatch(/^leader: ws:\/\/127\.0\.0\.1:\d+/m);
    const logs = appliedLogs(output);
    expect(logs.size).toBe(3);
    for (const log of logs.values()) {
      expect(log.split(' ')).toHaveLength(5);
      for (const word of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) expect(log).toContain(word);
    }
    expect(new Set(logs.values()).size).toBe(1);
    expect(output).toContain('all nodes applied the same log');
  });

  it('broadcast-channel: 3 nodes over BroadcastChannel under Node apply the same log', async () => {
    const { code, output } = await runScript('examples/broadcast-channel/node-check.ts', [], 20_000);
    expect(code, output).toBe(0);
    const logs = appliedLogs(output);
    expect([...logs.keys()].sort()).toEqual(['tab-a', 'tab-b', 'tab-c']);
    for (const log of logs.values()) expect(log).toBe('red, green, blue');
    expect(output).toContain('all nodes applied the same log');
  });

  it('cluster-operations: proposals, snapshots, readBarrier, join, transferLeadership and leave as in the README', async () => {
    const { code, output } = await runScript('examples/cluster-operations/main.ts', [], 30_000);
    expect(code, output).toBe(0);
    expect(output).toContain('total on c, which proposed last: 1275');
    expect(output).toMatch(/"firstIndex":(\d+)/);
    expect(Number(/"firstIndex":(\d+)/.exec(output)?.[1])).toBeGreaterThan(1);
    expect(output).toContain('read on c after readBarrier: 1275');
    expect(output).toContain('d joined; voters: a,b,c,d | total on d: 1275');
    expect(output).toMatch(/leadership transferred: \w -> d/);
    expect(output).toContain('a left; voters: b,c,d');
    expect(output).toContain('total on d after one more proposal: 1276');
  });
});
