import { describe, expect, it } from 'vitest';
import { reproCommand, runSeed, type SimOptions } from './simulation.js';

/**
 * The deterministic simulation, run on the shipped RaftInterface, over a
 * fixed range of seeds (half of them with membership churn). A failure names
 * the seed and the command that replays it with a trace. `npm run mutants`
 * runs the same seeds against each safety mutant.
 */
const SEEDS = Number(process.env.WEBRAFT_SIM_SEEDS ?? 300);
const START = Number(process.env.WEBRAFT_SIM_START ?? 1);

/** Runs `seeds`, returns the failures (at most 5) with their repro commands. */
async function failuresOf(runs: SimOptions[]): Promise<{ failures: string[]; results: Awaited<ReturnType<typeof runSeed>>[] }> {
  const failures: string[] = [];
  const results = [];
  for (const options of runs) {
    const result = await runSeed(options);
    results.push(result);
    if (!result.ok) failures.push(`seed ${options.seed}: ${(result.error ?? '').split('\n')[0]}\n  repro: ${reproCommand(options)}`);
    if (failures.length >= 5) break;
  }
  return { failures, results };
}

const seedRange = (count: number, start = START) => Array.from({ length: count }, (_, i) => start + i);
/** Runs take tens of seconds each on a quiet machine: generous room for a loaded one. */
const LONG = { timeout: 15 * 60_000 };

describe('deterministic simulation of the shipped node', () => {
  for (const nodes of [3, 5]) {
    it(`${SEEDS} seeds with ${nodes} nodes (membership churn in half) keep every safety invariant and recover after healing`, LONG, async () => {
      const { failures, results } = await failuresOf(seedRange(SEEDS).map((seed) => ({ seed, nodes })));
      expect(failures, failures.join('\n')).toEqual([]);
      // The features and faults are exercised, not just present.
      if (SEEDS >= 100) {
        const total = (key: keyof (typeof results)[0]['stats']) => results.reduce((sum, r) => sum + Number(r.stats[key]), 0);
        expect(results.filter((r) => r.stats.churn).length).toBeGreaterThan(SEEDS / 4);
        expect(total('membershipOk')).toBeGreaterThan(SEEDS / 2);
        expect(total('readsOk')).toBeGreaterThan(SEEDS);
        expect(total('transfersOk')).toBeGreaterThan(SEEDS / 10);
        expect(total('disruptionChecked')).toBeGreaterThan(SEEDS / 5);
        expect(total('replayed')).toBeGreaterThan(SEEDS);
        expect(total('saveFailures')).toBeGreaterThan(SEEDS / 10);
        expect(total('patterns')).toBeGreaterThan(SEEDS / 10);
        expect(total('snapshotsInstalled')).toBeGreaterThan(SEEDS / 10);
      }
    });
  }

  it('long runs (4000 steps, 3 nodes) stay clean', LONG, async () => {
    const { failures, results } = await failuresOf(seedRange(40).map((seed) => ({ seed, nodes: 3, steps: 4000 })));
    expect(failures, failures.join('\n')).toEqual([]);
    expect(results.reduce((sum, r) => sum + r.stats.wipes, 0)).toBeGreaterThan(10);
  });

  it('long runs with 5 nodes (12000 steps) stay clean', LONG, async () => {
    const { failures, results } = await failuresOf(seedRange(20).map((seed) => ({ seed, nodes: 5, steps: 12000 })));
    expect(failures, failures.join('\n')).toEqual([]);
    expect(results.reduce((sum, r) => sum + r.stats.snapshotsInstalled, 0)).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same run', async () => {
    // 43 and 47 are churn seeds.
    for (const seed of [7, 8, 43, 47]) {
      const a = await runSeed({ seed, nodes: 3 });
      const b = await runSeed({ seed, nodes: 3, trace: true });
      expect({ steps: b.steps, virtualMs: b.virtualMs, stats: b.stats, error: b.error }, `seed ${seed}; repro: ${reproCommand({ seed, nodes: 3 })}`).toEqual({
        steps: a.steps,
        virtualMs: a.virtualMs,
        stats: a.stats,
        error: a.error,
      });
    }
  });

  it('--no-churn seeds run without membership changes', async () => {
    const result = await runSeed({ seed: 7, nodes: 3, churn: false });
    expect(result.ok, result.error).toBe(true);
    expect(result.stats.churn).toBe(false);
    expect(result.stats.membershipIssued).toBe(0);
  });
});
