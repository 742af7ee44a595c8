/**
 * The accepting side of the TCP transport: peers' connections to this node,
 * each carrying one peer's messages to it. See docs/tcp-protocol.md.
 *
 * Every connection is bounded before it is trusted: at most `maxConnections`
 * open and `maxHandshakes` unauthenticated, TLS plus hello within
 * `handshakeTimeoutMs`, at most MAX_HELLO_BYTES read before the hello is
 * accepted. After that, a frame's declared length is checked against
 * `maxFrameBytes` before anything of it is buffered, and a connection that
 * delivers no complete frame for `idleTimeoutMs` is closed.
 */
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { RaftInterface } from '../../api/raft-interface.js';
import { decode, FrameDecoder } from '../../binary/index.js';
import { describe, parseTcpAddress } from './address.js';
import { TcpTransportError } from './errors.js';
import { HandshakeReader, handshakeFrame, parseHello, PROTOCOL_NAME, PROTOCOL_VERSION, type HelloAnswer } from './hello.js';
import type { TcpTransportOptions } from './options.js';
import { certificateNames, parsePskIdentity } from './security.js';
import { toTransport, type TcpTransport } from './transport.js';

/** Where a {@link TcpRaftServer} listens. */
export interface TcpListenOptions {
  /** Interface to bind. Default: the host of the raft's address. */
  host?: string;
  /** Port to bind. Default: the port of the raft's address (0 picks a free one). */
  port?: number;
}

/** Counters of a server, for diagnostics and tests. */
export interface TcpServerStats {
  /** Connections whose hello was accepted. */
  accepted: number;
  /** Connections closed before or at the hello, by code (TOO_MANY_CONNECTIONS, HANDSHAKE_TIMEOUT, CLUSTER_MISMATCH, ...). */
  refused: Record<string, number>;
  /** Accepted connections closed for idleness (`idleTimeoutMs` without a complete frame). */
  idleClosed: number;
  /** Frames handed to the raft. */
  frames: number;
  /** Data chunks read from accepted connections (one per socket read). */
  reads: number;
}

/** How long a refused connection may take to read its refusal before it is closed. */
const REFUSAL_LINGER_MS = 1000;

interface Connection {
  readonly raw: Socket;
  /** `ip:port` of the remote end. */
  readonly remote: string;
  /** The socket carrying the protocol: `raw` in plaintext mode, the TLS socket otherwise (null until TLS completes). */
  channel: Socket | null;
  state: 'handshake' | 'open' | 'closing';
  /** When the state began (ms since epoch). */
  since: number;
  /** When the last complete frame arrived. */
  lastFrameAt: number;
  /** The authenticated Raft address of the peer, once its hello was accepted. */
  peer: string | null;
  /** TLS-PSK: the address in the dialer's PSK identity. */
  pskAddress: string | null;
  reader: HandshakeReader | null;
  decoder: FrameDecoder | null;
}

/** Accepts peers' connections and feeds their messages to `raft.gotData()`. */
export class TcpRaftServer {
  readonly transport: TcpTransport;
  readonly stats: TcpServerStats = { accepted: 0, refused: {}, idleClosed: 0, frames: 0, reads: 0 };
  private readonly netServer: Server;
  private readonly tlsServer: TlsServer | null;
  private readonly connections = new Set<Connection>();
  /** Connections whose TLS handshake is running, by remote `ip:port` (to find the record again on 'secureConnection'). */
  private readonly tlsPending = new Map<string, Connection>();
  /** The open connection of each authenticated peer: a newer one replaces it. */
  private readonly byPeer = new Map<string, Connection>();
  private readonly pskAddresses = new WeakMap<TLSSocket, string>();
  private handshaking = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopSecurityUpdates: (() => void) | null = null;
  private closed = false;

  /**
   * @param transport the node's {@link TcpTransport} (or options to make one;
   *   share one transport between a node's instances and its server).
   */
  constructor(
    readonly raft: RaftInterface,
    transport: TcpTransport | TcpTransportOptions,
    private readonly listenOptions: TcpListenOptions = {},
  ) {
    this.transport = toTransport(transport);
    this.netServer = createNetServer((raw) => this.admit(raw));
    this.tlsServer = this.createTlsServer();
  }

  /** Connections open now (handshaking or not). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Connections that have not completed TLS and the hello. */
  get handshakeCount(): number {
    return this.handshaking;
  }

  /** Bytes buffered for incomplete hellos and frames over all connections. */
  get bufferedBytes(): number {
    let total = 0;
    for (const c of this.connections) total += (c.reader?.pendingBytes ?? 0) + (c.decoder?.pendingBytes ?? 0);
    return total;
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    const own = parseTcpAddress(this.raft.address);
    const host = this.listenOptions.host ?? own.host;
    const port = this.listenOptions.port ?? own.port;
    if (this.transport.security.security.mode === 'insecure-plaintext') {
      this.transport.report(new TcpTransportError('INSECURE_PLAINTEXT', `listening on ${host}:${port} without TLS: anyone who can reach it can pose as any member and forge messages`, this.raft.address));
    }
    const { handshakeTimeoutMs, idleTimeoutMs } = this.transport.limits;
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(5, Math.min(handshakeTimeoutMs, idleTimeoutMs) / 4));
    this.sweepTimer.unref?.();
    return new Promise((resolve, reject) => {
      this.netServer.once('error', reject);
      this.netServer.listen(port, host, () => {
        this.netServer.off('error', reject);
        // Later errors (a failed accept when file descriptors run out) must not end the process.
        this.netServer.on('error', (error: Error & { code?: string }) => {
          this.transport.report(new TcpTransportError('ACCEPT_FAILED', `${host}:${port}: ${error.code ?? ''} ${error.message}`, this.raft.address));
        });
        const address = this.netServer.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    this.stopSecurityUpdates?.();
    for (const c of this.connections) c.raw.destroy();
    return new Promise((resolve) => this.netServer.close(() => resolve()));
  }

  // ------------------------------------------------------------------ accepting

  private createTlsServer(): TlsServer | null {
    const prepared = this.transport.security;
    if (prepared.security.mode === 'insecure-plaintext') return null;
    const server =
      prepared.security.mode === 'mtls'
        ? createTlsServer({ ...prepared.serverContextOptions, requestCert: true, rejectUnauthorized: true })
        : createTlsServer({ ...prepared.serverContextOptions, pskCallback: (socket, identity) => this.pskKey(socket, identity) });
    server.on('secureConnection', (socket: TLSSocket) => this.onSecure(socket));
    server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      this.count('TLS_HANDSHAKE_FAILED');
      this.transport.report(new TcpTransportError('TLS_HANDSHAKE_FAILED', `TLS from ${remote} failed (${error.code ?? ''}: ${error.message})`, undefined, remote));
    });
    this.stopSecurityUpdates = this.transport.onSecurityChange(() => {
      const options = this.transport.security.serverContextOptions;
      if (options && this.transport.security.security.mode === 'mtls') server.setSecureContext(options);
    });
    return server;
  }

  /** TLS-PSK: the key for a dialer's identity `<key id>@<address>`, or null (the handshake fails). */
  private pskKey(socket: TLSSocket, identity: string): Buffer | null {
    const parsed = parsePskIdentity(identity);
    const key = parsed ? this.transport.security.pskKeys.get(parsed.keyId) : undefined;
    if (!parsed || !key) {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      this.count('PSK_UNKNOWN_KEY');
      this.transport.report(new TcpTransportError('PSK_UNKNOWN_KEY', `${remote} offered PSK identity ${describe(identity)}, whose key id matches none of our secrets (another cluster secret?)`, undefined, remote));
      return null;
    }
    this.pskAddresses.set(socket, parsed.address);
    return key;
  }

  private admit(raw: Socket): void {
    const remote = `${raw.remoteAddress}:${raw.remotePort}`;
    raw.on('error', () => {}); // 'close' follows
    const { maxConnections, maxHandshakes } = this.transport.limits;
    let refusal: TcpTransportError | null = null;
    if (this.closed) refusal = null;
    else if (this.connections.size >= maxConnections) refusal = new TcpTransportError('TOO_MANY_CONNECTIONS', `closed a connection from ${remote}: ${maxConnections} connections are open (maxConnections)`, undefined, remote);
    else if (this.handshaking >= maxHandshakes) refusal = new TcpTransportError('TOO_MANY_HANDSHAKES', `closed a connection from ${remote}: ${maxHandshakes} connections are handshaking (maxHandshakes)`, undefined, remote);
    if (this.closed || refusal) {
      if (refusal) {
        this.count(refusal.code);
        this.transport.report(refusal);
      }
      raw.destroy();
      return;
    }
    const now = Date.now();
    const connection: Connection = { raw, remote, channel: null, state: 'handshake', since: now, lastFrameAt: now, peer: null, pskAddress: null, reader: new HandshakeReader(), decoder: null };
    this.connections.add(connection);
    this.handshaking++;
    raw.setNoDelay(true);
    raw.on('close', () => this.forget(connection));
    if (this.tlsServer === null) {
      this.attach(connection, raw);
    } else {
      this.tlsPending.set(remote, connection);
      this.tlsServer.emit('connection', raw);
    }
  }

  private onSecure(socket: TLSSocket): void {
    const connection = this.tlsPending.get(`${socket.remoteAddress}:${socket.remotePort}`);
    if (connection === undefined || connection.state !== 'handshake') return void socket.destroy();
    this.tlsPending.delete(connection.remote);
    // tls.Server already refused unverified certificates; check again rather than trust that.
    if (this.transport.security.security.mode === 'mtls' && !socket.authorized) {
      this.refuse(connection, new TcpTransportError('TLS_HANDSHAKE_FAILED', `${connection.remote}: certificate not verified (${String(socket.authorizationError)})`, undefined, connection.remote));
      return;
    }
    connection.pskAddress = this.pskAddresses.get(socket) ?? null;
    this.attach(connection, socket);
  }

  private attach(connection: Connection, channel: Socket): void {
    connection.channel = channel;
    channel.on('error', () => {});
    channel.on('close', () => connection.raw.destroy());
    channel.on('data', (chunk: Buffer) => this.onData(connection, chunk));
  }

  private forget(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    if (connection.state === 'handshake') this.handshaking--;
    this.tlsPending.delete(connection.remote);
    if (connection.peer !== null && this.byPeer.get(connection.peer) === connection) this.byPeer.delete(connection.peer);
    connection.channel?.destroy();
    connection.reader = null;
    connection.decoder = null;
  }

  // ------------------------------------------------------------------ reading

  private onData(connection: Connection, chunk: Buffer): void {
    if (connection.state === 'open') return this.onFrames(connection, chunk);
    if (connection.state !== 'handshake' || connection.reader === null) return;
    let frame: Uint8Array | null;
    try {
      frame = connection.reader.push(chunk);
    } catch (error) {
      return this.refuse(connection, error as TcpTransportError);
    }
    if (frame !== null) this.onHello(connection, frame);
  }

  private onHello(connection: Connection, frame: Uint8Array): void {
    const own = this.raft.address;
    let claimed: string | undefined;
    try {
      const hello = parseHello(frame);
      claimed = hello.from;
      if (hello.cluster !== this.transport.clusterId) {
        throw new TcpTransportError('CLUSTER_MISMATCH', `${hello.from} is in cluster ${describe(hello.cluster)}, this node in ${describe(this.transport.clusterId)}`);
      }
      if (hello.to !== own) throw new TcpTransportError('WRONG_NODE', `${hello.from} meant to reach ${describe(hello.to)}, this is ${own}`);
      this.checkIdentity(connection, hello.from);
    } catch (error) {
      const refusal = error as TcpTransportError;
      return this.refuse(connection, new TcpTransportError(refusal.code, refusal.message, claimed, connection.remote));
    }
    const peer = claimed as string;
    this.send(connection, { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, cluster: this.transport.clusterId, from: own, ok: true });
    this.handshaking--;
    connection.state = 'open';
    connection.peer = peer;
    connection.since = connection.lastFrameAt = Date.now();
    connection.reader = null;
    connection.decoder = new FrameDecoder({ maxFrameBytes: this.transport.limits.maxFrameBytes });
    this.stats.accepted++;
    // One connection per peer: a newer hello means the older connection is dead (the peer redialed).
    const older = this.byPeer.get(peer);
    this.byPeer.set(peer, connection);
    older?.raw.destroy();
  }

  /** The authenticated identity must be the claimed address (mtls: certificate; psk: PSK identity). */
  private checkIdentity(connection: Connection, claimed: string): void {
    const security = this.transport.security.security;
    if (security.mode === 'mtls') {
      const cert = (connection.channel as TLSSocket).getPeerX509Certificate();
      const identity = security.identity ?? 'uri';
      if (!cert || !certificateNames(cert, claimed, identity)) {
        throw new TcpTransportError('IDENTITY_MISMATCH', `the certificate from ${connection.remote} does not name ${claimed}, the address its hello claims (identity '${identity}')`);
      }
    } else if (security.mode === 'psk' && connection.pskAddress !== claimed) {
      throw new TcpTransportError('IDENTITY_MISMATCH', `the PSK identity from ${connection.remote} names ${describe(connection.pskAddress)}, its hello claims ${claimed}`);
    }
  }

  private onFrames(connection: Connection, chunk: Buffer): void {
    const decoder = connection.decoder as FrameDecoder;
    this.stats.reads++;
    let frames: Uint8Array[];
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      // A broken stream cannot be resynchronised.
      const code = (error as { code?: string }).code === 'LIMIT_EXCEEDED' ? 'LIMIT_EXCEEDED' : 'PROTOCOL_VIOLATION';
      this.transport.report(new TcpTransportError(code, `closed the connection of ${connection.peer}: ${(error as Error).message}`, connection.peer ?? undefined, connection.remote));
      connection.raw.destroy();
      return;
    }
    if (frames.length === 0) return;
    connection.lastFrameAt = Date.now();
    const peer = connection.peer as string;
    const limits = this.transport.limits.wireLimits;
    for (const frame of frames) {
      this.stats.frames++;
      let payload: unknown;
      try {
        payload = decode(frame, { limits });
      } catch (error) {
        this.raft.emit('invalid message', peer, error);
        continue;
      }
      this.raft.gotData(peer, payload); // rejects a `from` other than the authenticated peer
    }
  }

  // ------------------------------------------------------------------ closing

  /** Reports a refusal, answers it with its code (the dialer reports it too) and closes. */
  private refuse(connection: Connection, error: TcpTransportError): void {
    this.count(error.code);
    this.transport.report(error);
    if (connection.state === 'handshake') this.handshaking--;
    connection.state = 'closing';
    connection.since = Date.now();
    connection.reader = null;
    const answer: HelloAnswer = { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, cluster: this.transport.clusterId, from: this.raft.address, ok: false, code: error.code, message: error.message };
    if (connection.channel === null) return void connection.raw.destroy();
    this.send(connection, answer);
    connection.channel.end();
  }

  private send(connection: Connection, answer: HelloAnswer): void {
    connection.channel?.write(handshakeFrame(answer));
  }

  /** Closes connections past their handshake deadline, idle ones, and refused ones that linger. */
  private sweep(): void {
    const now = Date.now();
    const { handshakeTimeoutMs, idleTimeoutMs } = this.transport.limits;
    for (const c of this.connections) {
      if (c.state === 'handshake' && now - c.since > handshakeTimeoutMs) {
        this.count('HANDSHAKE_TIMEOUT');
        this.transport.report(new TcpTransportError('HANDSHAKE_TIMEOUT', `closed ${c.remote}: no TLS and hello within ${handshakeTimeoutMs} ms`, undefined, c.remote));
        c.raw.destroy();
      } else if (c.state === 'open' && now - c.lastFrameAt > idleTimeoutMs) {
        this.stats.idleClosed++;
        // An idle peer is normal (it redials when it has something to send); a frame stalled halfway is not.
        if ((c.decoder?.pendingBytes ?? 0) > 0) {
          this.transport.report(new TcpTransportError('IDLE_TIMEOUT', `closed the connection of ${c.peer}: a frame stalled for ${idleTimeoutMs} ms`, c.peer ?? undefined, c.remote));
        }
        c.raw.destroy();
      } else if (c.state === 'closing' && now - c.since > REFUSAL_LINGER_MS) {
        c.raw.destroy();
      }
    }
  }

  private count(code: string): void {
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
  }
}
