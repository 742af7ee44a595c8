/**
 * The configuration a node's TCP dialers and server share: cluster id,
 * security, limits and error reporting. One per node; `setSecurity()`
 * rotates certificates or secrets without a restart.
 */
import { TcpTransportError } from './errors.js';
import { checkClusterId, checkSecurity, resolveTcpLimits, type ResolvedTcpLimits, type TcpSecurity, type TcpTransportOptions } from './options.js';
import { prepareSecurity, type PreparedSecurity } from './security.js';

/** How often the default reporter repeats one code for one peer. */
const REPORT_EVERY_MS = 60_000;

/** Shared by a node's {@link TcpNodeInstance}s and its {@link TcpRaftServer}. */
export class TcpTransport {
  /** The cluster id every hello must carry. */
  readonly clusterId: string;
  /** Every limit, resolved to its value. */
  readonly limits: ResolvedTcpLimits;
  private prepared: PreparedSecurity;
  private readonly onError: ((error: TcpTransportError) => void) | undefined;
  private readonly securityListeners = new Set<() => void>();
  private readonly lastReported = new Map<string, number>();

  /** @throws TcpTransportError INVALID_ARGUMENT naming an option that cannot work. */
  constructor(options: TcpTransportOptions) {
    if (typeof options !== 'object' || options === null) throw new TcpTransportError('INVALID_ARGUMENT', 'options are required: { clusterId, security }');
    this.clusterId = checkClusterId(options.clusterId);
    this.limits = resolveTcpLimits(options);
    this.prepared = prepare(options.security);
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new TcpTransportError('INVALID_ARGUMENT', 'onError must be a function');
    this.onError = options.onError;
  }

  /** The current security option, with its contexts. */
  get security(): PreparedSecurity {
    return this.prepared;
  }

  /**
   * Replaces certificates, keys, CAs or PSK secrets (same mode only). New
   * connections use them at once, in both directions; established ones stay
   * up (they were authenticated when they opened).
   * @throws TcpTransportError INVALID_ARGUMENT for a bad option or another mode.
   */
  setSecurity(security: TcpSecurity): void {
    const next = prepare(security);
    if (next.security.mode !== this.prepared.security.mode) {
      throw new TcpTransportError('INVALID_ARGUMENT', `setSecurity cannot change the mode (${this.prepared.security.mode} -> ${next.security.mode}); restart the node instead`);
    }
    this.prepared = next;
    for (const listener of this.securityListeners) listener();
  }

  /** @internal Calls `listener` after each setSecurity(); returns a function that stops it. */
  onSecurityChange(listener: () => void): () => void {
    this.securityListeners.add(listener);
    return () => this.securityListeners.delete(listener);
  }

  /** @internal Hands an error to `onError`, or logs it (once per code and peer per minute). */
  report(error: TcpTransportError): void {
    if (this.onError) {
      try {
        this.onError(error);
      } catch {
        // A throwing handler must not break the connection handling that called it.
      }
      return;
    }
    const key = `${error.code} ${error.peer ?? error.remote ?? ''}`;
    const now = Date.now();
    if (now - (this.lastReported.get(key) ?? -Infinity) < REPORT_EVERY_MS) return;
    if (this.lastReported.size > 1000) this.lastReported.clear(); // bounded whatever peers do
    this.lastReported.set(key, now);
    console.warn(`webraft tcp ${error.code}: ${error.message}`);
  }
}

function prepare(security: TcpSecurity): PreparedSecurity {
  const checked = checkSecurity(security);
  try {
    return prepareSecurity(checked);
  } catch (error) {
    throw new TcpTransportError('INVALID_ARGUMENT', `security: ${(error as Error).message}`);
  }
}

/** A transport given as such, or made from options. */
export function toTransport(transport: TcpTransport | TcpTransportOptions): TcpTransport {
  return transport instanceof TcpTransport ? transport : new TcpTransport(transport);
}
