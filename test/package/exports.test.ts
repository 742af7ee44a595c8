import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The published shape of the package: `npm run build` output under dist/,
 * reached through the `exports` map (self-reference by name), in ESM and
 * CommonJS, and a browser bundle of the main entry with no Node built-ins.
 * `npm test` builds before running vitest.
 */
const built = existsSync('dist/index.js') && existsSync('dist/index.cjs');

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { encoding: 'utf8' });
}

describe.skipIf(!built)('package exports (dist/)', () => {
  it('ESM: webraft, webraft/binary and webraft/node resolve through the exports map', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `const m = await import('webraft'); const b = await import('webraft/binary'); const n = await import('webraft/node');
       console.log([typeof m.RaftInterface, typeof m.NodeInstance, typeof m.MemoryStorage, typeof b.encode, typeof b.decode, typeof b.FrameDecoder, typeof n.FileStorage].join(','));`,
    ]);
    expect(out.trim()).toBe('function,function,function,function,function,function,function');
  });

  it('CommonJS: require works for every entry', () => {
    const out = node(['-e', `const m = require('webraft'); const b = require('webraft/binary'); const n = require('webraft/node'); console.log([typeof m.RaftInterface, typeof b.encode, typeof n.FileStorage].join(','))`]);
    expect(out.trim()).toBe('function,function,function');
  });

  it('a subclass built from dist elects itself and applies a proposal', () => {
    const out = node([
      '--input-type=module',
      '-e',
      `import { RaftInterface, NodeInstance } from 'webraft';
       class Solo extends RaftInterface { createInstance(a) { return new NodeInstance(a, this); } }
       const raft = new Solo('a');
       const applied = [];
       raft.listen('apply', (entry) => { applied.push(entry.command); });
       const result = await raft.propose({ hello: 'world' });
       console.log(JSON.stringify({ leader: raft.isLeader, applied, index: result.index > 0 }));
       raft.end();`,
    ]);
    expect(JSON.parse(out)).toEqual({ leader: true, applied: [{ hello: 'world' }], index: true });
  });

  it('the main entry bundles for the browser without Node built-ins', async () => {
    const result = await build({ entryPoints: ['dist/index.js'], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/from ["']node:/);
    expect(code).not.toMatch(/require\(["'](fs|net|path|node:)/);
  });
});

describe('package.json', () => {
  it('declares sideEffects false and an exports map for ., ./binary and ./node', async () => {
    const pkg = JSON.parse(execFileSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json"))'], { encoding: 'utf8' }));
    expect(pkg.name).toBe('webraft');
    expect(pkg.sideEffects).toBe(false);
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './binary', './node']));
  });
});
