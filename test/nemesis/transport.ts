/**
 * How a nemesis node talks to its peers: the one place that builds the TCP
 * transport. Nodes authenticate with TLS-PSK, as a deployment would: the
 * harness makes one cluster secret per run and hands it to every node process
 * in WEBRAFT_NEMESIS_PSK (hex).
 *
 * Each node dials each peer through the harness's proxy for that directed link
 * (`route`), not the peer's own port: the proxies are byte pipes the nemesis
 * stalls or resets to partition the network, whatever the bytes are (plain
 * frames today, TLS records later). The raft addresses stay the peers' real
 * `127.0.0.1:port`, where each node's TcpRaftServer listens.
 */
import { NodeInstance, type RaftInterface } from 'webraft';
import { TcpNodeInstance, TcpRaftServer, TcpTransport } from 'webraft/node';

/** The environment variable that carries the cluster secret to node processes. */
export const PSK_ENV = 'WEBRAFT_NEMESIS_PSK';

let shared: TcpTransport | null = null;

/** This node process's transport (one per process, shared by its dialers and its server). */
function transport(): TcpTransport {
  if (shared) return shared;
  const secret = process.env[PSK_ENV];
  if (!secret) throw new Error(`${PSK_ENV} is not set: node processes get the cluster secret from the harness`);
  shared = new TcpTransport({ clusterId: 'nemesis', security: { mode: 'psk', secret: Buffer.from(secret, 'hex') } });
  return shared;
}

/** Where to dial to reach a peer: the proxy of the link from this node to it. */
export interface PeerRoute {
  host: string;
  port: number;
}

/**
 * How long the node waits for a peer before a request (proposal, read, change)
 * it sent gives up with TIMEOUT. Below the harness's client timeout, so the
 * node's own answer usually arrives first.
 */
const MESSAGE_TIMEOUT_MS = 1500;

/** The connection to one peer, dialed through its link's proxy. */
class ProxiedPeer extends NodeInstance {
  private readonly connection: TcpNodeInstance;

  constructor(address: string, raft: RaftInterface, route: PeerRoute) {
    super(address, raft);
    // The inner instance is never registered with the raft: it dials `route` (the link's proxy) and
    // authenticates as this node to `address`, then sends the frames.
    this.connection = new TcpNodeInstance(address, raft, transport(), `${route.host}:${route.port}`);
  }

  override get messageTimeout(): number {
    return MESSAGE_TIMEOUT_MS;
  }

  override write(payload: object): void {
    this.connection.write(payload);
  }

  override end(): void {
    super.end();
    this.connection.end();
  }
}

/** A peer the harness has no route to (an address outside the cluster's slots): what is sent is lost. */
class UnroutablePeer extends NodeInstance {
  override write(): void {}
}

/** The NodeInstance for `address`, dialing through `route` (or dropping everything without one). */
export function createPeer(address: string, raft: RaftInterface, route: PeerRoute | undefined): NodeInstance {
  return route ? new ProxiedPeer(address, raft, route) : new UnroutablePeer(address, raft);
}

/** Listens on the raft's own address for what peers send (through their proxies). */
export async function listenForPeers(raft: RaftInterface): Promise<{ close(): Promise<void> }> {
  const server = new TcpRaftServer(raft, transport());
  await server.listen();
  return server;
}
