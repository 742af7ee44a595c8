/**
 * Options of the TCP transport, their defaults and their validation. Every
 * limit has a default; docs/tcp-protocol.md lists them with the reasons.
 */
import { DEFAULT_WIRE_LIMITS, maxBinaryBytes, type WireLimits } from '../../binary/index.js';
import { TcpTransportError } from './errors.js';

/** PEM text or bytes, as node:tls takes them. */
export type Pem = string | Uint8Array;

/**
 * Mutual TLS (TLS 1.3): every node has a certificate signed by a CA the others
 * trust, and each side checks that the other's certificate names the Raft
 * address it claims (the dialer: the address it dialed; the server: the
 * address in the hello).
 */
export interface MutualTlsSecurity {
  mode: 'mtls';
  /** Trusted CA certificate(s). Give old and new CAs together while rotating the CA. */
  ca: Pem | Pem[];
  /** This node's certificate chain (leaf first). */
  cert: Pem;
  /** This node's private key. */
  key: Pem;
  /**
   * How a certificate names its node:
   * - `'uri'` (default): a subjectAltName `URI:webraft://<host>:<port>` equal to the
   *   address, so several nodes on one host cannot pose as each other;
   * - `'host'`: a DNS or IP subjectAltName matching the address's host (the
   *   usual TLS host check; any port on that host is accepted).
   */
  identity?: 'uri' | 'host';
}

/**
 * TLS 1.3 with an external pre-shared key: every node holds the same cluster
 * secret. Anyone with the secret is a member (it cannot tell members apart).
 */
export interface PskSecurity {
  mode: 'psk';
  /** The cluster secret: 16 to 64 random bytes. Dialing uses it; accepting takes it or any of `previousSecrets`. */
  secret: Uint8Array;
  /** Secrets still accepted from dialers during a rotation (see docs/certificates.md). */
  previousSecrets?: Uint8Array[];
}

/**
 * No TLS: no authentication and no confidentiality. Anyone who can reach the
 * port can pose as any member and forge any message. Only for tests and for
 * networks where every reachable party is trusted.
 */
export interface InsecurePlaintextSecurity {
  mode: 'insecure-plaintext';
}

/** How connections are authenticated and encrypted. There is no default: choose one. */
export type TcpSecurity = MutualTlsSecurity | PskSecurity | InsecurePlaintextSecurity;

/** Options of the TCP transport, shared by a node's dialers ({@link TcpNodeInstance}) and its server ({@link TcpRaftServer}). */
export interface TcpTransportOptions {
  /** Names the cluster (1-128 printable ASCII characters, no spaces); a peer with another id is refused. Required. */
  clusterId: string;
  /** Authentication and encryption. Required. */
  security: TcpSecurity;
  /**
   * The raft's `wireLimits` (give the same value): frames are encoded and
   * decoded under them, so what the raft accepts also gets through.
   */
  wireLimits?: Partial<WireLimits>;
  /** Largest frame accepted after the handshake, checked on its length header before anything is buffered. Default `maxBinaryBytes(wireLimits.maxPayloadBytes)` (64 MiB with the default limits). */
  maxFrameBytes?: number;
  /** Most connections a server keeps open, handshaking or not; more are closed at once. Default 64. */
  maxConnections?: number;
  /** Most connections a server keeps that have not completed TLS and the hello; more are closed at once. Default 16. */
  maxHandshakes?: number;
  /** TLS handshake plus hello must complete within this many ms of the TCP connect, on both sides. Default 5000. */
  handshakeTimeoutMs?: number;
  /**
   * A server closes a connection that delivered no complete frame for this
   * many ms (an idle peer redials when it next has something to send; a
   * slowloris sender is cut off). Default 30000.
   */
  idleTimeoutMs?: number;
  /**
   * Per-peer bound on bytes waiting to be sent (queued here plus buffered in
   * the socket). A frame that would exceed it first drops the oldest queued
   * frames, then itself (Raft retransmits); one frame is always allowed when
   * nothing else waits, so a frame larger than the bound still goes out. Default 16 MiB.
   */
  maxQueuedBytes?: number;
  /** First redial delay in ms after a failed or lost connection (doubles up to `maxBackoffMs`, with jitter). Default 50. */
  minBackoffMs?: number;
  /** Longest redial delay in ms. Default 1000. */
  maxBackoffMs?: number;
  /**
   * Receives every refusal, timeout and failure (and the INSECURE_PLAINTEXT
   * warning). Default: `console.warn`, at most once per code and peer every 60 s.
   */
  onError?: (error: TcpTransportError) => void;
}

/** Most bytes a server reads before the hello is accepted, and a dialer before the accept: the hello's frame must fit. */
export const MAX_HELLO_BYTES = 4096;

/** The defaults of {@link TcpTransportOptions}' limits. */
export const TCP_DEFAULTS = Object.freeze({
  maxConnections: 64,
  maxHandshakes: 16,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 30_000,
  maxQueuedBytes: 16 * 1024 * 1024,
  minBackoffMs: 50,
  maxBackoffMs: 1000,
});

/** The limits of a transport, every one resolved. */
export interface ResolvedTcpLimits {
  wireLimits: Readonly<WireLimits>;
  maxFrameBytes: number;
  maxConnections: number;
  maxHandshakes: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  maxQueuedBytes: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

const CLUSTER_ID = /^[\x21-\x7e]{1,128}$/;

function invalid(message: string): never {
  throw new TcpTransportError('INVALID_ARGUMENT', message);
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) invalid(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Checks the cluster id option. */
export function checkClusterId(clusterId: unknown): string {
  if (typeof clusterId !== 'string' || !CLUSTER_ID.test(clusterId)) {
    invalid(`clusterId must be 1-128 printable ASCII characters without spaces, got ${JSON.stringify(clusterId)}`);
  }
  return clusterId;
}

/** Resolves and checks the limits; throws INVALID_ARGUMENT naming a bad one. */
export function resolveTcpLimits(options: TcpTransportOptions): ResolvedTcpLimits {
  const wireLimits = Object.freeze({ ...DEFAULT_WIRE_LIMITS, ...(options.wireLimits ?? {}) });
  const limits: ResolvedTcpLimits = {
    wireLimits,
    maxFrameBytes: positiveInteger('maxFrameBytes', options.maxFrameBytes, maxBinaryBytes(wireLimits.maxPayloadBytes)),
    maxConnections: positiveInteger('maxConnections', options.maxConnections, TCP_DEFAULTS.maxConnections),
    maxHandshakes: positiveInteger('maxHandshakes', options.maxHandshakes, TCP_DEFAULTS.maxHandshakes),
    handshakeTimeoutMs: positiveInteger('handshakeTimeoutMs', options.handshakeTimeoutMs, TCP_DEFAULTS.handshakeTimeoutMs),
    idleTimeoutMs: positiveInteger('idleTimeoutMs', options.idleTimeoutMs, TCP_DEFAULTS.idleTimeoutMs),
    maxQueuedBytes: positiveInteger('maxQueuedBytes', options.maxQueuedBytes, TCP_DEFAULTS.maxQueuedBytes),
    minBackoffMs: positiveInteger('minBackoffMs', options.minBackoffMs, TCP_DEFAULTS.minBackoffMs),
    maxBackoffMs: positiveInteger('maxBackoffMs', options.maxBackoffMs, TCP_DEFAULTS.maxBackoffMs),
  };
  if (limits.maxHandshakes > limits.maxConnections) invalid(`maxHandshakes (${limits.maxHandshakes}) must not exceed maxConnections (${limits.maxConnections})`);
  if (limits.minBackoffMs > limits.maxBackoffMs) invalid(`minBackoffMs (${limits.minBackoffMs}) must not exceed maxBackoffMs (${limits.maxBackoffMs})`);
  return limits;
}

function isPem(value: unknown): value is Pem {
  return (typeof value === 'string' && value.length > 0) || (value instanceof Uint8Array && value.length > 0);
}

function checkSecret(name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length < 16 || value.length > 64) {
    invalid(`${name} must be a Uint8Array of 16 to 64 random bytes`);
  }
  return value;
}

/** Checks a security option; throws INVALID_ARGUMENT saying what is missing. */
export function checkSecurity(security: unknown): TcpSecurity {
  const modes = "{ mode: 'mtls', ca, cert, key }, { mode: 'psk', secret } or { mode: 'insecure-plaintext' }";
  if (typeof security !== 'object' || security === null) invalid(`security is required: ${modes}`);
  const s = security as Record<string, unknown>;
  switch (s.mode) {
    case 'mtls': {
      const cas = Array.isArray(s.ca) ? s.ca : [s.ca];
      if (cas.length === 0 || !cas.every(isPem)) invalid('security.ca must be PEM text or bytes (or a non-empty list of them)');
      if (!isPem(s.cert)) invalid('security.cert must be PEM text or bytes');
      if (!isPem(s.key)) invalid('security.key must be PEM text or bytes');
      if (s.identity !== undefined && s.identity !== 'uri' && s.identity !== 'host') invalid(`security.identity must be 'uri' or 'host', got ${String(s.identity)}`);
      return security as MutualTlsSecurity;
    }
    case 'psk': {
      checkSecret('security.secret', s.secret);
      if (s.previousSecrets !== undefined) {
        if (!Array.isArray(s.previousSecrets)) invalid('security.previousSecrets must be a list of secrets');
        s.previousSecrets.forEach((secret: unknown, i: number) => checkSecret(`security.previousSecrets[${i}]`, secret));
      }
      return security as PskSecurity;
    }
    case 'insecure-plaintext':
      return security as InsecurePlaintextSecurity;
    default:
      return invalid(`security.mode must be 'mtls', 'psk' or 'insecure-plaintext' (${modes}), got ${JSON.stringify(s.mode)}`);
  }
}
