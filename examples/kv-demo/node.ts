/**
 * One key-value node: a Raft node over TCP with durable FileStorage, and a
 * small HTTP API on 127.0.0.1.
 *
 *   npx tsx examples/kv-demo/node.ts --id 127.0.0.1:7001 \
 *     --peers 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003 --http 8001 --data /tmp/kv1
 *
 * HTTP API (any node answers every request; no redirects):
 *   PUT    /kv/:key   body = value -> 200 {index, term}  (propose; a follower forwards to the leader)
 *   GET    /kv/:key               -> 200 {key, value} | 404  (linearizable: readBarrier asks the leader)
 *   DELETE /kv/:key               -> 200 {index, term}
 *   GET    /status                -> raft.status() + {keys, pid, http}
 *   GET    /kv                    -> 200 {lastApplied, entries: [[key, value], ...]} in the order keys
 *                                    were first applied; local state, no read barrier (--debug only)
 * With --debug, FileStorage's repairs at load are logged (`storage: ...`), and a `set` applied for a key that already holds that value also
 * counts `__dup__/<key>` (the crash test writes each key once, so any such key
 * means a command was applied twice).
 * Errors: 503 {code, message} (NO_LEADER, TIMEOUT, LEADERSHIP_LOST, ...).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { RaftInterface, type NodeInstance } from 'webraft';
import { FileStorage, TcpNodeInstance, TcpRaftServer } from 'webraft/node';

type Command = { op: 'set'; key: string; value: string } | { op: 'del'; key: string };

const { values: args } = parseArgs({
  options: {
    id: { type: 'string' },
    peers: { type: 'string' },
    http: { type: 'string' },
    data: { type: 'string' },
    'snapshot-threshold': { type: 'string', default: '1000' },
    debug: { type: 'boolean', default: false },
  },
});
if (!args.id || !args.peers || !args.http || !args.data) {
  console.error('usage: node.ts --id host:port --peers a,b,c --http PORT --data DIR [--snapshot-threshold N] [--debug]');
  process.exit(2);
}

class KvRaft extends RaftInterface {
  readonly map = new Map<string, string>();

  createInstance(address: string): NodeInstance {
    return new TcpNodeInstance(address, this);
  }

  override createSnapshot(): Record<string, string> {
    return Object.fromEntries(this.map);
  }
}

const log = (...parts: unknown[]) => console.log(new Date().toISOString(), args.id, ...parts);

// --debug: log what FileStorage repairs at load (torn tails, leftover files of an interrupted rewrite).
const storage = new FileStorage(args.data, args.debug ? { logger: { warn: (message) => log('storage:', message) } } : {});
const raft = new KvRaft(args.id, {
  peers: args.peers.split(',').filter(Boolean),
  storage,
  snapshotThreshold: Number(args['snapshot-threshold']),
});

raft.listen('apply', (entry) => {
  const command = entry.command as Command;
  if (command.op === 'set') {
    if (args.debug && raft.map.get(command.key) === command.value) {
      const dup = `__dup__/${command.key}`;
      raft.map.set(dup, String(Number(raft.map.get(dup) ?? 0) + 1));
    }
    raft.map.set(command.key, command.value);
  }
  else if (command.op === 'del') raft.map.delete(command.key);
});
raft.listen('refresh', (snapshot) => {
  raft.map.clear();
  for (const [key, value] of Object.entries((snapshot.data ?? {}) as Record<string, string>)) raft.map.set(key, value);
  log(`restored snapshot at index ${snapshot.index} (${raft.map.size} keys)`);
});
raft.listen('state changed', (state) => log(`now ${state} (term ${raft.currentTerm})`));
raft.listen('error', (error: unknown) => log('error:', error));

const peerServer = new TcpRaftServer(raft);
await peerServer.listen();

// ------------------------------------------------------------------ HTTP API

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

function readBody(req: IncomingMessage, limit = 1 << 20): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(Object.assign(new Error('body too large'), { status: 413, code: 'TOO_LARGE' }));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/status' && req.method === 'GET') {
    return send(res, 200, { ...raft.status(), keys: raft.map.size, pid: process.pid, http: Number(args.http) });
  }
  if (url.pathname === '/kv' && req.method === 'GET' && args.debug) {
    return send(res, 200, { lastApplied: raft.status().lastApplied, entries: [...raft.map] });
  }
  const match = /^\/kv\/(.+)$/.exec(url.pathname);
  if (!match) return send(res, 404, { code: 'NOT_FOUND', message: 'try /kv/:key or /status' });
  const key = decodeURIComponent(match[1]);
  switch (req.method) {
    case 'GET':
      await raft.readBarrier();
      if (!raft.map.has(key)) return send(res, 404, { code: 'NOT_FOUND', message: `no key ${key}` });
      return send(res, 200, { key, value: raft.map.get(key) });
    case 'PUT':
      return send(res, 200, await raft.propose({ op: 'set', key, value: await readBody(req) } satisfies Command));
    case 'DELETE':
      return send(res, 200, await raft.propose({ op: 'del', key } satisfies Command));
    default:
      return send(res, 405, { code: 'METHOD_NOT_ALLOWED', message: `${req.method} not supported` });
  }
}

const http = createServer((req, res) => {
  handle(req, res).catch((error: { code?: string; message?: string; status?: number }) => {
    if (!res.headersSent) send(res, error.status ?? 503, { code: error.code ?? 'ERROR', message: error.message ?? String(error) });
  });
});
await new Promise<void>((resolve) => http.listen(Number(args.http), '127.0.0.1', resolve));
log(`raft on ${args.id}, http on 127.0.0.1:${args.http}, data in ${args.data}`);

// ------------------------------------------------------------------ shutdown

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
