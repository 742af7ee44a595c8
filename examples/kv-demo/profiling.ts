/**
 * On-demand CPU profiles of a kv node, for benchmarks: with
 * `--cpu-profile-dir DIR`, each SIGUSR2 starts a V8 CPU profile and the next
 * one stops it and writes DIR/<pid>-<n>.cpuprofile (open it in Chrome DevTools,
 * or summarize it with scripts/bench-tcp-profile.ts). Unlike `node --cpu-prof`
 * it covers exactly the window the benchmark measures.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

export function profileOnSignal(dir: string, log: (...parts: unknown[]) => void): void {
  const session = new Session();
  session.connect();
  let running = false;
  let count = 0;
  const post = (method: string, params?: object) =>
    new Promise<{ profile?: unknown }>((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as { profile?: unknown }))));
  process.on('SIGUSR2', () => {
    const toggle = running
      ? post('Profiler.stop').then(({ profile }) => {
          const file = join(dir, `${process.pid}-${++count}.cpuprofile`);
          writeFileSync(file, JSON.stringify(profile));
          log(`cpu profile written to ${file}`);
        })
      : post('Profiler.enable')
          .then(() => post('Profiler.setSamplingInterval', { interval: 1000 }))
          .then(() => post('Profiler.start'));
    running = !running;
    toggle.catch((error) => log('cpu profile failed:', error));
  });
}
