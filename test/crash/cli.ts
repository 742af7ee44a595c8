/**
 * `npm run test:crash -- [--kills 500] [--seed S] [--nodes 3] [--snapshot-threshold 50] [--writers 4] [--keep] [--no-reads]`
 *
 * SIGKILLs random nodes of a real 3-process kv-demo cluster (FileStorage,
 * snapshots every 50 entries) under write load, restarts them, and checks
 * that no acknowledged write is lost or applied twice. Exits 1 on any loss,
 * duplication, divergence or a cluster that does not recover. See
 * docs/crash-test.md.
 */
import { parseArgs } from 'node:util';
import { formatReport, runCrashTest } from './crash-test.js';

const { values: flags } = parseArgs({
  options: {
    kills: { type: 'string', default: '500' },
    seed: { type: 'string' },
    nodes: { type: 'string', default: '3' },
    'snapshot-threshold': { type: 'string', default: '50' },
    writers: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
    'no-reads': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log('usage: npm run test:crash -- [--kills 500] [--seed S] [--nodes 3] [--snapshot-threshold 50] [--writers 4] [--keep] [--no-reads]');
  process.exit(0);
}

// Ctrl-C: exit, which SIGKILLs the nodes (the engine's 'exit' handler) and keeps the temp dir.
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

const report = await runCrashTest({
  kills: Math.max(0, Number(flags.kills)),
  seed: flags.seed !== undefined ? Number(flags.seed) : undefined,
  nodes: Math.max(1, Number(flags.nodes)),
  snapshotThreshold: Math.max(1, Number(flags['snapshot-threshold'])),
  writers: Math.max(1, Number(flags.writers)),
  keep: flags.keep,
  linearizableReads: !flags['no-reads'],
});
console.log('\n' + formatReport(report));
process.exit(report.ok ? 0 : 1);
