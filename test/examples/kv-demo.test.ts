import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.js';

describe('kv demo', () => {
  it('survives a leader kill with 0 lost writes (3 processes over mutual TLS)', async () => {
    const { code, output } = await runScript('examples/kv-demo/demo.ts', ['--writes', '150', '--duration', '6'], 50_000);
    if (code !== 0) console.log(output);
    expect(code).toBe(0);
    expect(output).toMatch(/peers authenticated with mutual TLS \(CA and 3 certificates/);
    expect(output).toMatch(/LOST acknowledged writes\s+0\b/);
    expect(output).toMatch(/SIGKILL leader/);
    expect(output).toMatch(/caught up/);
    expect(output).toContain('OK: 0 lost writes');
    const acked = /writes acknowledged\s+(\d+)/.exec(output);
    expect(Number(acked?.[1])).toBeGreaterThan(100);
  }, 60_000);
});
