/**
 * A small TCP transport for Node: one outbound connection per peer for what
 * this node sends, and one listening server for what peers send to it.
 *
 * Wire format: length-delimited frames (webraft/binary `encodeFrame`). The
 * first frame on every connection is a hello naming the dialer's address
 * (UTF-8 `webraft-hello/1 <address>`); every later frame is one protobuf
 * `webraft.v1.Message`. The server hands each message to
 * `raft.gotData(helloAddress, payload)`, so the library's sender check drops
 * any message whose `from` differs from the address the connection claimed.
 *
 * The hello is an identity claim, not authentication: run this on a trusted
 * network (here: 127.0.0.1) or put TLS with client certificates in front.
 *
 * A dropped connection is not a membership change: the instance reconnects
 * with exponential backoff and never calls `leave()`. While disconnected,
 * writes wait in a small bounded queue and the oldest are dropped when it is
 * full; Raft retransmits what matters.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { NodeInstance } from '../api/node-instance.js';
import type { RaftInterface } from '../api/raft-interface.js';
import { decode, encodeFrame, FrameDecoder, maxBinaryBytes } from '../binary/index.js';
import { resolveLimits, type WireLimits } from '../wire/index.js';

const HELLO_PREFIX = 'webraft-hello/1 ';
const MAX_ADDRESS_LENGTH = 512;

/** Splits `host:port` (or `[v6]:port`) into its parts. */
export function parseTcpAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
  }
  return { host, port };
}

/** Options of {@link TcpNodeInstance}. */
export interface TcpNodeInstanceOptions {
  /** First reconnect delay in ms (doubles up to `maxBackoffMs`). Default 50. */
  minBackoffMs?: number;
  /** Longest reconnect delay in ms. Default 1000. */
  maxBackoffMs?: number;
  /** Most frames kept while disconnected; older ones are dropped. Default 256. */
  maxQueuedFrames?: number;
  /** Drop writes while this many bytes already wait in the socket's buffer. Default 8 MiB. */
  maxBufferedBytes?: number;
  /**
   * The raft's `wireLimits` (give the same value): frames are encoded under
   * them. With the defaults, a payload the raft allows beyond them (a longer
   * string, say) would fail to encode here and never reach the peer.
   */
  wireLimits?: Partial<WireLimits>;
}

/** The connection to one peer (`host:port`): dials it, keeps redialing, writes frames. */
export class TcpNodeInstance extends NodeInstance {
  private socket: Socket | null = null;
  private connected = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoff: number;
  private readonly queue: Uint8Array[] = [];
  private readonly opts: Required<Omit<TcpNodeInstanceOptions, 'wireLimits'>>;
  private readonly limits: Readonly<WireLimits>;
  /** Frames dropped because the peer was unreachable or slow (for diagnostics). */
  dropped = 0;

  constructor(address: string, raft: RaftInterface, options: TcpNodeInstanceOptions = {}) {
    super(address, raft);
    const { wireLimits, ...rest } = options;
    this.opts = { minBackoffMs: 50, maxBackoffMs: 1000, maxQueuedFrames: 256, maxBufferedBytes: 8 << 20, ...rest };
    this.limits = resolveLimits(wireLimits);
    this.backoff = this.opts.minBackoffMs;
    this.connect();
  }

  /** True while the outbound connection is up. */
  get isConnected(): boolean {
    return this.connected;
  }

  override write(payload: object): void {
    if (this.ended) return;
    const frame = encodeFrame(payload, { limits: this.limits });
    if (this.connected && this.socket) {
      if (this.socket.writableLength > this.opts.maxBufferedBytes) this.dropped++;
      else this.socket.write(frame);
      return;
    }
    this.queue.push(frame);
    if (this.queue.length > this.opts.maxQueuedFrames) {
      this.queue.shift();
      this.dropped++;
    }
  }

  override end(): void {
    super.end();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.queue.length = 0;
    this.socket?.destroy();
    this.socket = null;
    this.connected = false;
  }

  private connect(): void {
    if (this.ended) return;
    const { host, port } = parseTcpAddress(this.address);
    const socket = createConnection({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
      this.backoff = this.opts.minBackoffMs;
      socket.write(encodeFrame(new TextEncoder().encode(HELLO_PREFIX + this.raft.address)));
      for (const frame of this.queue.splice(0)) socket.write(frame);
    });
    socket.on('data', () => {}); // peers never send on this connection
    socket.on('error', () => {}); // 'close' follows; reconnect there
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.connected = false;
      if (this.ended) return;
      const delay = this.backoff * (0.5 + Math.random() / 2);
      this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, delay);
    });
  }
}

/** Options of {@link TcpRaftServer}. */
export interface TcpRaftServerOptions {
  /** Interface to bind. Default: the host of the raft's address. */
  host?: string;
  /** Port to bind. Default: the port of the raft's address. */
  port?: number;
  /** Largest accepted frame. Default: `maxBinaryBytes(wireLimits.maxPayloadBytes)` (64 MiB with the default limits). */
  maxFrameBytes?: number;
  /**
   * The raft's `wireLimits` (give the same value): messages are decoded under
   * them, so what the raft accepts also gets through the transport.
   */
  wireLimits?: Partial<WireLimits>;
}

/** Accepts peers' connections and feeds their messages to `raft.gotData()`. */
export class TcpRaftServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly limits: Readonly<WireLimits>;

  constructor(
    readonly raft: RaftInterface,
    private readonly options: TcpRaftServerOptions = {},
  ) {
    this.limits = resolveLimits(options.wireLimits);
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    const own = parseTcpAddress(this.raft.address);
    const host = this.options.host ?? own.host;
    const port = this.options.port ?? own.port;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder({ maxFrameBytes: this.options.maxFrameBytes ?? maxBinaryBytes(this.limits.maxPayloadBytes) });
    let from: string | null = null;
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy(); // a broken stream cannot be resynchronised
        return;
      }
      for (const frame of frames) {
        if (from === null) {
          const text = new TextDecoder().decode(frame);
          if (!text.startsWith(HELLO_PREFIX) || text.length > HELLO_PREFIX.length + MAX_ADDRESS_LENGTH) {
            socket.destroy();
            return;
          }
          from = text.slice(HELLO_PREFIX.length);
          continue;
        }
        let payload: unknown;
        try {
          payload = decode(frame, { limits: this.limits });
        } catch (error) {
          this.raft.emit('invalid message', from, error);
          continue;
        }
        this.raft.gotData(from, payload); // rejects a `from` other than the hello's
      }
    });
  }
}
