/**
 * Re-renders a run's report.html from its results folder and prints its
 * final table, with figures recomputed from the history:
 *
 *   npx tsx test/nemesis/render.ts tmp/nemesis/seed-<seed>
 */
import { computeStats, formatTable } from './report.js';
import { readResults, writeReport } from './results.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: render.ts <results folder>');
  process.exit(2);
}
const { summary, ops, logLines } = readResults(dir);
summary.stats = computeStats(ops, summary.faults, summary.leaderChanges, summary.stats.durationMs);
console.log(formatTable(summary.stats, summary.checker, summary.anomalies));
console.log(`report: ${writeReport(dir, summary, ops, logLines)}`);
