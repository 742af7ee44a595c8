import { DEFAULT_WIRE_LIMITS, WireError } from '../wire/index.js';
import { varintSize } from './proto-writer.js';

/**
 * Protobuf's standard length-delimited framing: each frame is a varint byte
 * length followed by that many bytes, as written by `writeDelimitedTo` (Java,
 * C++) or `encodeDelimited` (protobufjs) and read by `parseDelimitedFrom`.
 */

/**
 * How many binary bytes a payload may take per byte of the wire's size
 * estimate (the one `maxPayloadBytes` bounds). The estimate counts a string's
 * UTF-16 code units, and UTF-8 takes up to 3 bytes for one; tags and length
 * prefixes of nested values add a little more. So a byte bound of 4x
 * `maxPayloadBytes` refuses no valid payload, while the estimate, which
 * `decode` checks too, stays the exact limit.
 */
export const BINARY_BYTES_PER_ESTIMATED_BYTE = 4;

/** The most bytes the binary of a payload valid under `maxPayloadBytes` can take (see BINARY_BYTES_PER_ESTIMATED_BYTE). */
export function maxBinaryBytes(maxPayloadBytes: number): number {
  return BINARY_BYTES_PER_ESTIMATED_BYTE * maxPayloadBytes;
}

/** Default bound on one frame's declared length: 64 MiB, what a payload within the default `maxPayloadBytes` (16 MiB) may take. */
export const DEFAULT_MAX_FRAME_BYTES = maxBinaryBytes(DEFAULT_WIRE_LIMITS.maxPayloadBytes);

/** `bytes` prefixed with its length as a varint. */
export function frameBytes(bytes: Uint8Array): Uint8Array {
  const headerSize = varintSize(bytes.length);
  const out = new Uint8Array(headerSize + bytes.length);
  let value = bytes.length;
  let pos = 0;
  while (value > 0x7f) {
    out[pos++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos] = value;
  out.set(bytes, headerSize);
  return out;
}

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest accepted frame length in bytes; default {@link DEFAULT_MAX_FRAME_BYTES}. */
  maxFrameBytes?: number;
}

/**
 * Splits a byte stream into length-delimited frames. Feed it chunks as they
 * arrive; it returns every frame completed by the chunk, handling frames split
 * across chunks and many frames in one chunk. Each returned frame is a fresh
 * Uint8Array. After an error the stream cannot be resynchronised: every later
 * {@link push} throws the same error.
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number;
  /** Buffered chunks; `chunks[headChunk]` is consumed from `headOffset`, earlier ones are spent. */
  private chunks: Uint8Array[] = [];
  private headChunk = 0;
  private headOffset = 0;
  private buffered = 0;
  /** Length of the frame whose header was read, or -1 while reading a header. */
  private expected = -1;
  private failure: WireError | undefined;

  constructor(options?: FrameDecoderOptions) {
    this.maxFrameBytes = options?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes received but not yet returned as part of a frame (headers included). */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Adds `chunk` and returns the frames it completes, in order.
   * @throws WireError LIMIT_EXCEEDED when a frame declares more than maxFrameBytes,
   *   INVALID_BINARY when a length header is not a valid varint.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length !== 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    try {
      for (;;) {
        if (this.expected < 0 && !this.readHeader()) break;
        if (this.buffered < this.expected) break;
        frames.push(this.take(this.expected));
        this.expected = -1;
      }
    } catch (thrown) {
      this.failure = thrown instanceof WireError ? thrown : new WireError('INVALID_BINARY', String(thrown));
      throw this.failure;
    }
    return frames;
  }

  /** Reads a length header if it is complete; returns false when more bytes are needed. */
  private readHeader(): boolean {
    let value = 0;
    let multiplier = 1;
    let consumed = 0;
    let chunkIndex = this.headChunk;
    let offset = this.headOffset;
    for (;;) {
      if (consumed >= this.buffered) return false;
      const chunk = this.chunks[chunkIndex];
      if (offset >= chunk.length) {
        chunkIndex++;
        offset = 0;
        continue;
      }
      const b = chunk[offset++];
      consumed++;
      value += (b & 0x7f) * multiplier;
      multiplier *= 128;
      if (value > this.maxFrameBytes) {
        throw new WireError('LIMIT_EXCEEDED', `frame length exceeds maxFrameBytes (${this.maxFrameBytes})`);
      }
      if (b < 0x80) break;
      if (consumed >= 10) throw new WireError('INVALID_BINARY', 'frame length varint longer than 10 bytes');
    }
    this.take(consumed);
    this.expected = value;
    return true;
  }

  /** Removes and returns the next `n` buffered bytes as a fresh array. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let written = 0;
    while (written < n) {
      const chunk = this.chunks[this.headChunk];
      const available = chunk.length - this.headOffset;
      const count = Math.min(available, n - written);
      out.set(chunk.subarray(this.headOffset, this.headOffset + count), written);
      written += count;
      this.headOffset += count;
      if (this.headOffset === chunk.length) {
        // Advance an index rather than shift(): a frame fed in tiny chunks stays linear.
        this.headChunk++;
        this.headOffset = 0;
      }
    }
    if (this.headChunk === this.chunks.length) {
      this.chunks = [];
      this.headChunk = 0;
    } else if (this.headChunk > 1024) {
      this.chunks = this.chunks.slice(this.headChunk);
      this.headChunk = 0;
    }
    this.buffered -= n;
    return out;
  }
}

/**
 * Splits a buffer holding whole frames.
 * @throws WireError INVALID_BINARY when the buffer ends inside a frame, or as {@link FrameDecoder.push}.
 */
export function splitFrames(bytes: Uint8Array, options?: FrameDecoderOptions): Uint8Array[] {
  const decoder = new FrameDecoder(options);
  const frames = decoder.push(bytes);
  if (decoder.pendingBytes !== 0) {
    throw new WireError('INVALID_BINARY', `data ends inside a frame (${decoder.pendingBytes} bytes left over)`);
  }
  return frames;
}
