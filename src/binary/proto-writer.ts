/**
 * A protobuf binary writer that fills its buffer from the end towards the
 * start: the encoder emits fields in reverse order, so when a submessage is
 * complete its length is known and is written in front of it. Nothing is
 * measured in advance or shifted afterwards, and varints are minimal
 * (canonical output). {@link finish} copies the result out, so the work
 * buffer is reused by the next message.
 * @internal
 */
export class ProtoWriter {
  private buf: Uint8Array;
  /** Start of the bytes written so far; they occupy [pos, buf.length). */
  private pos: number;
  private view: DataView | undefined;

  constructor() {
    this.buf = takeBuffer();
    this.pos = this.buf.length;
  }

  /** Number of bytes written so far; a submessage's mark for {@link join}. */
  get written(): number {
    return this.buf.length - this.pos;
  }

  /** Makes room for `n` more bytes in front of the written ones. */
  private ensure(n: number): void {
    if (n <= this.pos) return;
    const used = this.buf.length - this.pos;
    let capacity = this.buf.length * 2;
    while (capacity - used < n) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(this.pos), capacity - used);
    this.buf = next;
    this.pos = capacity - used;
    this.view = undefined;
  }

  /** An unsigned varint of an integer in 0..2^53-1, in front of the written bytes. */
  varint(value: number): void {
    if (this.pos < 10) this.ensure(10);
    const buf = this.buf;
    if (value < 0x80) {
      buf[--this.pos] = value;
      return;
    }
    if (value < 0x4000) {
      this.pos -= 2;
      buf[this.pos] = (value & 0x7f) | 0x80;
      buf[this.pos + 1] = value >>> 7;
      return;
    }
    let pos = (this.pos -= varintSize(value));
    if (value < 0x80000000) {
      while (value > 0x7f) {
        buf[pos++] = (value & 0x7f) | 0x80;
        value >>>= 7;
      }
    } else {
      while (value > 0x7f) {
        buf[pos++] = (value % 128) | 0x80;
        value = Math.floor(value / 128);
      }
    }
    buf[pos] = value;
  }

  /** Wire type 0 field with a uint64 (safe integer) value. */
  uint64Field(fieldNumber: number, value: number): void {
    this.varint(value);
    this.varint(fieldNumber << 3);
  }

  /** Wire type 0 field with a bool value. */
  boolField(fieldNumber: number, value: boolean): void {
    this.ensure(1);
    this.buf[--this.pos] = value ? 1 : 0;
    this.varint(fieldNumber << 3);
  }

  /** Wire type 1 field with a double value. */
  doubleField(fieldNumber: number, value: number): void {
    this.ensure(8);
    this.pos -= 8;
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.view.setFloat64(this.pos, value, true);
    this.varint((fieldNumber << 3) | 1);
  }

  /** Wire type 2 field with a UTF-8 string (the string must be well-formed). */
  stringField(fieldNumber: number, value: string): void {
    const start = this.written;
    this.utf8(value);
    this.join(start, fieldNumber);
  }

  /** Wire type 2 field with raw bytes. */
  bytesField(fieldNumber: number, value: Uint8Array): void {
    this.ensure(value.length);
    this.pos -= value.length;
    this.buf.set(value, this.pos);
    this.varint(value.length);
    this.varint((fieldNumber << 3) | 2);
  }

  /** Ends a length-delimited field whose content was written since `start` (a {@link written} value). */
  join(start: number, fieldNumber: number): void {
    this.varint(this.written - start);
    this.varint((fieldNumber << 3) | 2);
  }

  /** The written bytes (a fresh copy sized to fit); the writer must not be used afterwards. */
  finish(): Uint8Array {
    const out = allocate(this.buf.length - this.pos);
    out.set(this.buf.subarray(this.pos));
    releaseBuffer(this.buf);
    return out;
  }

  /** Gives up the work buffer without a result; the writer must not be used afterwards. */
  abandon(): void {
    releaseBuffer(this.buf);
  }

  /** UTF-8 of a well-formed string in front of the written bytes. */
  private utf8(value: string): void {
    const length = value.length;
    this.ensure(length);
    const buf = this.buf;
    const end = this.pos;
    // Most strings are ASCII: try one byte per unit first.
    if (length <= 40) {
      const start = end - length;
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === length) {
        this.pos = start;
        return;
      }
    } else if (textEncoder.encodeInto(value, buf.subarray(end - length, end)).read === length) {
      // Every unit fit in one byte each, so the string was ASCII.
      this.pos = end - length;
      return;
    }
    const size = utf8Length(value);
    this.ensure(size);
    this.pos -= size;
    textEncoder.encodeInto(value, this.buf.subarray(this.pos, this.pos + size));
  }
}

const textEncoder = new TextEncoder();

/** Work buffers are kept for reuse up to this size. */
const KEEP_BYTES = 1024 * 1024;
let spare: Uint8Array | undefined;

/** The spare work buffer, or a new one when it is in use (a nested encode). */
function takeBuffer(): Uint8Array {
  const buf = spare ?? new Uint8Array(64 * 1024);
  spare = undefined;
  return buf;
}

function releaseBuffer(buf: Uint8Array): void {
  if (buf.length <= KEEP_BYTES) spare = buf;
}

/** Node's allocator of uninitialised memory, when present (not in browsers). */
const allocUnsafeSlow = (globalThis as { Buffer?: { allocUnsafeSlow?: (size: number) => Uint8Array } }).Buffer?.allocUnsafeSlow;

/**
 * A new Uint8Array of `size` bytes that the caller overwrites completely. On
 * Node it skips the zero-filling of `new Uint8Array`, a large part of the cost
 * of a fresh buffer; it is a plain Uint8Array over its own ArrayBuffer either way.
 */
function allocate(size: number): Uint8Array {
  if (allocUnsafeSlow === undefined || size < 1024) return new Uint8Array(size);
  return new Uint8Array(allocUnsafeSlow(size).buffer, 0, size);
}

/** UTF-8 byte length of a well-formed string. */
function utf8Length(text: string): number {
  const length = text.length;
  let bytes = length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** Number of bytes of the varint of `value` (0..2^53-1). @internal */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 5;
  value = Math.floor(value / 0x800000000);
  while (value > 0) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}
