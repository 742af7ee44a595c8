/**
 * Every refusal, timeout and failure of the TCP transport is a
 * {@link TcpTransportError} with a string `code`, reported through the
 * transport's `onError` (see {@link TcpTransportOptions}).
 */

/** What went wrong; stable strings, safe to match on. */
export type TcpErrorCode =
  /** An option cannot work (wrong type, out of range, a missing `security` or `clusterId`). */
  | 'INVALID_ARGUMENT'
  /** An address is not `host:port` (see parseTcpAddress); it is never dialed. */
  | 'INVALID_ADDRESS'
  /** The first frame is not a well-formed hello (or accept). */
  | 'BAD_HELLO'
  /** The peer speaks another protocol version. */
  | 'VERSION_MISMATCH'
  /** The peer belongs to another cluster (its hello names another cluster id). */
  | 'CLUSTER_MISMATCH'
  /** The hello is for another node (its `to` is not this server's address), or the accept came from another node than the one dialed. */
  | 'WRONG_NODE'
  /** The authenticated identity (certificate or PSK identity) does not match the address the peer claims. */
  | 'IDENTITY_MISMATCH'
  /** TLS failed: no or untrusted certificate, wrong cluster secret, or a peer in another security mode. */
  | 'TLS_HANDSHAKE_FAILED'
  /** A PSK dialer named a key id that matches none of this node's secrets. */
  | 'PSK_UNKNOWN_KEY'
  /** TLS and the hello did not complete within `handshakeTimeoutMs`. */
  | 'HANDSHAKE_TIMEOUT'
  /** More than the hello's byte cap arrived before the handshake completed, or a frame declared more than `maxFrameBytes`. */
  | 'LIMIT_EXCEEDED'
  /** `maxConnections` connections are open: a new one is closed at once. */
  | 'TOO_MANY_CONNECTIONS'
  /** `maxHandshakes` connections are still handshaking: a new one is closed at once. */
  | 'TOO_MANY_HANDSHAKES'
  /** A connection stopped in the middle of a frame for `idleTimeoutMs` (a stalled or slowloris sender). */
  | 'IDLE_TIMEOUT'
  /** The peer sent something the protocol does not allow at that point (data from a server after its accept, a malformed frame header). */
  | 'PROTOCOL_VIOLATION'
  /** The server could not accept a connection (out of file descriptors, say); it keeps listening. */
  | 'ACCEPT_FAILED'
  /** A warning, not a failure: a server listens in `insecure-plaintext` mode. */
  | 'INSECURE_PLAINTEXT';

/** A failure of the TCP transport; `peer` is the Raft address concerned when known. */
export class TcpTransportError extends Error {
  override readonly name = 'TcpTransportError';

  constructor(
    readonly code: TcpErrorCode,
    message: string,
    /** The Raft address of the peer (dialed, or claimed in a hello), when known. */
    readonly peer?: string,
    /** The remote `ip:port` of the connection, when there is one. */
    readonly remote?: string,
  ) {
    super(message);
  }
}

/** True for a {@link TcpTransportError}. */
export function isTcpTransportError(value: unknown): value is TcpTransportError {
  return value instanceof TcpTransportError;
}
