/** The kv example's security flags: the default secret file, the modes, the refusals. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultPskFile, ensurePskFile, readPskFile, securityFromFlags } from '../../examples/kv-demo/security.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('kv example security flags', () => {
  it('without flags: TLS-PSK with cluster.psk next to the data directory, created once and shared', () => {
    dir = mkdtempSync(join(tmpdir(), 'kv-security-'));
    const first = securityFromFlags({}, join(dir, 'n1'));
    const second = securityFromFlags({}, join(dir, 'n2'));
    expect(first.security.mode).toBe('psk');
    expect(first.description).toContain('just created');
    expect(second.description).not.toContain('just created');
    expect(first.security).toEqual(second.security);
    const file = defaultPskFile(join(dir, 'n1'));
    expect(file).toBe(join(dir, 'cluster.psk'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    expect(ensurePskFile(file)).toBe(false);
  });

  it('a secret file with two lines: the first is used, the second still accepted', () => {
    dir = mkdtempSync(join(tmpdir(), 'kv-security-'));
    const file = join(dir, 's.psk');
    writeFileSync(file, `# new, then old\n${'ab'.repeat(32)}\n${'cd'.repeat(16)}\n`);
    const { security } = securityFromFlags({ 'psk-file': file }, join(dir, 'n1'));
    expect(security).toEqual({ mode: 'psk', secret: new Uint8Array(Buffer.from('ab'.repeat(32), 'hex')), previousSecrets: [new Uint8Array(Buffer.from('cd'.repeat(16), 'hex'))] });
    writeFileSync(file, 'too short\n');
    expect(() => readPskFile(file)).toThrow(/32 to 128 hex digits/);
  });

  it('plaintext only when asked for by name; two modes at once or half of the TLS flags are refused', () => {
    dir = mkdtempSync(join(tmpdir(), 'kv-security-'));
    expect(securityFromFlags({ 'insecure-plaintext': true }, dir).description).toMatch(/INSECURE PLAINTEXT/);
    expect(() => securityFromFlags({ 'insecure-plaintext': true, 'psk-file': 'x' }, dir)).toThrow(/choose one/);
    expect(() => securityFromFlags({ 'tls-ca': 'ca.pem' }, dir)).toThrow(/needs all of/);
  });
});
