/**
 * The dialing side of the TCP transport: one connection from this node to one
 * peer, carrying this node's messages to it (the peer answers on its own
 * connection to us). See docs/tcp-protocol.md.
 *
 * A dropped connection is not a membership change: the instance never calls
 * `leave()`. It dials when created, redials (with backoff) while it has frames
 * to send, and stays idle otherwise, so a connection the peer closed as idle
 * is reopened by the next write.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { NodeInstance } from '../../api/node-instance.js';
import type { RaftInterface } from '../../api/raft-interface.js';
import { encodeFrame } from '../../binary/index.js';
import { describe, tryParseTcpAddress, type TcpAddress } from './address.js';
import { TcpTransportError } from './errors.js';
import { HandshakeReader, handshakeFrame, parseAnswer, PROTOCOL_NAME, PROTOCOL_VERSION } from './hello.js';
import type { TcpTransportOptions } from './options.js';
import { certificateNames, TLS_VERSION } from './security.js';
import { toTransport, type TcpTransport } from './transport.js';

type DialState = 'idle' | 'connecting' | 'open';

/** Socket errors that mean "the peer is not reachable right now": normal while it restarts, not reported. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/** The connection to one peer (`host:port`): dials it, authenticates, writes frames in order. */
export class TcpNodeInstance extends NodeInstance {
  /** The transport's configuration (shared with this node's other instances and its server). */
  readonly transport: TcpTransport;
  /** Frames dropped: the send queue was full, the peer refused us, or the address is invalid. */
  dropped = 0;
  /** Bytes of the dropped frames. */
  droppedBytes = 0;
  /** The last refusal or failure, for diagnostics (also reported through `onError`). */
  lastError: TcpTransportError | null = null;
  /** Frames written to the socket, the socket writes that carried them, and their bytes. */
  readonly sent = { frames: 0, writes: 0, bytes: 0 };
  /** Connections opened (hello accepted). */
  connects = 0;

  private readonly target: TcpAddress | null;
  private state: DialState = 'idle';
  private socket: Socket | null = null;
  /** Frames waiting for the connection or for the socket to drain, oldest first. */
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private readonly flushNow = () => this.flush();
  private retryTimer: NodeJS.Timeout | null = null;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  /** Earliest time of the next dial after a failure (ms since epoch). */
  private nextDialAt = 0;

  /**
   * @param transport the node's {@link TcpTransport} (or options to make one;
   *   share one transport between a node's instances and its server).
   * @param dialAddress where to connect, when not the peer's own address (a
   *   proxy or port forward in front of it). The hello, the answer and the
   *   certificate are still checked against `address`.
   */
  constructor(address: string, raft: RaftInterface, transport: TcpTransport | TcpTransportOptions, dialAddress: string = address) {
    super(address, raft);
    this.transport = toTransport(transport);
    this.backoffMs = this.transport.limits.minBackoffMs;
    this.target = tryParseTcpAddress(address) ? tryParseTcpAddress(dialAddress) : null;
    if (!this.target) {
      this.fail(new TcpTransportError('INVALID_ADDRESS', `not dialing ${describe(dialAddress)} for ${describe(address)}: not a host:port address`, address));
    } else if (!tryParseTcpAddress(raft.address)) {
      this.target = null;
      this.fail(new TcpTransportError('INVALID_ADDRESS', `this node's address ${describe(raft.address)} is not host:port, so it cannot say hello to ${address}`, address));
    } else {
      this.dial();
    }
  }

  /** True while the connection is open and accepted by the peer. */
  get isConnected(): boolean {
    return this.state === 'open';
  }

  /** Bytes waiting to be sent: queued here plus buffered in the socket. */
  get pendingBytes(): number {
    return this.queuedBytes + (this.state === 'open' && this.socket ? this.socket.writableLength : 0);
  }

  /**
   * Encodes the payload as one frame and queues it; frames go out in order,
   * several per socket write when they are written in the same tick.
   * @throws WireError when the payload does not encode under the transport's `wireLimits`.
   */
  override write(payload: object): void {
    if (this.ended) return;
    const frame = encodeFrame(payload, { limits: this.transport.limits.wireLimits });
    if (!this.target) return this.drop(frame.length);
    this.enqueue(frame);
  }

  override end(): void {
    super.end();
    this.clearTimers();
    this.queue = [];
    this.queuedBytes = 0;
    this.socket?.destroy();
    this.socket = null;
    this.state = 'idle';
  }

  // ------------------------------------------------------------------ sending

  /**
   * Queues a frame within `maxQueuedBytes` (queue plus socket buffer): the
   * oldest queued frames make room first; a frame that still does not fit
   * is dropped, unless nothing else waits (a frame larger than the bound
   * alone still goes out). Raft retransmits whatever is dropped.
   */
  private enqueue(frame: Uint8Array): void {
    const budget = this.transport.limits.maxQueuedBytes;
    const inSocket = this.state === 'open' && this.socket ? this.socket.writableLength : 0;
    while (this.queue.length > 0 && this.queuedBytes + inSocket + frame.length > budget) {
      const oldest = this.queue.shift() as Uint8Array;
      this.queuedBytes -= oldest.length;
      this.drop(oldest.length);
    }
    if (inSocket > 0 && inSocket + frame.length > budget) return this.drop(frame.length);
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (this.state === 'open') this.scheduleFlush();
    else if (this.state === 'idle' && this.retryTimer === null) this.dialWhenAllowed();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushNow);
  }

  /** Writes every queued frame in one socket write, unless the socket asks to wait for 'drain'. */
  private flush(): void {
    this.flushScheduled = false;
    const socket = this.socket;
    if (this.state !== 'open' || socket === null || this.queue.length === 0 || socket.writableNeedDrain) return;
    const data = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queuedBytes);
    this.sent.frames += this.queue.length;
    this.sent.writes++;
    this.sent.bytes += data.length;
    this.queue = [];
    this.queuedBytes = 0;
    socket.write(data);
  }

  private drop(bytes: number): void {
    this.dropped++;
    this.droppedBytes += bytes;
  }

  // ------------------------------------------------------------------ connecting

  private dialWhenAllowed(): void {
    const wait = this.nextDialAt - Date.now();
    if (wait <= 0) return this.dial();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.queue.length > 0) this.dial();
    }, wait);
  }

  private dial(): void {
    if (this.ended || this.target === null || this.state !== 'idle') return;
    this.state = 'connecting';
    const { host, port } = this.target;
    const prepared = this.transport.security;
    let socket: Socket;
    let readyEvent: 'connect' | 'secureConnect';
    if (prepared.security.mode === 'insecure-plaintext') {
      socket = netConnect({ host, port });
      readyEvent = 'connect';
    } else {
      socket = tlsConnect({ host, port, ...this.tlsOptions() });
      readyEvent = 'secureConnect';
    }
    this.socket = socket;
    socket.setNoDelay(true);
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = null;
      if (this.socket !== socket) return;
      this.fail(new TcpTransportError('HANDSHAKE_TIMEOUT', `${this.address} did not complete TLS and accept our hello within ${this.transport.limits.handshakeTimeoutMs} ms`, this.address));
      socket.destroy();
    }, this.transport.limits.handshakeTimeoutMs);
    this.handshakeTimer.unref?.();

    let opened = false;
    let secured = false;
    const reader = new HandshakeReader();
    socket.once(readyEvent, () => {
      secured = true;
      if (this.socket !== socket) return;
      const hello = { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, cluster: this.transport.clusterId, from: this.raft.address, to: this.address } as const;
      socket.write(handshakeFrame(hello));
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      if (opened) {
        this.fail(new TcpTransportError('PROTOCOL_VIOLATION', `${this.address} sent data after its accept`, this.address));
        socket.destroy();
        return;
      }
      try {
        const frame = reader.push(chunk);
        if (frame === null) return;
        opened = this.onAnswer(frame);
      } catch (error) {
        this.fail(asTransportError(error, this.address));
      }
      if (!opened) socket.destroy();
    });
    socket.on('drain', this.flushNow);
    socket.on('error', (error: Error & { code?: string }) => {
      if (this.socket !== socket) return;
      if (error instanceof TcpTransportError) this.fail(error);
      // Before TLS completes, "unreachable" is normal while the peer restarts; after it, a reset means the peer refused us.
      else if (!UNREACHABLE.has(error.code ?? '') || (secured && !opened)) this.fail(tlsFailure(error, this.address));
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.state = 'idle';
      if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
      this.handshakeTimer = null;
      if (this.ended) return;
      if (opened) {
        // An open connection ended (the peer restarted, or closed it as idle): redial at once when needed.
        this.backoffMs = this.transport.limits.minBackoffMs;
        this.nextDialAt = 0;
      } else {
        const { maxBackoffMs } = this.transport.limits;
        this.nextDialAt = Date.now() + this.backoffMs * (0.5 + Math.random() / 2);
        this.backoffMs = Math.min(this.backoffMs * 2, maxBackoffMs);
      }
      if (this.queue.length > 0 && this.retryTimer === null) this.dialWhenAllowed();
    });
  }

  /** Handles the server's answer; returns true when the connection is open. */
  private onAnswer(frame: Uint8Array): boolean {
    const answer = parseAnswer(frame);
    if (!answer.ok) {
      // A refusal is a configuration problem: report it, drop what waits, and wait the longest backoff.
      this.fail(new TcpTransportError(answer.code ?? 'BAD_HELLO', `${this.address} refused our hello: ${answer.message ?? ''}`, this.address));
      this.backoffMs = this.transport.limits.maxBackoffMs;
      for (const queued of this.queue) this.drop(queued.length);
      this.queue = [];
      this.queuedBytes = 0;
      return false;
    }
    if (answer.cluster !== this.transport.clusterId) {
      throw new TcpTransportError('CLUSTER_MISMATCH', `${this.address} is in cluster ${describe(answer.cluster)}, not ${describe(this.transport.clusterId)}`, this.address);
    }
    if (answer.from !== this.address) {
      throw new TcpTransportError('WRONG_NODE', `dialed ${this.address} but ${describe(answer.from)} answered`, this.address);
    }
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.state = 'open';
    this.connects++;
    this.backoffMs = this.transport.limits.minBackoffMs;
    this.lastError = null;
    this.scheduleFlush();
    return true;
  }

  private tlsOptions(): ConnectionOptions {
    const prepared = this.transport.security;
    const security = prepared.security;
    if (security.mode === 'mtls') {
      const identity = security.identity ?? 'uri';
      return {
        secureContext: prepared.clientContext ?? undefined,
        minVersion: TLS_VERSION,
        rejectUnauthorized: true,
        checkServerIdentity: (_host: string, cert: PeerCertificate) =>
          certificateNames(cert, this.address, identity)
            ? undefined
            : new TcpTransportError('IDENTITY_MISMATCH', `the certificate of ${this.address} does not name it (identity '${identity}')`, this.address),
      };
    }
    const keyId = prepared.dialKeyId as string;
    const key = prepared.pskKeys.get(keyId) as Buffer;
    return {
      minVersion: TLS_VERSION,
      pskCallback: () => ({ psk: key, identity: `${keyId}@${this.raft.address}` }),
      // PSK authenticates both sides; there is no certificate to check.
      checkServerIdentity: () => undefined,
    };
  }

  private fail(error: TcpTransportError): void {
    this.lastError = error;
    this.transport.report(error);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.retryTimer = null;
    this.handshakeTimer = null;
  }
}

/** A TLS or socket error as a transport error: TLS failures name the likely causes. */
function tlsFailure(error: Error & { code?: string }, peer: string): TcpTransportError {
  const code = error.code ?? '';
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT|SIGNATURE|ISSUER|VERIFY/.test(code)) {
    return new TcpTransportError('TLS_HANDSHAKE_FAILED', `TLS with ${peer} failed (${code}: ${error.message}); check that both use the same security mode and trust each other's CA or hold the same cluster secret`, peer);
  }
  return new TcpTransportError('TLS_HANDSHAKE_FAILED', `connection to ${peer} failed during the handshake (${code || error.message})`, peer);
}

function asTransportError(error: unknown, peer: string): TcpTransportError {
  if (error instanceof TcpTransportError) return error.peer ? error : new TcpTransportError(error.code, error.message, peer, error.remote);
  return new TcpTransportError('PROTOCOL_VIOLATION', String(error), peer);
}
