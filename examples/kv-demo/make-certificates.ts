/**
 * Makes a cluster CA and a certificate per node for the TCP transport's
 * mutual TLS (see docs/certificates.md):
 *
 *   npx tsx examples/kv-demo/make-certificates.ts --dir ./certs \
 *     --nodes 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 [--days 365]
 *
 * writes ca.pem, ca.key and for each node <host>_<port>.pem/.key. With
 * `--ca-dir DIR` it signs with the CA in DIR (ca.pem, ca.key) instead of
 * making one: to add a node or renew certificates.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeCa, makeNodeCertificate } from './certificates.js';

const { values } = parseArgs({ options: { dir: { type: 'string' }, nodes: { type: 'string' }, days: { type: 'string', default: '365' }, 'ca-dir': { type: 'string' } } });
if (!values.dir || !values.nodes) {
  console.error('usage: make-certificates.ts --dir DIR --nodes host:port,host:port,... [--days 365] [--ca-dir DIR_WITH_ca.pem_AND_ca.key]');
  process.exit(2);
}
const days = Number(values.days);
const addresses = values.nodes.split(',').filter(Boolean);
mkdirSync(values.dir, { recursive: true });
const ca = values['ca-dir'] ? { ca: join(values['ca-dir'], 'ca.pem'), caKey: join(values['ca-dir'], 'ca.key') } : await makeCa(values.dir, days);
for (const address of addresses) {
  const cert = await makeNodeCertificate(values.dir, ca, address, days);
  console.log(`${address}: ${cert.cert} ${cert.key}`);
}
console.log(`CA: ${ca.ca} (keep ${ca.caKey} offline; nodes need only ca.pem and their own pair)`);
