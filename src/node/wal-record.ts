/**
 * The record framing of FileStorage's write-ahead log (see docs/storage.md).
 *
 * A segment file starts with a 16-byte header: the magic `WRAFTWL1`, the
 * uint32 LE offset where its base ends (the records written before the file
 * was renamed into place, which can never be torn), and a CRC-32 of those 12
 * bytes. Records follow:
 *
 * ```
 * offset  size  field
 * 0       4     payload length N (uint32 LE)
 * 4       1     type (bits 0-6) | CONTINUED flag (bit 7)
 * 5       4     CRC-32 of bytes 0..5 (header check)
 * 9       N     payload (UTF-8 JSON)
 * 9+N     4     CRC-32 of the payload
 * ```
 *
 * One `save()` becomes one group of records: every record but the last has the
 * CONTINUED flag, so replay applies a save entirely or not at all.
 * @internal
 */
import { crc32 } from './crc32.js';

export const SEGMENT_MAGIC = Buffer.from('WRAFTWL1', 'ascii');
export const SEGMENT_HEADER_BYTES = 16;
export const SNAPSHOT_MAGIC = Buffer.from('WRAFTSN1', 'ascii');
export const HEADER_BYTES = 9;
export const TRAILER_BYTES = 4;
/** Upper bound on one record's payload; a larger length is treated as damage. */
export const MAX_PAYLOAD_BYTES = 1 << 30;

/** Record types. Values are written to disk: never renumber them. */
export const RecordType = {
  /** `HardState` JSON: replaces the hard state. */
  HardState: 1,
  /** `{ from, entries }`: drop every entry with index >= from, then append `entries`. */
  Entries: 2,
  /** `SnapshotMarker` JSON: the snapshot file this segment builds on. First record of a segment only. */
  SnapshotMarker: 3,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];
const CONTINUED = 0x80;

/** Names the snapshot file a segment starts from, with the checks to verify it. */
export interface SnapshotMarker {
  file: string;
  index: number;
  term: number;
  /** Bytes of the JSON body in the snapshot file. */
  size: number;
  /** CRC-32 of that JSON body. */
  crc: number;
}

export interface RecordInput {
  type: RecordType;
  payload: unknown;
}

/** Encodes one save as a record group (CONTINUED on all but the last record). */
export function encodeGroup(records: RecordInput[]): Buffer {
  const parts = records.map((record, i) => encodeRecord(record.type, Buffer.from(JSON.stringify(record.payload), 'utf8'), i < records.length - 1));
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function encodeRecord(type: RecordType, payload: Buffer, continued: boolean): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length + TRAILER_BYTES);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt8(type | (continued ? CONTINUED : 0), 4);
  out.writeUInt32LE(crc32(out, 0, 5), 5);
  payload.copy(out, HEADER_BYTES);
  out.writeUInt32LE(crc32(payload), HEADER_BYTES + payload.length);
  return out;
}

export interface DecodedRecord {
  type: RecordType;
  continued: boolean;
  payload: unknown;
  /** Offset of the record in the file. */
  offset: number;
  /** Offset just past the record. */
  end: number;
}

/**
 * Reads the record at `offset` of `buf`: the record, or the reason it is not
 * a whole valid record (incomplete, checksum mismatch, unknown type, bad JSON).
 */
export function readRecord(buf: Uint8Array, offset: number): DecodedRecord | { damage: string } {
  if (buf.length - offset < HEADER_BYTES) return { damage: 'incomplete record header' };
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.readUInt32LE(offset + 5) !== crc32(buf, offset, offset + 5)) return { damage: 'record header checksum mismatch' };
  const length = view.readUInt32LE(offset);
  const typeByte = view.readUInt8(offset + 4);
  const type = (typeByte & ~CONTINUED) as RecordType;
  if (length > MAX_PAYLOAD_BYTES) return { damage: `record length ${length} out of range` };
  if (type !== RecordType.HardState && type !== RecordType.Entries && type !== RecordType.SnapshotMarker) {
    return { damage: `unknown record type ${type}` };
  }
  const start = offset + HEADER_BYTES;
  const end = start + length + TRAILER_BYTES;
  if (end > buf.length) return { damage: 'incomplete record' };
  if (view.readUInt32LE(start + length) !== crc32(buf, start, start + length)) return { damage: 'record checksum mismatch' };
  let payload: unknown;
  try {
    payload = JSON.parse(view.toString('utf8', start, start + length));
  } catch {
    return { damage: 'record payload is not JSON' };
  }
  return { type, continued: (typeByte & CONTINUED) !== 0, payload, offset, end };
}

/**
 * True when a whole valid record starts anywhere in `buf` after `offset`. Used
 * to tell a torn tail (nothing valid follows the damage) from corruption in
 * the middle of the log (valid records follow it).
 */
export function validRecordFollows(buf: Uint8Array, offset: number): boolean {
  for (let p = offset + 1; p + HEADER_BYTES + TRAILER_BYTES <= buf.length; p++) {
    if ('type' in readRecord(buf, p)) return true;
  }
  return false;
}

/** A segment's content before it is renamed into place: header plus `base` records. */
export function encodeSegment(base: Buffer | null): Buffer {
  const out = Buffer.alloc(SEGMENT_HEADER_BYTES + (base?.length ?? 0));
  SEGMENT_MAGIC.copy(out, 0);
  out.writeUInt32LE(out.length, 8);
  out.writeUInt32LE(crc32(out, 0, 12), 12);
  base?.copy(out, SEGMENT_HEADER_BYTES);
  return out;
}

/** The end offset of the segment's base, or null when the header is damaged. */
export function decodeSegmentHeader(buf: Buffer): number | null {
  if (buf.length < SEGMENT_HEADER_BYTES || !buf.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) return null;
  if (buf.readUInt32LE(12) !== crc32(buf, 0, 12)) return null;
  const baseEnd = buf.readUInt32LE(8);
  return baseEnd >= SEGMENT_HEADER_BYTES ? baseEnd : null;
}

/** Encodes a snapshot file: magic, body length, body CRC-32, JSON body. */
export function encodeSnapshotFile(body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(SNAPSHOT_MAGIC.length + 8);
  SNAPSHOT_MAGIC.copy(header, 0);
  header.writeUInt32LE(body.length, SNAPSHOT_MAGIC.length);
  header.writeUInt32LE(crc32(body), SNAPSHOT_MAGIC.length + 4);
  return Buffer.concat([header, body]);
}

/** Decodes a snapshot file; returns the reason when it is damaged. */
export function decodeSnapshotFile(buf: Buffer): { body: Buffer; crc: number } | { damage: string } {
  const h = SNAPSHOT_MAGIC.length;
  if (buf.length < h + 8 || !buf.subarray(0, h).equals(SNAPSHOT_MAGIC)) return { damage: 'bad snapshot file header' };
  const length = buf.readUInt32LE(h);
  const crc = buf.readUInt32LE(h + 4);
  if (buf.length !== h + 8 + length) return { damage: `snapshot file is ${buf.length} bytes, header says ${h + 8 + length}` };
  const body = buf.subarray(h + 8);
  if (crc32(body) !== crc) return { damage: 'snapshot checksum mismatch' };
  return { body, crc };
}
