/**
 * The handshake of the WebRaft TCP protocol (docs/tcp-protocol.md): after TLS,
 * the dialer sends one hello frame and the server answers with one accept or
 * refusal frame. Both are UTF-8 JSON objects in a length-delimited frame (a
 * varint length, then the bytes), at most {@link MAX_HELLO_BYTES} in all.
 */
import { describe, tryParseTcpAddress } from './address.js';
import { TcpTransportError, type TcpErrorCode } from './errors.js';
import { MAX_HELLO_BYTES } from './options.js';

/** The `protocol` field of every handshake frame. */
export const PROTOCOL_NAME = 'webraft-tcp';
/** The protocol version this implementation speaks (version 1 was a plain-text hello without cluster id). */
export const PROTOCOL_VERSION = 2;

/** The dialer's first frame. */
export interface Hello {
  protocol: typeof PROTOCOL_NAME;
  version: number;
  /** The cluster id of the dialer. */
  cluster: string;
  /** The dialer's Raft address: every message on this connection comes from it. */
  from: string;
  /** The Raft address the dialer means to reach. */
  to: string;
}

/** The server's answer: `ok: true` and the connection carries messages, or a refusal with a code, after which the server closes. */
export interface HelloAnswer {
  protocol: typeof PROTOCOL_NAME;
  version: number;
  /** The server's cluster id. */
  cluster: string;
  /** The server's Raft address. */
  from: string;
  ok: boolean;
  /** On refusal: why (a TcpErrorCode). */
  code?: TcpErrorCode;
  /** On refusal: a sentence for the operator. */
  message?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A handshake object as one frame. */
export function handshakeFrame(value: Hello | HelloAnswer): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(value));
  if (bytes.length > MAX_HELLO_BYTES) throw new TcpTransportError('LIMIT_EXCEEDED', `handshake frame of ${bytes.length} bytes exceeds ${MAX_HELLO_BYTES}`);
  const header = bytes.length < 128 ? [bytes.length] : [(bytes.length & 0x7f) | 0x80, bytes.length >> 7];
  const frame = new Uint8Array(header.length + bytes.length);
  frame.set(header, 0);
  frame.set(bytes, header.length);
  return frame;
}

function parseObject(frame: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(frame));
  } catch {
    const text = frame.length > 0 && frame[0] !== 0x7b ? ` (starts with ${describe(new TextDecoder().decode(frame.subarray(0, 40)))})` : '';
    throw new TcpTransportError('BAD_HELLO', `${what} is not UTF-8 JSON${text}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TcpTransportError('BAD_HELLO', `${what} is not a JSON object`);
  const object = value as Record<string, unknown>;
  if (object.protocol !== PROTOCOL_NAME) throw new TcpTransportError('BAD_HELLO', `${what} has protocol ${describe(object.protocol)}, expected "${PROTOCOL_NAME}"`);
  if (typeof object.version !== 'number' || !Number.isSafeInteger(object.version)) throw new TcpTransportError('BAD_HELLO', `${what} has no integer version`);
  if (object.version !== PROTOCOL_VERSION) {
    throw new TcpTransportError('VERSION_MISMATCH', `${what} speaks protocol version ${object.version}; this node speaks version ${PROTOCOL_VERSION}`);
  }
  if (typeof object.cluster !== 'string') throw new TcpTransportError('BAD_HELLO', `${what} has no cluster id`);
  if (tryParseTcpAddress(object.from) === null) throw new TcpTransportError('BAD_HELLO', `${what} has an invalid from address ${describe(object.from)}`);
  return object;
}

/**
 * Parses a hello.
 * @throws TcpTransportError BAD_HELLO (malformed) or VERSION_MISMATCH. The old
 *   plain-text hello of version 1 (`webraft-hello/1 <address>`) is a VERSION_MISMATCH.
 */
export function parseHello(frame: Uint8Array): Hello {
  if (startsWith(frame, 'webraft-hello/1 ')) {
    throw new TcpTransportError('VERSION_MISMATCH', `hello speaks protocol version 1 (plain text); this node speaks version ${PROTOCOL_VERSION}`);
  }
  const object = parseObject(frame, 'hello');
  if (tryParseTcpAddress(object.to) === null) throw new TcpTransportError('BAD_HELLO', `hello has an invalid to address ${describe(object.to)}`);
  return { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, cluster: object.cluster as string, from: object.from as string, to: object.to as string };
}

/**
 * Parses a server's answer.
 * @throws TcpTransportError BAD_HELLO or VERSION_MISMATCH.
 */
export function parseAnswer(frame: Uint8Array): HelloAnswer {
  const object = parseObject(frame, 'answer');
  if (typeof object.ok !== 'boolean') throw new TcpTransportError('BAD_HELLO', 'answer has no boolean ok');
  const answer: HelloAnswer = { protocol: PROTOCOL_NAME, version: PROTOCOL_VERSION, cluster: object.cluster as string, from: object.from as string, ok: object.ok };
  if (!object.ok) {
    answer.code = typeof object.code === 'string' && object.code.length <= 64 ? (object.code as TcpErrorCode) : 'BAD_HELLO';
    answer.message = typeof object.message === 'string' ? object.message.slice(0, 500) : '';
  }
  return answer;
}

function startsWith(bytes: Uint8Array, prefix: string): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

/**
 * Reads the one handshake frame from a stream, buffering at most
 * {@link MAX_HELLO_BYTES}: a length header declaring more, or more bytes
 * without a complete frame, is LIMIT_EXCEEDED; bytes after the frame are a
 * PROTOCOL_VIOLATION (nothing may follow a hello before its accept, nor an accept).
 */
export class HandshakeReader {
  private buffer = new Uint8Array(0);

  /** Bytes held so far (at most MAX_HELLO_BYTES). */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /**
   * Adds a chunk; returns the frame once it is complete, else null.
   * @throws TcpTransportError LIMIT_EXCEEDED or PROTOCOL_VIOLATION.
   */
  push(chunk: Uint8Array): Uint8Array | null {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer, 0);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    const header = readVarint(joined);
    if (header === null) {
      if (joined.length >= 3) throw new TcpTransportError('LIMIT_EXCEEDED', `handshake frame header longer than 2 bytes (frames are at most ${MAX_HELLO_BYTES} bytes)`);
      return null;
    }
    if (header.value > MAX_HELLO_BYTES) throw this.tooLarge(header.value);
    const end = header.size + header.value;
    if (joined.length < end) return null;
    if (joined.length > end) throw new TcpTransportError('PROTOCOL_VIOLATION', `${joined.length - end} bytes followed the handshake frame before the answer`);
    this.buffer = new Uint8Array(0);
    return joined.subarray(header.size, end);
  }

  private tooLarge(declared: number): TcpTransportError {
    return new TcpTransportError('LIMIT_EXCEEDED', `a handshake frame of ${declared} bytes (at most ${MAX_HELLO_BYTES})`);
  }
}

/** A varint of at most 2 bytes (handshake frames are < 16 KiB) at the start of `bytes`, or null when incomplete or longer. */
function readVarint(bytes: Uint8Array): { value: number; size: number } | null {
  if (bytes.length === 0) return null;
  if (bytes[0] < 0x80) return { value: bytes[0], size: 1 };
  if (bytes.length < 2 || bytes[1] >= 0x80) return null;
  return { value: (bytes[0] & 0x7f) | (bytes[1] << 7), size: 2 };
}
