/**
 * One key-value node: a Raft node over the authenticated TCP transport, with
 * durable FileStorage and a small HTTP API on 127.0.0.1 (see kv.ts).
 *
 *   npx tsx examples/kv-demo/node.ts --id 127.0.0.1:7001 \
 *     --peers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 --http 8001 --data /tmp/kv/n1
 *
 * Peers authenticate each other (security.ts): by default with TLS-PSK and a
 * secret file next to the data directory, created on first start; or mutual
 * TLS with --tls-ca/--tls-cert/--tls-key; plaintext only with
 * --insecure-plaintext. SIGHUP re-reads certificates or secrets.
 *
 * With --debug, FileStorage's repairs at load are logged (`storage: ...`) and
 * duplicate applies are counted (kv.ts). With --cpu-profile-dir DIR, SIGUSR2
 * starts and stops a CPU profile (profiling.ts). SIGTERM/SIGINT shut down cleanly.
 */
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { FileStorage, TcpRaftServer, TcpTransport } from 'webraft/node';
import { createKvHttpHandler, KvRaft } from './kv.js';
import { securityFlagOptions, securityFromFlags } from './security.js';

/**
 * Snapshot every this many applied entries by default. A snapshot of this
 * example copies, serializes and fsyncs the whole map, so its cost grows with
 * the number of keys while the log it frees grows with the threshold; see
 * docs/demo.md ("Snapshot threshold") for the measurement behind the value.
 */
const DEFAULT_SNAPSHOT_THRESHOLD = 100_000;

const { values: args } = parseArgs({
  options: {
    id: { type: 'string' },
    peers: { type: 'string' },
    http: { type: 'string' },
    data: { type: 'string' },
    'cluster-id': { type: 'string', default: 'kv-demo' },
    'snapshot-threshold': { type: 'string', default: String(DEFAULT_SNAPSHOT_THRESHOLD) },
    debug: { type: 'boolean', default: false },
    'cpu-profile-dir': { type: 'string' },
    ...securityFlagOptions,
  },
});
if (!args.id || !args.peers || !args.http || !args.data) {
  console.error(
    'usage: node.ts --id host:port --peers a,b,c --http PORT --data DIR [--cluster-id ID] [--snapshot-threshold N] [--debug]\n' +
      '               [--tls-ca FILE[,FILE] --tls-cert FILE --tls-key FILE | --psk-file FILE | --insecure-plaintext]',
  );
  process.exit(2);
}
const dataDir = args.data;

const log = (...parts: unknown[]) => console.log(new Date().toISOString(), args.id, ...parts);

const { security, description } = securityFromFlags(args, dataDir);
const transport = new TcpTransport({
  clusterId: args['cluster-id'],
  security,
  onError: (error) => log(`tcp ${error.code}: ${error.message}`),
});

// --debug: log what FileStorage repairs at load (torn tails, leftover files of an interrupted rewrite).
const storage = new FileStorage(dataDir, args.debug ? { logger: { warn: (message) => log('storage:', message) } } : {});
const raft = new KvRaft(args.id, { peers: args.peers.split(',').filter(Boolean), storage, snapshotThreshold: Number(args['snapshot-threshold']) }, transport, args.debug);
raft.listen('refresh', (snapshot) => log(`restored snapshot at index ${snapshot.index} (${raft.map.size} keys)`));
raft.listen('state changed', (state) => log(`now ${state} (term ${raft.currentTerm})`));
raft.listen('error', (error: unknown) => log('error:', error));

const peerServer = new TcpRaftServer(raft, transport);
await peerServer.listen();

const http = createServer({ keepAliveTimeout: 60_000 }, createKvHttpHandler(raft, { debug: args.debug, statusExtra: () => ({ pid: process.pid, http: Number(args.http), sent: raft.sentCounters(), received: { frames: peerServer.stats.frames, reads: peerServer.stats.reads }, storage: storage.stats }) }));
await new Promise<void>((resolve) => http.listen(Number(args.http), '127.0.0.1', resolve));
log(`raft on ${args.id} (${description}, cluster ${transport.clusterId}), http on 127.0.0.1:${args.http}, data in ${dataDir}`);

// ------------------------------------------------------------------ signals

// --cpu-profile-dir: SIGUSR2 starts a CPU profile, the next SIGUSR2 writes it (benchmarks).
if (args['cpu-profile-dir']) (await import('./profiling.js')).profileOnSignal(args['cpu-profile-dir'], log);

process.on('SIGHUP', () => {
  try {
    transport.setSecurity(securityFromFlags(args, dataDir).security);
    log('SIGHUP: reloaded certificates/secrets; new connections use them');
  } catch (error) {
    log('SIGHUP: reload failed, keeping the old ones:', (error as Error).message);
  }
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: shutting down`);
  raft.end();
  http.closeAllConnections();
  await Promise.all([peerServer.close(), new Promise((resolve) => http.close(resolve))]);
  await storage.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
