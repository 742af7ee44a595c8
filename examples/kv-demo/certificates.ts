/**
 * Makes a cluster CA and one certificate per node with `openssl`, for the
 * TCP transport's mutual TLS (docs/certificates.md explains every step; the
 * command line is make-certificates.ts; security.ts's mtlsSecurity() reads the
 * files into the transport's option). Each node certificate carries the
 * subjectAltNames `URI:webraft://<address>` (what the transport checks by
 * default) and the host as IP or DNS name.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = process.env.OPENSSL ?? 'openssl';

/** Files of one node's certificate. */
export interface NodeCertificate {
  address: string;
  cert: string;
  key: string;
}

/** What {@link makeClusterCertificates} wrote. */
export interface ClusterCertificates {
  ca: string;
  caKey: string;
  nodes: Map<string, NodeCertificate>;
}

/** The file name stem of an address's certificate: `127.0.0.1:7001` -> `127.0.0.1_7001`. */
export function certificateStem(address: string): string {
  return address.replace(/[[\]]/g, '').replace(/:/g, '_');
}

/** A CA in `dir` (ca.pem, ca.key): P-256, self-signed, valid `days`. */
export async function makeCa(dir: string, days = 365, name = 'WebRaft cluster CA'): Promise<{ ca: string; caKey: string }> {
  mkdirSync(dir, { recursive: true });
  const ca = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  await run(OPENSSL, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', caKey, '-out', ca, '-days', String(days), '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { ca, caKey };
}

/**
 * A certificate for the node at `address`, signed by the CA: subjectAltName
 * `URI:webraft://<address>` plus the host (IP or DNS), usable as TLS server
 * and client. Files go to `dir/<stem>.pem` and `.key`.
 */
export async function makeNodeCertificate(dir: string, ca: { ca: string; caKey: string }, address: string, days = 365): Promise<NodeCertificate> {
  const stem = join(dir, certificateStem(address));
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
  const hostSan = isIP(host) ? `IP:${host}` : `DNS:${host}`;
  const extensions = `${stem}.ext`;
  writeFileSync(
    extensions,
    [
      `subjectAltName=URI:webraft://${address},${hostSan}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
    ].join('\n') + '\n',
  );
  await run(OPENSSL, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${stem}.key`, '-out', `${stem}.csr`, '-subj', `/CN=${address}`]);
  await run(OPENSSL, [
    'x509', '-req', '-in', `${stem}.csr`, '-CA', ca.ca, '-CAkey', ca.caKey, '-set_serial', `0x${randomBytes(12).toString('hex')}`,
    '-days', String(days), '-extfile', extensions, '-out', `${stem}.pem`,
  ]);
  rmSync(`${stem}.csr`);
  rmSync(extensions);
  return { address, cert: `${stem}.pem`, key: `${stem}.key` };
}

/** A new CA in `dir` and a certificate for every address (made in parallel). */
export async function makeClusterCertificates(dir: string, addresses: string[], days = 365): Promise<ClusterCertificates> {
  const ca = await makeCa(dir, days);
  const certs = await Promise.all(addresses.map((address) => makeNodeCertificate(dir, ca, address, days)));
  return { ...ca, nodes: new Map(certs.map((c) => [c.address, c])) };
}

/** True when the openssl command runs. */
export async function opensslAvailable(): Promise<boolean> {
  try {
    await run(OPENSSL, ['version']);
    return true;
  } catch {
    return false;
  }
}
