/**
 * The bounded crash test run by `npm test`: 30 SIGKILLs (about a third of them
 * the leader) of a real 3-process kv-demo cluster under write load, with
 * snapshots every 50 entries. The full run is `npm run test:crash` (500 kills);
 * see docs/crash-test.md. CRASH_SEED=S repeats a seed, CRASH_KILLS=N changes the count.
 */
import { describe, expect, it } from 'vitest';
import { formatReport, runCrashTest } from './crash-test.js';

const kills = Number(process.env.CRASH_KILLS ?? 30);
const seed = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : Math.floor(Math.random() * 2 ** 31);

describe('crash test (3 processes, FileStorage, SIGKILL)', () => {
  it(`${kills} kills: no acknowledged write lost or duplicated, recovery after every kill`, async () => {
    const lines: string[] = [];
    const report = await runCrashTest({ kills, seed, log: (line) => lines.push(line), progressEvery: 10 });
    const summary = `${lines.join('\n')}\n${formatReport(report)}\nrepro: ${report.reproCommand}  (or CRASH_SEED=${report.seed} npx vitest run test/crash)`;
    console.log(summary);
    expect(report.failures, summary).toEqual([]);
    expect(report.kills, summary).toBe(kills);
    expect(report.lost, summary).toBe(0);
    expect(report.duplicated, summary).toBe(0);
    expect(report.notRecovered, summary).toBe(0);
    expect(report.writes.acknowledged, summary).toBeGreaterThan(kills * 20);
  }, 170_000);

  it('the checker reports a lost and a duplicated write (self-test on a tampered state dump)', async () => {
    const report = await runCrashTest({ kills: 1, seed: 7, log: () => {}, sabotage: true, linearizableReads: false });
    expect(report.ok).toBe(false);
    expect(report.lost).toBe(1);
    expect(report.duplicated).toBe(1);
    expect(report.divergentNodes).toBe(1);
  }, 60_000);
});
