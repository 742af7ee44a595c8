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

  it('passes on an untouched copy of generated/ and fails after a hand edit', () => {
    const copy = join(dir, 'generated');
    cpSync('generated', copy, { recursive: true });
    expect(check(copy).status).toBe(0);
    appendFileSync(join(copy, 'webraft/v1/raft.ts'), '\n// hand edit\n');
    const edited = check(copy);
    expect(edited.status).toBe(1);
    expect(edited.stderr).toContain('stale or was edited by hand');
  }, 60_000);
});
