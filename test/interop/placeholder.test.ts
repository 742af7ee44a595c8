import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('interop prerequisites', () => {
  it('buf can build the schema image the interop tests use', () => {
    const out = execFileSync('npx', ['buf', 'build', '-o', '-#format=json'], { encoding: 'utf8' });
    expect(JSON.parse(out).file.some((f: { name: string }) => f.name === 'webraft/v1/raft.proto')).toBe(true);
  });
});
