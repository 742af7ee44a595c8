/**
 * Per-directed-link TCP proxies: node `a` reaches node `b` only through the
 * proxy of link a->b (a listener on 127.0.0.1 owned by the harness, which
 * forwards to b's raft port), so the nemesis can cut any directed link:
 *
 * - `stall`: stop forwarding in both byte directions and leave connections
 *   open (as an iptables DROP: nothing arrives, the sender's buffers fill, and
 *   what was held is delivered late once the link heals);
 * - `reset`: close the link's connections and refuse new ones at once (as a
 *   REJECT: the sender sees the connection drop and redials with backoff).
 *
 * The proxies only pipe bytes, so they work with any transport (TLS too).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type LinkMode = 'up' | 'stall' | 'reset';

interface Pipe {
  from: Socket;
  to: Socket;
  flowing: boolean;
}

/** The proxy of one directed link. */
export class LinkProxy {
  port = 0;
  mode: LinkMode = 'up';
  /** Connections accepted, and bytes forwarded (both directions). */
  connections = 0;
  bytes = 0;
  private readonly server: Server;
  private readonly pipes = new Set<Pipe>();

  constructor(
    readonly from: string,
    readonly to: string,
    private readonly targetPort: number,
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  set(mode: LinkMode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    for (const pipe of [...this.pipes]) {
      if (mode === 'reset') this.destroy(pipe);
      else if (mode === 'stall') this.stop(pipe);
      else this.flow(pipe);
    }
  }

  close(): Promise<void> {
    for (const pipe of [...this.pipes]) this.destroy(pipe);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.connections++;
    socket.on('error', () => {});
    if (this.mode === 'reset') {
      socket.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    upstream.on('error', () => {});
    socket.setNoDelay(true);
    upstream.setNoDelay(true);
    const pipe: Pipe = { from: socket, to: upstream, flowing: false };
    this.pipes.add(pipe);
    socket.on('close', () => this.destroy(pipe));
    upstream.on('close', () => this.destroy(pipe));
    socket.on('data', (chunk: Buffer) => (this.bytes += chunk.length));
    upstream.on('data', (chunk: Buffer) => (this.bytes += chunk.length));
    if (this.mode === 'up') this.flow(pipe);
    else this.stop(pipe);
  }

  private flow(pipe: Pipe): void {
    if (pipe.flowing) return;
    pipe.flowing = true;
    pipe.from.pipe(pipe.to);
    pipe.to.pipe(pipe.from);
  }

  private stop(pipe: Pipe): void {
    pipe.flowing = false;
    pipe.from.unpipe(pipe.to);
    pipe.to.unpipe(pipe.from);
    pipe.from.pause();
    pipe.to.pause();
  }

  private destroy(pipe: Pipe): void {
    if (!this.pipes.delete(pipe)) return;
    pipe.from.destroy();
    pipe.to.destroy();
  }
}

/** Every directed link between the cluster's node slots. */
export class ProxyMesh {
  private readonly links = new Map<string, LinkProxy>();

  /** `raftPorts`: node address -> the port its raft server listens on. */
  constructor(private readonly raftPorts: ReadonlyMap<string, number>) {
    for (const [from] of raftPorts) {
      for (const [to, port] of raftPorts) {
        if (from !== to) this.links.set(linkName(from, to), new LinkProxy(from, to, port));
      }
    }
  }

  async start(): Promise<void> {
    await Promise.all([...this.links.values()].map((link) => link.listen()));
  }

  /** `--routes` for a node: each peer's address and the proxy port of the link from `from` to it. */
  routesFor(from: string): string {
    return [...this.links.values()]
      .filter((link) => link.from === from)
      .map((link) => `${link.to}=${link.port}`)
      .join(',');
  }

  /** Cuts exactly `cuts` (directed `[from, to]` pairs) with `mode`; every other link is up. */
  apply(cuts: readonly (readonly [string, string])[], mode: Exclude<LinkMode, 'up'>): void {
    const cut = new Set(cuts.map(([from, to]) => linkName(from, to)));
    for (const [name, link] of this.links) link.set(cut.has(name) ? mode : 'up');
  }

  healAll(): void {
    for (const link of this.links.values()) link.set('up');
  }

  /** Directed links currently cut. */
  cutLinks(): string[] {
    return [...this.links.values()].filter((link) => link.mode !== 'up').map((link) => `${link.from}>${link.to}`);
  }

  totalBytes(): number {
    let sum = 0;
    for (const link of this.links.values()) sum += link.bytes;
    return sum;
  }

  close(): Promise<void> {
    return Promise.all([...this.links.values()].map((link) => link.close())).then(() => undefined);
  }
}

function linkName(from: string, to: string): string {
  return `${from}>${to}`;
}
