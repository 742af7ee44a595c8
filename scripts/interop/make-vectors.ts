/**
 * Writes the golden wire vectors to test/vectors/: for every fixture in
 * fixtures.ts, `<name>.json` (canonical proto3 JSON payload, 2-space indented)
 * and `<name>.binpb` (protobuf binary of the same webraft.v1.Message).
 *
 * The vectors come from the harness's reference implementations
 * (reference.ts: hand-written canonical JSON + ts-proto binary), not from
 * src/wire or src/binary, so the product is checked against them rather than
 * the other way round. test/interop/vectors.test.ts regenerates them in memory
 * and fails when the committed files differ; the Go and Python tests check that
 * independent protobuf implementations agree with every vector.
 *
 *   npx tsx scripts/interop/make-vectors.ts          # rewrite test/vectors
 *   npx tsx scripts/interop/make-vectors.ts --check  # exit 1 when stale
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtures } from './fixtures.js';
import { referenceBinary, referencePayload, repoRoot } from './reference.js';

export const vectorsDir = join(repoRoot, 'test', 'vectors');

/** File name -> exact file contents, for every golden vector. */
export function buildVectorFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const { name, message } of fixtures) {
    if (files.has(`${name}.json`)) throw new Error(`duplicate fixture name ${name}`);
    files.set(`${name}.json`, Buffer.from(`${JSON.stringify(referencePayload(message), null, 2)}\n`, 'utf8'));
    files.set(`${name}.binpb`, Buffer.from(referenceBinary(message)));
  }
  return files;
}

/** Names of files that differ between `dir` and a fresh generation (missing, extra or changed). */
export function staleVectorFiles(dir = vectorsDir): string[] {
  const want = buildVectorFiles();
  const have = readdirSync(dir).filter((f) => f.endsWith('.json') || f.endsWith('.binpb'));
  const stale = have.filter((f) => !want.has(f));
  for (const [f, bytes] of want) {
    let current: Buffer | undefined;
    try {
      current = readFileSync(join(dir, f));
    } catch {
      current = undefined;
    }
    if (!current || !current.equals(bytes)) stale.push(f);
  }
  return stale.sort();
}

function main() {
  if (process.argv.includes('--check')) {
    const stale = staleVectorFiles();
    if (stale.length) {
      console.error(`stale vectors (run npx tsx scripts/interop/make-vectors.ts): ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log('test/vectors is up to date');
    return;
  }
  mkdirSync(vectorsDir, { recursive: true });
  for (const f of readdirSync(vectorsDir)) if (f.endsWith('.json') || f.endsWith('.binpb')) rmSync(join(vectorsDir, f));
  const files = buildVectorFiles();
  for (const [f, bytes] of files) writeFileSync(join(vectorsDir, f), bytes);
  console.log(`wrote ${files.size / 2} vectors (${files.size} files) to test/vectors`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) main();
