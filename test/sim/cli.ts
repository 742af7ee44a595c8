/**
 * Runs the deterministic simulation over many seeds.
 *
 *   npm run sim [-- --seeds 10000 --nodes 3 --start 1 --steps 1000 --no-churn]   (default: 10,000 seeds, 3 nodes)
 *   npm run sim -- --seed 42 --nodes 3 --trace [--trace-file trace.txt] [--trace-lines 200]
 *
 * On a failure it prints the error, a one-line repro command, and the last
 * trace lines of that seed (re-run with tracing: runs are deterministic).
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_STEPS, reproCommand, runSeed, type SimResult } from './simulation.js';

interface Args {
  seeds: number;
  start: number;
  nodes: number;
  steps: number;
  seed?: number;
  trace: boolean;
  traceFile?: string;
  traceLines: number;
  maxFailures: number;
  churn: boolean;
  /** Stop at the first failing seed, without a trace (the mutation gate). */
  stopOnFailure: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 10_000, start: 1, nodes: 3, steps: DEFAULT_STEPS, trace: false, traceLines: 200, maxFailures: 5, churn: true, stopOnFailure: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n)) throw new Error(`${flag} needs a number`);
      return n;
    };
    switch (flag) {
      case '--seeds': args.seeds = value(); break;
      case '--start': args.start = value(); break;
      case '--nodes': args.nodes = value(); break;
      case '--steps': args.steps = value(); break;
      case '--seed': args.seed = value(); break;
      case '--trace': args.trace = true; break;
      case '--trace-file': args.traceFile = argv[++i]; args.trace = true; break;
      case '--trace-lines': args.traceLines = value(); break;
      case '--max-failures': args.maxFailures = value(); break;
      case '--churn': args.churn = true; break;
      case '--no-churn': args.churn = false; break;
      case '--stop-on-failure': args.stopOnFailure = true; break;
      case '--help':
      case '-h':
        console.log('usage: npm run sim -- --seeds N --nodes K [--start S] [--steps M] [--max-failures F] [--no-churn] [--stop-on-failure] | --seed X --trace [--trace-file F]');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  if (args.nodes < 1 || args.nodes > 26) throw new Error('--nodes must be 1..26');
  return args;
}

async function reportFailure(result: SimResult, args: Args): Promise<void> {
  const repro = reproCommand({ seed: result.seed, nodes: args.nodes, steps: args.steps, churn: args.churn });
  console.log(`\nFAIL seed ${result.seed}: ${result.error}`);
  console.log(`repro: ${repro}`);
  const traced = await runSeed({ seed: result.seed, nodes: args.nodes, steps: args.steps, churn: args.churn, trace: true, traceLimit: args.traceLines });
  const text = traced.trace.join('\n');
  if (args.traceFile) {
    writeFileSync(args.traceFile, `${repro}\n${traced.error ?? 'passed when traced (nondeterminism!)'}\n\n${text}\n`);
    console.log(`trace (last ${traced.trace.length} events) written to ${args.traceFile}`);
  } else {
    console.log(`--- trace of seed ${result.seed} (last ${traced.trace.length} events) ---\n${text}\n--- end of trace ---`);
  }
  if (traced.ok) console.log('WARNING: the traced re-run passed: the simulation is not deterministic');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  if (args.seed !== undefined) {
    const result = await runSeed({ seed: args.seed, nodes: args.nodes, steps: args.steps, churn: args.churn, trace: args.trace, traceLimit: args.traceLines });
    const elapsed = ((performance.now() - started) / 1000).toFixed(2);
    if (args.trace && result.ok) {
      const text = result.trace.join('\n');
      if (args.traceFile) writeFileSync(args.traceFile, `${text}\n`);
      else console.log(text);
    }
    if (result.ok) {
      console.log(`seed ${args.seed} (${args.nodes} nodes): ok, ${result.steps} steps, ${result.virtualMs} virtual ms, ${JSON.stringify(result.stats)}, ${elapsed}s`);
      return;
    }
    if (args.trace) {
      console.log(`\nFAIL seed ${result.seed}: ${result.error}`);
      const text = result.trace.join('\n');
      if (args.traceFile) {
        writeFileSync(args.traceFile, `${result.error}\n\n${text}\n`);
        console.log(`trace written to ${args.traceFile}`);
      } else console.log(`--- trace (last ${result.trace.length} events) ---\n${text}\n--- end of trace ---`);
      console.log(`repro: ${reproCommand({ seed: result.seed, nodes: args.nodes, steps: args.steps, churn: args.churn })}`);
    } else await reportFailure(result, args);
    process.exitCode = 1;
    return;
  }

  let steps = 0;
  let failures = 0;
  const totals: Record<string, number> = {};
  let run = 0;
  let virtualMs = 0;
  const failedSeeds: number[] = [];
  console.log(`simulating seeds ${args.start}..${args.start + args.seeds - 1} with ${args.nodes} nodes, ${args.steps} steps each, churn ${args.churn ? 'in half the seeds' : 'off'}`);
  for (let seed = args.start; seed < args.start + args.seeds; seed++) {
    const result = await runSeed({ seed, nodes: args.nodes, steps: args.steps, churn: args.churn });
    run++;
    steps += result.steps;
    for (const [key, value] of Object.entries(result.stats)) totals[key] = (totals[key] ?? 0) + Number(value);
    virtualMs += result.virtualMs;
    if (!result.ok) {
      failures++;
      failedSeeds.push(seed);
      if (args.stopOnFailure) {
        console.log(`FAIL seed ${seed} after ${run} seeds: ${(result.error ?? '').split('\n')[0]}`);
        break;
      }
      if (failures <= args.maxFailures) await reportFailure(result, args);
      else console.log(`FAIL seed ${seed}: ${(result.error ?? '').split('\n')[0]}`);
    }
    if (run % 500 === 0) {
      const s = (performance.now() - started) / 1000;
      console.log(`  ${run}/${args.seeds} seeds, ${failures} failures, ${(run / s).toFixed(0)} seeds/s`);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  console.log(
    `\n${run} seeds (${args.nodes} nodes), ${steps} steps, ${(virtualMs / 1000).toFixed(0)} virtual s, ${failures} failures, ` +
      `${elapsed.toFixed(1)}s elapsed (${(run / elapsed).toFixed(0)} seeds/s, ${(steps / elapsed / 1000).toFixed(0)}k steps/s)`,
  );
  console.log(`totals: ${Object.entries(totals).map(([key, value]) => `${key} ${value}`).join(', ')}`);
  if (failures > 0) {
    console.log(`failed seeds: ${failedSeeds.slice(0, 50).join(' ')}${failedSeeds.length > 50 ? ' ...' : ''}`);
    console.log(`first repro: ${reproCommand({ seed: failedSeeds[0], nodes: args.nodes, steps: args.steps, churn: args.churn })}`);
    process.exitCode = 1;
  }
}

void main();
