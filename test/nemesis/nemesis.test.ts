/**
 * The nemesis in `npm test`:
 * - the schedule, partitions and drift clock on their own (pure, fast);
 * - a 60-second run of a real 3-process cluster under every fault kind, which
 *   must find no anomaly;
 * - the planted bug (reads skip readBarrier()), which must be reported as a
 *   linearizability violation with the offending operations, so a checker
 *   that cannot fail is caught.
 * NEMESIS_SEED=S repeats a seed (the runs print theirs); the full runs are
 * `npm run nemesis -- --time 1800 --nodes 5` (docs/nemesis.md).
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/testing/seeded-random.js';
import { DriftClock } from './drift-clock.js';
import type { OpRecord } from './history.js';
import { renderHtmlReport } from './html-report.js';
import { partition, PARTITION_KINDS } from './partitions.js';
import { computeStats } from './report.js';
import { DEFAULT_RESULTS_ROOT, runNemesis, type NemesisOptions } from './run.js';
import { buildSchedule, FAULT_GROUPS, familyOf, type FaultKind } from './schedule.js';

const ALL_KINDS: FaultKind[] = [...PARTITION_KINDS.map((k) => `partition-${k}` as const), 'pause', 'crash', 'clock', 'membership'];

describe('nemesis schedule', () => {
  it('is a function of the seed', () => {
    const options = { durationMs: 60_000, groups: FAULT_GROUPS, slots: 4, leaseReads: false };
    expect(buildSchedule({ seed: 5, ...options })).toEqual(buildSchedule({ seed: 5, ...options }));
    expect(buildSchedule({ seed: 5, ...options })).not.toEqual(buildSchedule({ seed: 6, ...options }));
  });

  it('covers every fault kind in 60 s, with at most one fault per family at a time (200 seeds)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { faults } = buildSchedule({ seed, durationMs: 60_000, groups: FAULT_GROUPS, slots: 4, leaseReads: seed % 2 === 1 });
      const kinds = new Set(faults.map((f) => f.kind));
      expect([...ALL_KINDS].filter((k) => !kinds.has(k)), `seed ${seed}`).toEqual([]);
      expect(faults.filter((f) => f.kind === 'membership').length, `seed ${seed}: a join and a leave`).toBeGreaterThanOrEqual(2);
      for (const a of faults) {
        for (const b of faults) {
          if (a !== b && familyOf(a.kind) === familyOf(b.kind)) expect(a.endMs <= b.startMs || b.endMs <= a.startMs, `seed ${seed}: #${a.id} and #${b.id} overlap`).toBe(true);
        }
      }
    }
  });

  it('keeps clock rates within maxClockDrift, and jumps the clock only without lease reads', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const leaseReads = seed % 2 === 1;
      for (const fault of buildSchedule({ seed, durationMs: 60_000, groups: ['clock'], slots: 6, leaseReads }).faults) {
        const rates = fault.clocks?.map((c) => c.rate) ?? [];
        expect(Math.max(...rates) / Math.min(...rates)).toBeLessThanOrEqual(1.25);
        if (leaseReads) expect(fault.clocks?.every((c) => c.jumpMs === 0)).toBe(true);
      }
    }
  });
});

describe('nemesis partitions', () => {
  const cut = (cuts: [string, string][], from: string, to: string) => cuts.some(([a, b]) => a === from && b === to);
  const hears = (cuts: [string, string][], nodes: string[], node: string) => nodes.filter((other) => other === node || !cut(cuts, other, node));

  it('majority ring: every node hears a majority, and no two hear the same one (5 nodes)', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const { cuts } = partition('ring', nodes, null, new SeededRandom(1));
    const views = nodes.map((n) => hears(cuts, nodes, n).sort().join(','));
    for (const view of views) expect(view.split(',').length).toBe(3);
    expect(new Set(views).size).toBe(5);
  });

  it('bridge: one node hears and reaches everyone, the two sides nobody across', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const { cuts } = partition('bridge', nodes, null, new SeededRandom(2));
    const bridges = nodes.filter((n) => nodes.every((o) => !cut(cuts, n, o) && !cut(cuts, o, n)));
    expect(bridges).toHaveLength(1);
    expect(cuts).toHaveLength(8); // 2 x 2 nodes, both directions
  });

  it('isolate-leader cuts the leader from everyone both ways; one-way cuts only one direction', () => {
    const nodes = ['n1', 'n2', 'n3'];
    const isolated = partition('isolate-leader', nodes, 'n2', new SeededRandom(3)).cuts;
    expect(isolated.filter(([a, b]) => a === 'n2' || b === 'n2')).toHaveLength(4);
    expect(isolated).toHaveLength(4);
    for (let seed = 0; seed < 20; seed++) {
      const { cuts } = partition('one-way', nodes, 'n1', new SeededRandom(seed));
      expect(cuts.length).toBeGreaterThan(0);
      for (const [a, b] of cuts) expect(cut(cuts, b, a)).toBe(false);
    }
  });
});

describe('drift clock', () => {
  it('runs at the set rate, jumps forward, never goes back, and fires a timer once its deadline is passed by a jump', async () => {
    const clock = new DriftClock();
    const before = clock.now();
    clock.adjust(1.1, 500);
    expect(clock.now() - before).toBeGreaterThanOrEqual(500);
    let fired = false;
    clock.setTimeout(() => (fired = true), 10_000);
    clock.adjust(1, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(true);
    expect(() => clock.adjust(1, -1)).toThrow(RangeError);
    expect(clock.describe().rate).toBe(1);
  });
});

describe('nemesis HTML report', () => {
  it('renders a 30-minute history of 250,000 operations (no argument spreading: it overflowed the stack)', () => {
    const ops: OpRecord[] = Array.from({ length: 250_000 }, (_, i) => ({
      id: i, client: `c${i % 9}`, node: 'n1', type: 'read', key: `k${i >> 8}`, start: i * 7.2, end: i * 7.2 + 3 + (i % 50), outcome: 'ok', result: null,
    }));
    const stats = computeStats(ops, [], [], 1_800_000);
    const html = renderHtmlReport({
      title: 't', command: 'c', settings: [], stats, checker: { keys: 1, operations: ops.length, steps: 0, ms: 0 }, anomalies: [], faults: [], ops,
      leaderTimeline: [{ at: 0, leader: 'n1' }], nodes: ['n1'], faultLog: [],
    });
    expect(stats.total).toBe(250_000);
    expect(html).toContain('</svg>');
    expect(html.length).toBeLessThan(20_000_000);
  });
});

function envSeed(): number {
  return process.env.NEMESIS_SEED !== undefined ? Number(process.env.NEMESIS_SEED) : 1 + Math.floor(Math.random() * 2 ** 30);
}

function options(overrides: Partial<NemesisOptions> & { seed: number; timeSec: number }, lines: string[]): NemesisOptions {
  return {
    nodes: 3, faults: [...FAULT_GROUPS], leaseReads: overrides.seed % 2 === 1, unsafeLocalReads: false,
    rate: 60, clients: 6, timeoutMs: 2500, snapshotThreshold: 500, heartbeatMs: 100, electionTimeoutMs: 1000, resultsRoot: DEFAULT_RESULTS_ROOT, keepData: false,
    progressEveryMs: 5000, log: (line) => lines.push(line), command: '',
    ...overrides,
  };
}

describe('nemesis against a real 3-process cluster', () => {
  it('60 s under every fault kind: no anomaly', async () => {
    const seed = envSeed();
    const lines: string[] = [];
    const command = `npm run nemesis -- --time 60 --nodes 3 --seed ${seed}  (or NEMESIS_SEED=${seed} npx vitest run test/nemesis)`;
    const report = await runNemesis(options({ seed, timeSec: 60, command }, lines));
    const summary = `${lines.join('\n')}\n${report.table}\nrepeat: ${command}`;
    console.log(summary);
    expect(report.anomalies.map((a) => `${a.kind}: ${a.summary}`), summary).toEqual([]);
    expect(Object.keys(report.stats.faults).sort(), summary).toEqual([...ALL_KINDS].sort());
    expect(report.stats.acknowledgedWrites, summary).toBeGreaterThan(500);
    expect(report.stats.ops.read.ok, summary).toBeGreaterThan(500);
  }, 170_000);

  it('planted bug (reads skip readBarrier()): reported as a linearizability violation with the offending operations', async () => {
    const seed = envSeed();
    const lines: string[] = [];
    const command = `npm run nemesis -- --time 15 --faults partition --unsafe-local-reads --seed ${seed}`;
    const report = await runNemesis(options({ seed, timeSec: 15, faults: ['partition'], unsafeLocalReads: true, keepDataOnAnomaly: false, command }, lines));
    console.log(`${report.table.split('\n').slice(0, 40).join('\n')}\nrepeat: ${command}`);
    const violations = report.anomalies.filter((a) => a.kind === 'linearizability');
    expect(violations.length, `${lines.join('\n')}\n${report.table}`).toBeGreaterThan(0);
    expect(report.ok).toBe(false);
    // The report names the read that cannot be linearized, and the operations before it.
    expect(violations[0].summary).toMatch(/read k\d+ -> /);
    expect(report.table).toContain('cannot be linearized');
    expect(violations[0].details.some((d) => /write|cas/.test(d))).toBe(true);
  }, 120_000);
});
