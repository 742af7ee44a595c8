/**
 * The mutation gate: applies each curated safety mutant (scripts/mutants/list.ts)
 * to a scratch copy of the repository and runs the fast part of what `npm test`
 * runs against it, then prints who caught it:
 *
 *   1. the core tests (test/core);
 *   2. the simulation seeds that `npm test` runs (test/sim/sim.test.ts: seeds
 *      1..300 with 3 nodes and with 5 nodes), stopping at the first failing seed;
 *   3. only when neither caught it: the rest of the simulation tests and the
 *      API tests (test/sim, test/api).
 *
 *   npm run mutants [-- --jobs 2] [-- --only name1,name2] [-- --seeds 300]
 *
 * Exits 1 when a mutant survives (or a patch no longer applies: the list must
 * follow the code). Stryker was considered: it mutates blindly and would need
 * the whole suite per mutant; a curated list of the rules that matter runs on
 * two cores in minutes.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MUTANTS, type Mutant } from './mutants/list.js';

const ROOT = resolve(import.meta.dirname, '..');
/** What a scratch copy needs besides node_modules (linked). */
const COPIED = ['src', 'test', 'scripts', 'generated', 'proto', 'package.json', 'tsconfig.json', 'vitest.config.ts'];

interface Args {
  jobs: number;
  only: string[] | null;
  seeds: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { jobs: Math.max(1, Math.min(2, cpus().length)), only: null, seeds: 300 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--jobs') args.jobs = Number(argv[++i]);
    else if (flag === '--only') args.only = argv[++i].split(',');
    else if (flag === '--seeds') args.seeds = Number(argv[++i]);
    else throw new Error(`unknown argument ${flag} (usage: npm run mutants -- [--jobs N] [--only a,b] [--seeds N])`);
  }
  return args;
}

interface Outcome {
  mutant: Mutant;
  error?: string;
  core: string;
  sim3: string;
  sim5: string;
  rest: string;
  caught: boolean;
  seconds: number;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, CI: '', FORCE_COLOR: '0' } }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      done({ code, output: `${stdout}\n${stderr}` });
    });
  });
}

/** A scratch copy of the repository with the mutant's patches applied. */
function prepare(mutant: Mutant, base: string): string {
  const dir = join(base, mutant.name);
  for (const item of COPIED) cpSync(join(ROOT, item), join(dir, item), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const patch of mutant.patches) {
    const file = join(dir, patch.file);
    const text = readFileSync(file, 'utf8');
    const count = text.split(patch.search).length - 1;
    if (count !== 1) throw new Error(`patch for ${patch.file} matches ${count} times (must be exactly once): ${JSON.stringify(patch.search.slice(0, 80))}`);
    writeFileSync(file, text.replace(patch.search, patch.replace));
  }
  return dir;
}

/** Names of the failed tests in a vitest JSON report. */
function failedTests(reportFile: string): string[] {
  if (!existsSync(reportFile)) return [];
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { testResults: { name: string; assertionResults: { status: string; title: string }[] }[] };
  const failed: string[] = [];
  for (const file of report.testResults) {
    for (const test of file.assertionResults) if (test.status === 'failed') failed.push(`${file.name.split('/test/').pop()}: ${test.title}`);
  }
  return failed;
}

async function vitest(dir: string, paths: string[], label: string): Promise<string> {
  const reportFile = join(dir, `${label}.json`);
  const { code } = await run('npx', ['vitest', 'run', ...paths, '--reporter=json', `--outputFile=${reportFile}`], dir, 30 * 60_000);
  const failed = failedTests(reportFile);
  if (failed.length > 0) return `${failed.length} failed (${failed[0]}${failed.length > 1 ? ', ...' : ''})`;
  return code === 0 ? '' : `exit ${code}`;
}

async function sim(dir: string, nodes: number, seeds: number): Promise<string> {
  const { output } = await run('npx', ['tsx', 'test/sim/cli.ts', '--seeds', String(seeds), '--nodes', String(nodes), '--stop-on-failure'], dir, 30 * 60_000);
  const match = /FAIL seed (\d+) after (\d+) seeds: (.*)/.exec(output);
  return match ? `seed ${match[1]} (${match[2]} seeds): ${match[3].replace(/ \[seed .*$/, '').slice(0, 90)}` : '';
}

async function evaluate(mutant: Mutant, base: string, seeds: number): Promise<Outcome> {
  const started = performance.now();
  const outcome: Outcome = { mutant, core: '', sim3: '', sim5: '', rest: '', caught: false, seconds: 0 };
  try {
    const dir = prepare(mutant, base);
    outcome.core = await vitest(dir, ['test/core'], 'core');
    outcome.sim3 = await sim(dir, 3, seeds);
    outcome.sim5 = await sim(dir, 5, seeds);
    if (!outcome.core && !outcome.sim3 && !outcome.sim5) outcome.rest = await vitest(dir, ['test/sim', 'test/api'], 'rest');
    outcome.caught = Boolean(outcome.core || outcome.sim3 || outcome.sim5 || outcome.rest);
    rmSync(dir, { recursive: true, force: true });
  } catch (error) {
    outcome.error = error instanceof Error ? error.message : String(error);
  }
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

function cell(text: string, width: number): string {
  const value = text || '-';
  return value.length > width ? `${value.slice(0, width - 1)}…` : value.padEnd(width);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const mutants = args.only ? MUTANTS.filter((m) => args.only!.includes(m.name)) : MUTANTS;
  const base = mkdtempSync(join(tmpdir(), 'webraft-mutants-'));
  console.log(`${mutants.length} mutants, ${args.jobs} at a time, simulation seeds 1..${args.seeds} (3 and 5 nodes); scratch copies in ${base}`);
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < mutants.length) {
      const mutant = mutants[next++];
      const outcome = await evaluate(mutant, base, args.seeds);
      outcomes.push(outcome);
      const verdict = outcome.error ? `ERROR ${outcome.error}` : outcome.caught ? 'caught' : 'SURVIVED';
      console.log(`  ${verdict.padEnd(8)} ${mutant.name} (${outcome.seconds.toFixed(0)} s)`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.jobs, mutants.length) }, worker));
  rmSync(base, { recursive: true, force: true });
  outcomes.sort((a, b) => mutants.indexOf(a.mutant) - mutants.indexOf(b.mutant));
  console.log(`\n${'mutant'.padEnd(46)} ${'core tests'.padEnd(40)} ${'sim, 3 nodes (first failing seed)'.padEnd(48)} ${'sim, 5 nodes'.padEnd(48)} ${'sim + api tests'.padEnd(24)} seconds`);
  for (const o of outcomes) {
    if (o.error) {
      console.log(`${cell(o.mutant.name, 46)} ERROR: ${o.error}`);
      continue;
    }
    console.log(`${cell(o.mutant.name, 46)} ${cell(o.core, 40)} ${cell(o.sim3, 48)} ${cell(o.sim5, 48)} ${cell(o.rest, 24)} ${o.seconds.toFixed(0)}`);
  }
  const survivors = outcomes.filter((o) => o.error || !o.caught);
  console.log(`\n${outcomes.length - survivors.length}/${outcomes.length} mutants caught${survivors.length ? `; not caught: ${survivors.map((o) => o.mutant.name).join(', ')}` : ''}`);
  if (survivors.length > 0) process.exitCode = 1;
}

void main();
