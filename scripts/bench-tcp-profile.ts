/**
 * Reads the V8 CPU profiles that `npm run bench:tcp -- --cpu-prof DIR` leaves
 * (one per WebRaft node and measured window) and prints where the busy time
 * went: by source file (through the bundle's source map) and by function.
 *
 *   npx tsx scripts/bench-tcp-profile.ts DIR [--bundle /tmp/.../kv-node.mjs] [--match 1234-] [--skip-ms 0] [--top 30]
 *
 * "busy" excludes (idle) and (program); native frames (writeBuffer, writev,
 * fdatasync...) count where V8 saw them, under the JS function that called them.
 * V8 samples wall-clock time: on a loaded machine a syscall that wakes another
 * process (a loopback write) is charged for the time this one waits to run again.
 *
 * With --perf, DIR holds `perf record -e cpu-clock:u` files (bench:tcp --perf):
 * user-space CPU samples only, grouped by category (webraft source file through
 * the bundle's source map, node internals, V8, OpenSSL, libc).
 *
 *   npx tsx scripts/bench-tcp-profile.ts DIR --perf --bundle /tmp/.../kv-node.mjs [--match 64-] [--top 30]
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { perf: { type: 'boolean', default: false }, match: { type: 'string', default: '' }, bundle: { type: 'string' }, 'skip-ms': { type: 'string', default: '0' }, 'tail-ms': { type: 'string', default: '0' }, top: { type: 'string', default: '30' } },
});
const dir = positionals[0];
if (!dir) {
  console.error('usage: bench-tcp-profile.ts DIR [--bundle kv-node.mjs] [--skip-ms 4000] [--tail-ms 1000] [--top 30]');
  process.exit(2);
}
const sourceMap = values.bundle ? new SourceMap(JSON.parse(readFileSync(`${values.bundle}.map`, 'utf8'))) : null;

/** The original source file of a bundle position, shortened to its last two parts. */
function sourceOf(frame: ProfileNode['callFrame']): string {
  if (frame.url === '') return frame.functionName; // (idle), (program), (garbage collector), native
  if (!frame.url.includes('kv-node.mjs')) return frame.url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  if (!sourceMap) return 'bundle';
  const entry = sourceMap.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string };
  const source = entry.originalSource ?? 'bundle';
  return source.replace(/^.*?\/(src|examples|generated|node_modules)\//, '$1/');
}

/** The category of a perf symbol: a webraft/example source file, node:<module>, or a native library. */
function perfCategory(symbol: string): string {
  const js = /^JS:[*~^+-]?(.*?) (\S+):(\d+):(\d+)$/.exec(symbol);
  if (js) {
    const url = js[2];
    if (url.includes('kv-node.mjs')) return sourceOf({ functionName: js[1], url, lineNumber: Number(js[3]) - 1, columnNumber: Number(js[4]) - 1 });
    return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  }
  if (/^(Builtins_|Builtin:)/.test(symbol)) return 'v8 builtins';
  if (/^(v8::|Turbofan|Maglev|Sparkplug|cppgc|heap::)/.test(symbol) || symbol.startsWith('v8')) return 'v8 runtime (gc, compiler, api)';
  if (/(ChaCha|chacha|poly1305|Poly1305|aes|AES|gcm|GCM|EVP_|ossl_|OPENSSL|SSL_|ssl3_|tls1|tls13|SHA|sha256|sha512|BN_|bn_|CRYPTO_|ERR_)/.test(symbol)) return 'openssl';
  if (symbol.startsWith('node::') || symbol.startsWith('node_')) return 'node C++';
  if (symbol.startsWith('uv_') || symbol.startsWith('uv__')) return 'libuv';
  if (/^(__|_int_|malloc|free|cfree|mem|str|pthread|epoll|write|read|clock_gettime|syscall|futex)/.test(symbol)) return 'libc';
  return 'other native';
}

if (values.perf) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.data') && f.includes(values.match)).sort()) {
    const report = spawnSync('perf', ['report', '-i', join(dir, file), '--stdio', '--sort', 'sym', '-F', 'overhead,sym', '--percent-limit', '0'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const count = /# Samples: ([\d.]+)([KM]?)/.exec(report.stdout);
    const samples = count ? Number(count[1]) * (count[2] === 'K' ? 1e3 : count[2] === 'M' ? 1e6 : 1) : 0;
    const byCategory = new Map<string, number>();
    const bySymbol: [string, number][] = [];
    for (const line of report.stdout.split('\n')) {
      const m = /^\s+([\d.]+)%\s+\[[.k]\]\s+(.*?)\s*$/.exec(line);
      if (!m) continue;
      const share = Number(m[1]);
      const category = perfCategory(m[2]);
      byCategory.set(category, (byCategory.get(category) ?? 0) + share);
      bySymbol.push([`${m[2].slice(0, 90)}  [${category}]`, share]);
    }
    const top = Number(values.top);
    console.log(`\n== ${file}: ${samples} samples (user-space CPU at 999 Hz, ${(samples / 0.999).toFixed(0)} ms)`);
    for (const [c, share] of [...byCategory].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${share.toFixed(1).padStart(5)}%  ${c}`);
    console.log('  top symbols:');
    for (const [sym, share] of bySymbol.sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${share.toFixed(2).padStart(6)}%  ${sym}`);
  }
  process.exit(0);
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && f.includes(values.match)).sort()) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const from = profile.startTime + Number(values['skip-ms']) * 1000;
  const to = profile.endTime - Number(values['tail-ms']) * 1000;
  const selfBySource = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  /** Inclusive time of a source file: a sample counts once for every file on its stack. */
  const inclusiveBySource = new Map<string, number>();
  let t = profile.startTime;
  let busy = 0;
  let window = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (t < from || t > to) continue;
    window += dt;
    const node = byId.get(profile.samples[i]) as ProfileNode;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') continue;
    busy += dt;
    const source = sourceOf(node.callFrame);
    selfBySource.set(source, (selfBySource.get(source) ?? 0) + dt);
    const fn = `${name || '(anonymous)'}  ${source}`;
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const s = sourceOf((byId.get(id) as ProfileNode).callFrame);
      if (!seen.has(s)) {
        seen.add(s);
        inclusiveBySource.set(s, (inclusiveBySource.get(s) ?? 0) + dt);
      }
    }
  }
  const pct = (ms: number) => `${((100 * ms) / busy).toFixed(1).padStart(5)}%`;
  const top = Number(values.top);
  console.log(`\n== ${file}: window ${window.toFixed(0)} ms, busy ${busy.toFixed(0)} ms (${((100 * busy) / window).toFixed(0)}% of the window)`);
  console.log('  self time by source:');
  for (const [s, ms] of [...selfBySource].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${pct(ms)} ${ms.toFixed(0).padStart(6)} ms  ${s}`);
  console.log('  inclusive time by source (webraft, examples):');
  for (const [s, ms] of [...inclusiveBySource].filter(([s]) => /^(src|examples|generated)\//.test(s)).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`    ${pct(ms)} ${ms.toFixed(0).padStart(6)} ms  ${s}`);
  }
  console.log('  self time by function:');
  for (const [f, ms] of [...selfByFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`    ${pct(ms)} ${ms.toFixed(0).padStart(6)} ms  ${f}`);
}
