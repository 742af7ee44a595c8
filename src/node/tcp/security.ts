/**
 * The TLS side of the transport: secure contexts for each mode, the PSK key
 * ids, and the check that a certificate names the Raft address its holder
 * claims (docs/tcp-protocol.md, "Security modes").
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext, type PeerCertificate, type SecureContext, type SecureContextOptions } from 'node:tls';
import { parseTcpAddress } from './address.js';
import type { MutualTlsSecurity, PskSecurity, TcpSecurity } from './options.js';

/** TLS 1.3 only: no downgrade, one handshake round trip, and (for PSK) a DHE exchange that gives forward secrecy. */
export const TLS_VERSION = 'TLSv1.3';

/** The URI a certificate carries as subjectAltName to name the node at `address` (identity `'uri'`). */
export function identityUri(address: string): string {
  return `webraft://${address}`;
}

/**
 * Names a PSK secret without revealing it: the lowercase hex of the first 8
 * bytes of SHA-256(secret). The dialer's PSK identity is `<key id>@<its address>`.
 */
export function pskKeyId(secret: Uint8Array): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

/** A security option prepared for use: contexts built once, PSK keys by id. */
export interface PreparedSecurity {
  readonly security: TcpSecurity;
  /** Options for the server's secure context (mtls), or for its PSK-only context. */
  readonly serverContextOptions: SecureContextOptions | null;
  /** The dialers' secure context (mtls), or null. */
  readonly clientContext: SecureContext | null;
  /** PSK: every accepted secret by key id; the dialing one is `dialKeyId`. */
  readonly pskKeys: ReadonlyMap<string, Buffer>;
  readonly dialKeyId: string | null;
}

/** Builds the contexts for a (checked) security option. Throws what node:tls throws for bad PEM. */
export function prepareSecurity(security: TcpSecurity): PreparedSecurity {
  switch (security.mode) {
    case 'mtls': {
      const options = mtlsContextOptions(security);
      return { security, serverContextOptions: options, clientContext: createSecureContext(options), pskKeys: new Map(), dialKeyId: null };
    }
    case 'psk':
      return { security, serverContextOptions: { minVersion: TLS_VERSION }, clientContext: null, ...pskKeys(security) };
    case 'insecure-plaintext':
      return { security, serverContextOptions: null, clientContext: null, pskKeys: new Map(), dialKeyId: null };
  }
}

function mtlsContextOptions(security: MutualTlsSecurity): SecureContextOptions {
  const pem = (value: string | Uint8Array) => (typeof value === 'string' ? value : Buffer.from(value));
  const cas = Array.isArray(security.ca) ? security.ca : [security.ca];
  return { minVersion: TLS_VERSION, ca: cas.map(pem), cert: pem(security.cert), key: pem(security.key) };
}

function pskKeys(security: PskSecurity): { pskKeys: Map<string, Buffer>; dialKeyId: string } {
  const keys = new Map<string, Buffer>();
  for (const secret of [security.secret, ...(security.previousSecrets ?? [])]) keys.set(pskKeyId(secret), Buffer.from(secret));
  return { pskKeys: keys, dialKeyId: pskKeyId(security.secret) };
}

/** Splits a PSK identity `<key id>@<address>`; null when it has another shape. */
export function parsePskIdentity(identity: string): { keyId: string; address: string } | null {
  const at = identity.indexOf('@');
  if (at !== 16 || !/^[0-9a-f]{16}$/.test(identity.slice(0, 16))) return null;
  return { keyId: identity.slice(0, 16), address: identity.slice(17) };
}

/**
 * True when a certificate names `address`: with identity `'uri'` it carries the
 * subjectAltName `URI:webraft://<address>`; with `'host'` a DNS or IP
 * subjectAltName matches the address's host.
 *
 * Node prints subjectAltName as `TYPE:value` entries joined by `, ` and quotes
 * any value holding a comma or a quote, so an exact entry match cannot be
 * faked by a value that embeds `, URI:...` (addresses hold neither character).
 */
export function certificateNames(cert: X509Certificate | PeerCertificate, address: string, identity: 'uri' | 'host'): boolean {
  if (identity === 'uri') {
    const san = cert instanceof X509Certificate ? cert.subjectAltName : cert.subjectaltname;
    if (typeof san !== 'string') return false;
    const wanted = `URI:${identityUri(address)}`;
    return san.split(', ').some((entry) => entry === wanted);
  }
  const x509 = cert instanceof X509Certificate ? cert : new X509Certificate(cert.raw);
  const { host } = parseTcpAddress(address);
  return isIP(host) ? x509.checkIP(host) !== undefined : x509.checkHost(host, { subject: 'never' }) !== undefined;
}
