/**
 * One nemesis node: a register store (key -> string) replicated by WebRaft
 * over TCP (transport.ts, through the harness's link proxies), FileStorage on
 * disk (fdatasync), the nemesis's DriftClock, and a line-JSON client protocol
 * (protocol.ts) on 127.0.0.1. Started by the harness (node-process.ts), never
 * by hand; it prints `READY {"clientPort": N}` once it serves.
 *
 * Operations (any node answers; followers forward to the leader):
 * - read: `readBarrier()` then the local value (null when absent); with
 *   `--unsafe-local-reads` (the planted bug) the barrier is skipped;
 * - write: `propose({t: 'w', k, v})`;
 * - cas: `propose({t: 'c', k, e, v, id})`; the state machine decides at apply
 *   time (swap iff the register holds `e`), so every node decides the same,
 *   and this node reports what its own apply decided for `id`.
 */
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { RaftInterface, type NodeInstance } from 'webraft';
import { FileStorage } from 'webraft/node';
import { DriftClock } from './drift-clock.js';
import { LineReader, type NodeStatus, type Request, type Response } from './protocol.js';
import { createPeer, listenForPeers, type PeerRoute } from './transport.js';

const { values: args } = parseArgs({
  options: {
    id: { type: 'string' },
    peers: { type: 'string', default: '' },
    data: { type: 'string' },
    /** `address=port,...`: the proxy port of the link from this node to each peer. */
    routes: { type: 'string', default: '' },
    'snapshot-threshold': { type: 'string', default: '500' },
    /** heartbeatFrequency, and heartbeatTimeout = electionTimeout (ms). */
    'heartbeat-ms': { type: 'string', default: '100' },
    'election-timeout-ms': { type: 'string', default: '1000' },
    'lease-reads': { type: 'boolean', default: false },
    'unsafe-local-reads': { type: 'boolean', default: false },
  },
});
if (!args.id || !args.data) {
  console.error('usage: server.ts --id 127.0.0.1:PORT --data DIR [--peers a,b,c] [--routes addr=port,...] [--lease-reads] [--unsafe-local-reads]');
  process.exit(2);
}
const address = args.id;

const routes = new Map<string, PeerRoute>();
for (const item of args.routes.split(',').filter(Boolean)) {
  const at = item.lastIndexOf('=');
  routes.set(item.slice(0, at), { host: '127.0.0.1', port: Number(item.slice(at + 1)) });
}

type Command = { t: 'w'; k: string; v: string } | { t: 'c'; k: string; e: string | null; v: string; id: string };

const log = (...parts: unknown[]) => console.log(new Date().toISOString(), address, ...parts);

class RegisterRaft extends RaftInterface {
  readonly registers = new Map<string, string>();
  /** Ids of this process's cas proposals still waiting, and what their apply decided. */
  readonly casWaiting = new Set<string>();
  readonly casDecided = new Map<string, boolean>();

  createInstance(peer: string): NodeInstance {
    return createPeer(peer, this, routes.get(peer));
  }

  override createSnapshot(): Record<string, string> {
    return Object.fromEntries(this.registers);
  }

  override get heartbeatFrequency(): number {
    return Number(args['heartbeat-ms']);
  }

  override get heartbeatTimeout(): number {
    return Number(args['election-timeout-ms']);
  }

  override get electionTimeout(): number {
    return Number(args['election-timeout-ms']);
  }
}

const clock = new DriftClock();
const storage = new FileStorage(args.data);
const raft = new RegisterRaft(address, {
  peers: args.peers.split(',').filter(Boolean),
  storage,
  clock,
  snapshotThreshold: Number(args['snapshot-threshold']),
  leaseReads: args['lease-reads'],
  maxClockDrift: 0.25,
});

raft.listen('apply', (entry) => {
  const command = entry.command as Command;
  if (command.t === 'w') raft.registers.set(command.k, command.v);
  else if (command.t === 'c') {
    const swapped = (raft.registers.get(command.k) ?? null) === command.e;
    if (swapped) raft.registers.set(command.k, command.v);
    if (raft.casWaiting.has(command.id)) raft.casDecided.set(command.id, swapped);
  }
});
raft.listen('refresh', (snapshot) => {
  raft.registers.clear();
  for (const [key, value] of Object.entries((snapshot.data ?? {}) as Record<string, string>)) raft.registers.set(key, value);
  log(`restored snapshot at index ${snapshot.index} (${raft.registers.size} keys)`);
});
raft.listen('state changed', (state) => log(`now ${state} (term ${raft.currentTerm})`));
raft.listen('join', (peer) => log(`member joined: ${peer}`));
raft.listen('leave', (peer) => log(`member left: ${peer}`));
raft.listen('error', (error: unknown) => {
  // Storage failed (or a listener threw): the node ended. Exit so the harness sees it.
  log('error:', error);
  process.exit(70);
});

const peerServer = await listenForPeers(raft);

// ------------------------------------------------------------------ client protocol

const processId = `${process.pid}-${Date.now().toString(36)}`;
let casSequence = 0;

async function casOnce(key: string, expected: string | null, value: string): Promise<Response> {
  const id = `${processId}-${++casSequence}`;
  raft.casWaiting.add(id);
  try {
    await raft.propose({ t: 'c', k: key, e: expected, v: value, id } satisfies Command);
    const swapped = raft.casDecided.get(id);
    // Applied through a snapshot rather than by this node's apply: the outcome is not known here.
    if (swapped === undefined) return { id: 0, ok: false, code: 'CAS_OUTCOME_UNKNOWN', message: 'the entry reached this node inside a snapshot' };
    return { id: 0, ok: true, swapped };
  } finally {
    raft.casWaiting.delete(id);
    raft.casDecided.delete(id);
  }
}

function status(): NodeStatus {
  const s = raft.status();
  return {
    address: s.address, state: s.state, term: s.term, leader: s.leader,
    commitIndex: s.commitIndex, lastApplied: s.lastApplied, snapshotIndex: s.snapshotIndex,
    voters: s.voters, learners: s.learners, pid: process.pid, clock: clock.describe(),
  };
}

async function handle(request: Request): Promise<Response> {
  const id = request.id;
  switch (request.type) {
    case 'read':
      if (!args['unsafe-local-reads']) await raft.readBarrier();
      return { id, ok: true, value: raft.registers.get(request.key) ?? null };
    case 'write':
      await raft.propose({ t: 'w', k: request.key, v: request.value } satisfies Command);
      return { id, ok: true };
    case 'cas':
      return { ...(await casOnce(request.key, request.expected, request.value)), id };
    case 'status':
      return { id, ok: true, status: status() };
    case 'clock':
      clock.adjust(request.rate, request.jumpMs);
      log(`clock: rate ${request.rate.toFixed(3)}, jumped ${request.jumpMs.toFixed(0)} ms, now ${clock.describe().offsetMs.toFixed(0)} ms ahead`);
      return { id, ok: true };
    case 'join':
      await raft.join(request.address);
      return { id, ok: true };
    case 'leave':
      await raft.leave(request.address);
      return { id, ok: true };
    case 'dump': {
      const entries = [...raft.registers].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return { id, ok: true, dump: { lastApplied: raft.status().lastApplied, entries } };
    }
    default:
      return { id, ok: false, code: 'BAD_REQUEST', message: `unknown request type` };
  }
}

function serve(socket: Socket): void {
  const reader = new LineReader();
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const reply = (response: Response) => {
    if (!socket.destroyed) socket.write(JSON.stringify(response) + '\n');
  };
  socket.on('data', (chunk: Buffer) => {
    const lines = reader.push(chunk);
    if (lines === null) return socket.destroy();
    for (const line of lines) {
      let request: Request;
      try {
        request = JSON.parse(line) as Request;
      } catch {
        return socket.destroy();
      }
      handle(request).then(reply, (error: { code?: string; message?: string }) =>
        reply({ id: request.id, ok: false, code: error.code ?? 'ERROR', message: error.message ?? String(error) }),
      );
    }
  });
}

const clientServer = createServer(serve);
await new Promise<void>((resolve) => clientServer.listen(0, '127.0.0.1', resolve));
const clientPort = (clientServer.address() as { port: number }).port;
log(`raft on ${address}, clients on 127.0.0.1:${clientPort}, data in ${args.data}${args['lease-reads'] ? ', lease reads' : ''}${args['unsafe-local-reads'] ? ', UNSAFE LOCAL READS (planted bug)' : ''}`);
console.log(`READY ${JSON.stringify({ clientPort })}`);

process.on('SIGTERM', () => {
  raft.end();
  void Promise.all([peerServer.close(), storage.close()]).finally(() => process.exit(0));
});
