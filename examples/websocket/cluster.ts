/**
 * A 3-node WebRaft cluster in one process over real WebSocket connections
 * (the `ws` package) on 127.0.0.1. Run: npx tsx examples/websocket/cluster.ts
 *
 * Each node runs a WebSocketServer; its address is its URL. For every peer it
 * opens one client socket (URL query `?from=<own address>`) and sends JSON
 * text on it; whatever arrives on an accepted socket goes to
 * `raft.gotData(from, JSON.parse(text))`, and the library drops any message
 * whose `from` disagrees with the connection's. A closed socket is redialed
 * (it is not a membership change: no leave()).
 */
import WebSocket, { WebSocketServer } from 'ws';
import { NodeInstance, RaftInterface } from 'webraft';

class WsNodeInstance extends NodeInstance {
  private socket: WebSocket | null = null;
  private retry: NodeJS.Timeout | null = null;

  constructor(address: string, raft: RaftInterface) {
    super(address, raft);
    this.connect();
  }

  private connect(): void {
    const socket = new WebSocket(`${this.address}?from=${encodeURIComponent(this.raft.address)}`);
    this.socket = socket;
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      if (this.ended || this.socket !== socket) return;
      this.retry = setTimeout(() => this.connect(), 200); // redial; Raft resends what was lost
    });
  }

  override write(payload: object): void {
    // Dropped while not open: Raft retries. (webraft/binary `encode(payload)` works here too.)
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(payload));
  }

  override end(): void {
    super.end();
    if (this.retry) clearTimeout(this.retry);
    this.socket?.terminate();
  }
}

class WsRaft extends RaftInterface {
  createInstance(address: string): NodeInstance {
    return new WsNodeInstance(address, this);
  }
}

/** Accepts peers' sockets for `raft`; the sender is the `from` the dialer named. */
function serve(server: WebSocketServer, raft: RaftInterface): void {
  server.on('connection', (socket, request) => {
    const from = new URL(request.url ?? '/', 'ws://x').searchParams.get('from');
    if (!from) return socket.close(1008, 'missing ?from=');
    socket.on('message', (data) => {
      let payload: unknown;
      try {
        payload = JSON.parse(data.toString());
      } catch (error) {
        return void raft.emit('invalid message', from, error);
      }
      raft.gotData(from, payload);
    });
  });
}

// Bind three servers on free ports first: a node's address is its URL.
const servers = await Promise.all(
  [0, 1, 2].map(
    () =>
      new Promise<WebSocketServer>((resolve) => {
        const server: WebSocketServer = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve(server));
      }),
  ),
);
const addresses = servers.map((s) => `ws://127.0.0.1:${(s.address() as { port: number }).port}`);
const logs = new Map<string, string[]>();
const nodes = addresses.map((address, i) => {
  const raft = new WsRaft(address, { peers: addresses });
  logs.set(address, []);
  raft.listen('apply', (entry) => void logs.get(address)?.push(`${entry.index}:${JSON.stringify(entry.command)}`));
  serve(servers[i], raft);
  return raft;
});

const started = Date.now();
while (!nodes.some((n) => n.isLeader)) {
  if (Date.now() - started > 10_000) throw new Error('no leader elected');
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const leader = nodes.find((n) => n.isLeader) as WsRaft;
console.log(`leader: ${leader.address} (term ${leader.currentTerm})`);

// Propose through every node: followers forward to the leader.
const commands = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((word, i) => ({ set: word, by: i % 3 }));
for (const command of commands) {
  const { index, term } = await nodes[command.by].propose(command);
  console.log(`committed ${JSON.stringify(command)} at index ${index} (term ${term})`);
}
await Promise.all(nodes.map((n) => n.readBarrier())); // every node has applied everything committed so far

for (const node of nodes) console.log(`${node.address} applied: ${logs.get(node.address)?.join(' ')}`);
const same = new Set([...logs.values()].map((l) => l.join())).size === 1;
console.log(same ? 'all nodes applied the same log' : 'LOGS DIFFER');

for (const node of nodes) node.end();
for (const server of servers) server.close();
process.exit(same ? 0 : 1);
