import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/** `npm run check:gen` is what keeps generated/ honest: it must fail on any hand edit. */
describe('check:gen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webraft-gen-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const check = (target: string) => spawnSync('bash', ['scripts/check-gen.sh', target], { encoding: 'utf8' });

  it('passes on an untouched copy of generated/ and fails after a hand edit of any generated file', () => {
    const copy = join(dir, 'generated');
    cpSync('generated', copy, { recursive: true });
    expect(check(copy).status).toBe(0);
    // ts-proto's output, and the wire tables made by scripts/gen-wire.ts (with the core's types beside them).
    for (const file of ['raft.ts', 'raft.wire.ts']) {
      const edited = join(dir, `edited-${file}`);
      cpSync('generated', edited, { recursive: true });
      appendFileSync(join(edited, 'webraft/v1', file), '\n// hand edit\n');
      const result = check(edited);
      expect(result.status, file).toBe(1);
      expect(result.stderr).toContain('stale or was edited by hand');
    }
  }, 120_000);
});
