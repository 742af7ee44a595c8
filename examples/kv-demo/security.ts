/**
 * How a kv node authenticates its peers, from its command-line flags:
 *
 *   --tls-ca FILE[,FILE] --tls-cert FILE --tls-key FILE   mutual TLS (certificates.ts makes them)
 *   --psk-file FILE                                      TLS-PSK; the file holds the cluster secret
 *                                                        as hex, one per line: the first is used,
 *                                                        the others are still accepted (rotation)
 *   --insecure-plaintext                                 no authentication at all (tests only)
 *
 * With none of them the node uses TLS-PSK with the secret file `cluster.psk`
 * next to its data directory (`--data /x/n1` -> `/x/cluster.psk`), and
 * creates that file with a fresh random secret if it is missing, as Erlang
 * does with its cookie: nodes whose data directories share a parent (a local
 * cluster) then share a secret with no setup, and on separate machines you
 * copy the one file. SIGHUP re-reads the files (certificate or secret rotation).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TcpSecurity } from 'webraft/node';

/** The security flags of node.ts. */
export interface SecurityFlags {
  'tls-ca'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'psk-file'?: string;
  'insecure-plaintext'?: boolean;
}

/** The parseArgs options of {@link SecurityFlags}. */
export const securityFlagOptions = {
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'psk-file': { type: 'string' },
  'insecure-plaintext': { type: 'boolean', default: false },
} as const;

/** The secret file used when no security flag is given. */
export function defaultPskFile(dataDir: string): string {
  return join(dirname(dataDir), 'cluster.psk');
}

/** Reads a secret file: hex secrets, one per line (blank lines and `#` comments ignored). */
export function readPskFile(file: string): Uint8Array[] {
  const secrets = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      if (!/^([0-9a-fA-F]{2}){16,64}$/.test(line)) throw new Error(`${file}: a secret must be 32 to 128 hex digits`);
      return new Uint8Array(Buffer.from(line, 'hex'));
    });
  if (secrets.length === 0) throw new Error(`${file} holds no secret`);
  return secrets;
}

/**
 * Creates `file` with a fresh 32-byte secret unless it exists. Atomic: the
 * secret is written to a temp file and hard-linked into place, so of several
 * nodes starting at once exactly one creates it and all read the same secret.
 * Returns true when this call created it.
 */
export function ensurePskFile(file: string): boolean {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    return false;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The mtls security option of the TCP transport from certificate files (CA files first). */
export function mtlsSecurity(caFiles: string[], certFile: string, keyFile: string): TcpSecurity {
  return {
    mode: 'mtls',
    ca: caFiles.map((file) => readFileSync(file, 'utf8')),
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
  };
}

/** The security option the flags ask for, and a description for the log. */
export function securityFromFlags(flags: SecurityFlags, dataDir: string): { security: TcpSecurity; description: string } {
  const tls = [flags['tls-ca'], flags['tls-cert'], flags['tls-key']];
  const chosen = [tls.some(Boolean), Boolean(flags['psk-file']), Boolean(flags['insecure-plaintext'])].filter(Boolean).length;
  if (chosen > 1) throw new Error('choose one of --tls-ca/--tls-cert/--tls-key, --psk-file and --insecure-plaintext');
  if (tls.some(Boolean)) {
    if (!tls.every(Boolean)) throw new Error('mutual TLS needs all of --tls-ca, --tls-cert and --tls-key');
    const cas = (flags['tls-ca'] as string).split(',').filter(Boolean);
    return { security: mtlsSecurity(cas, flags['tls-cert'] as string, flags['tls-key'] as string), description: `mutual TLS (${flags['tls-cert']})` };
  }
  if (flags['insecure-plaintext']) return { security: { mode: 'insecure-plaintext' }, description: 'INSECURE PLAINTEXT (no authentication)' };
  let file = flags['psk-file'];
  let created = false;
  if (!file) {
    file = defaultPskFile(dataDir);
    created = ensurePskFile(file);
  }
  const [secret, ...previousSecrets] = readPskFile(file);
  return { security: { mode: 'psk', secret, previousSecrets }, description: `TLS-PSK (secret in ${file}${created ? ', just created' : ''})` };
}
