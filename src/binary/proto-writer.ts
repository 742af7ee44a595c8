/**
 * A minimal protobuf binary writer into one growable buffer. Length-delimited
 * submessages reserve one length byte and are shifted in place when their
 * length needs more, so the output is canonical (minimal varints).
 * @internal
 */
export class ProtoWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Next write position. */
  pos = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const needed = this.pos + n;
    if (needed <= this.buf.length) return;
    let capacity = this.buf.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** An unsigned varint of an integer in 0..2^53-1. */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
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
    buf[pos++] = value;
    this.pos = pos;
  }

  /** A field key: field number and wire type. */
  tag(fieldNumber: number, wireType: number): void {
    this.varint((fieldNumber << 3) | wireType);
  }

  /** Wire type 0 field with a uint64 (safe integer) value. */
  uint64Field(fieldNumber: number, value: number): void {
    this.varint(fieldNumber << 3);
    this.varint(value);
  }

  /** Wire type 0 field with a bool value. */
  boolField(fieldNumber: number, value: boolean): void {
    this.ensure(6);
    this.varint(fieldNumber << 3);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  /** Wire type 1 field with a double value. */
  doubleField(fieldNumber: number, value: number): void {
    this.varint((fieldNumber << 3) | 1);
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Wire type 2 field with a UTF-8 string (the string must be well-formed). */
  stringField(fieldNumber: number, value: string): void {
    this.varint((fieldNumber << 3) | 2);
    const length = value.length;
    this.ensure(length * 3 + 5);
    const start = this.pos++;
    const buf = this.buf;
    let pos = this.pos;
    if (length > 48) {
      pos += textEncoder.encodeInto(value, buf.subarray(pos)).written;
    } else {
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[pos++] = c;
      }
      if (i < length) pos = encodeUtf8Tail(value, i, buf, pos);
    }
    this.pos = pos;
    this.finishLengthDelimited(start);
  }

  /** Wire type 2 field with raw bytes. */
  bytesField(fieldNumber: number, value: Uint8Array): void {
    this.varint((fieldNumber << 3) | 2);
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Starts a length-delimited submessage field; pass the result to {@link join}. */
  fork(fieldNumber: number): number {
    this.varint((fieldNumber << 3) | 2);
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the submessage started by {@link fork}. */
  join(start: number): void {
    this.finishLengthDelimited(start);
  }

  /** The written bytes (a fresh copy sized to fit). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Writes the length of the bytes after the reserved byte at `start`, shifting them when it needs more than one byte. */
  private finishLengthDelimited(start: number): void {
    const length = this.pos - start - 1;
    if (length < 0x80) {
      this.buf[start] = length;
      return;
    }
    const extra = varintSize(length) - 1;
    this.ensure(extra);
    const buf = this.buf;
    buf.copyWithin(start + 1 + extra, start + 1, this.pos);
    let pos = start;
    let value = length;
    while (value > 0x7f) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos] = value;
    this.pos += extra;
  }
}

const textEncoder = new TextEncoder();

/** Number of bytes of the varint of `value` (0..2^53-1). @internal */
export function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** UTF-8 of `text` from index `i` into `buf` at `pos`; returns the new position. */
function encodeUtf8Tail(text: string, i: number, buf: Uint8Array, pos: number): number {
  const length = text.length;
  for (; i < length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
      const low = text.charCodeAt(++i);
      c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}
