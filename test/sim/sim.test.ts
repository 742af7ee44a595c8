import { describe, expect, it } from 'vitest';
import { reproCommand, runSeed } from './simulation.js';

/**
 * The deterministic simulation over a fixed range of seeds. A failure names
 * the seed and the command that replays it with a trace.
 */
const SEEDS = Number(process.env.WEBRAFT_SIM_SEEDS ?? 300);
const START = Number(process.env.WEBRAFT_SIM_START ?? 1);

describe('deterministic simulation', () => {
  for (const nodes of [3, 5]) {
    it(`${SEEDS} seeds with ${nodes} nodes keep every safety invariant and recover after healing`, () => {
      const failures: string[] = [];
      for (let seed = START; seed < START + SEEDS; seed++) {
        const result = runSeed({ seed, nodes });
        if (!result.ok) failures.push(`seed ${seed}: ${(result.error ?? '').split('\n')[0]}\n  repro: ${reproCommand({ seed, nodes })}`);
        if (failures.length >= 5) break;
      }
      expect(failures, failures.join('\n')).toEqual([]);
    });
  }

  it('is deterministic: the same seed gives the same run', () => {
    for (const seed of [7, 8]) {
      const a = runSeed({ seed, nodes: 3 });
      const b = runSeed({ seed, nodes: 3, trace: true });
      expect({ steps: b.steps, virtualMs: b.virtualMs, stats: b.stats, error: b.error }, `seed ${seed}; repro: ${reproCommand({ seed, nodes: 3 })}`).toEqual({
        steps: a.steps,
        virtualMs: a.virtualMs,
        stats: a.stats,
        error: a.error,
      });
    }
  });
});
