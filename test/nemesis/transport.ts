/**
 * How a nemesis node talks to its peers: the one place that builds the TCP
 * transport, so switching it (to TLS or a pre-shared key, once webraft/node
 * requires one) is a change here only.
 *
 * Each node dials each peer through the harness's proxy for that directed link
 * (`route`), not the peer's own port: the proxies are byte pipes the nemesis
 * stalls or resets to partition the network, whatever the bytes are (plain
 * frames today, TLS records later). The raft addresses stay the peers' real
 * `127.0.0.1:port`, where each node's TcpRaftServer listens.
 */
import { NodeInstance, type RaftInterface } from 'webraft';
import { TcpNodeInstance, TcpRaftServer } from 'webraft/node';

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
    // The inner instance is never registered with the raft: it only dials
    // `route` and sends the hello naming this node, then the frames.
    this.connection = new TcpNodeInstance(`${route.host}:${route.port}`, raft);
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
  const server = new TcpRaftServer(raft);
  await server.listen();
  return server;
}
