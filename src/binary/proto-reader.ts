import { WireError } from '../wire/index.js';

/**
 * A minimal, strict protobuf binary reader over one Uint8Array. Every
 * malformation (truncation, overlong varint, bad wire type, invalid UTF-8)
 * throws WireError 'INVALID_BINARY'.
 * @internal
 */
export class ProtoReader {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  /** Next read position. */
  pos: number;

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
  }

  /**
   * An unsigned varint (up to 10 bytes). Values above 2^53-1 are returned as
   * Infinity so the caller can report the field; malformed varints throw.
   */
  varint(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = pos < end ? buf[pos++] : truncated();
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    let value = b & 0x7f;
    let shift = 7;
    for (;;) {
      if (pos >= end) truncated();
      b = buf[pos++];
      if (shift < 28) value |= (b & 0x7f) << shift;
      else value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
      if (shift >= 70) throw new WireError('INVALID_BINARY', 'varint longer than 10 bytes');
    }
    this.pos = pos;
    if (shift === 63 && b > 1) throw new WireError('INVALID_BINARY', 'varint exceeds 64 bits');
    // value is exact up to 2^53; anything larger is out of range for WebRaft.
    return value > Number.MAX_SAFE_INTEGER ? Infinity : value;
  }

  /** End position of a length-delimited field starting at the current position. */
  lengthDelimitedEnd(end: number): number {
    const length = this.varint(end);
    if (length > end - this.pos) truncated();
    return this.pos + length;
  }

  /** A little-endian double. */
  double(end: number): number {
    if (end - this.pos < 8) truncated();
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A length-delimited UTF-8 string; invalid UTF-8 is INVALID_BINARY. */
  string(end: number): string {
    const stop = this.lengthDelimitedEnd(end);
    const start = this.pos;
    this.pos = stop;
    return decodeUtf8(this.buf, start, stop);
  }

  /** A length-delimited bytes field, copied. */
  bytes(end: number): Uint8Array {
    const stop = this.lengthDelimitedEnd(end);
    const out = this.buf.slice(this.pos, stop);
    this.pos = stop;
    return out;
  }

  /** Skips a field of wire type `wireType`; groups and unknown wire types are INVALID_BINARY. */
  skip(wireType: number, end: number): void {
    switch (wireType) {
      case 0:
        this.varint(end);
        return;
      case 1:
        if (end - this.pos < 8) truncated();
        this.pos += 8;
        return;
      case 2:
        this.pos = this.lengthDelimitedEnd(end);
        return;
      case 5:
        if (end - this.pos < 4) truncated();
        this.pos += 4;
        return;
      default:
        throw new WireError('INVALID_BINARY', `unsupported wire type ${wireType}`);
    }
  }

  /** Reads a field key; returns field number * 8 + wire type, rejecting field number 0. */
  tag(end: number): number {
    const key = this.varint(end);
    if (key > 0xffffffff || key >>> 3 === 0) throw new WireError('INVALID_BINARY', `invalid field key ${key}`);
    return key;
  }
}

function truncated(): never {
  throw new WireError('INVALID_BINARY', 'data is truncated');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Strict UTF-8 decode of buf[start, stop). Short ASCII is decoded without
 * TextDecoder, through a small cache so that repeated strings (command keys,
 * addresses) are not rebuilt each time; other text goes through the fast
 * lenient decoder and only when the result holds U+FFFD is it re-checked
 * with the (slower) fatal decoder.
 */
function decodeUtf8(buf: Uint8Array, start: number, stop: number): string {
  const length = stop - start;
  if (length > SHORT_STRING) return decodeNonAscii(buf, start, stop);
  let hash = length;
  for (let j = start; j < stop; j++) {
    const c = buf[j];
    if (c >= 0x80) return decodeNonAscii(buf, start, stop);
    hash = (Math.imul(hash, 31) + c) | 0;
  }
  const slot = hash & (CACHE_SLOTS - 1);
  const cached = cache[slot];
  if (cached.length === length) {
    let j = 0;
    while (j < length && cached.charCodeAt(j) === buf[start + j]) j++;
    if (j === length) return cached;
  }
  let out = '';
  for (let j = start; j < stop; j++) out += String.fromCharCode(buf[j]);
  cache[slot] = out;
  return out;
}

/** Longest string (in bytes) decoded by the ASCII loop and cached. */
const SHORT_STRING = 16;
const CACHE_SLOTS = 256;
const cache: string[] = new Array<string>(CACHE_SLOTS).fill('');

/**
 * Node's Buffer UTF-8 slice, when present (not in browsers): it decodes a
 * range of any Uint8Array without a subarray and faster than TextDecoder.
 * Like the lenient TextDecoder it turns malformed input into U+FFFD.
 */
const nodeUtf8Slice = (globalThis as { Buffer?: { prototype?: { utf8Slice?: unknown } } }).Buffer?.prototype?.utf8Slice as
  | ((this: Uint8Array, start: number, end: number) => string)
  | undefined;

function decodeNonAscii(buf: Uint8Array, start: number, stop: number): string {
  const text =
    typeof nodeUtf8Slice === 'function' ? nodeUtf8Slice.call(buf, start, stop) : lenientUtf8.decode(buf.subarray(start, stop));
  if (!text.includes('\uFFFD')) return text;
  try {
    return strictUtf8.decode(buf.subarray(start, stop));
  } catch (thrown) {
    throw new WireError('INVALID_BINARY', 'string is not valid UTF-8', undefined, { cause: thrown });
  }
}
