/**
 * protobufjs (v8, reflection over proto/webraft/v1/raft.proto with its bundled
 * google/protobuf/struct.proto) as a third, independent decoder and encoder of
 * the golden vectors.
 */
import { describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { encodeFrame, FrameDecoder } from 'webraft/binary';
import { canonicalize, messageType, type Payload } from '../../scripts/interop/reference.js';
import { decodeGenerated, loadProduct, loadVectors, type Vector } from './harness.js';

const vectors = loadVectors();
const product = await loadProduct();
const binary = product; // webraft/binary encode/decode
const Message = messageType();

/** google.protobuf.Value as protobufjs' toObject renders it -> the JSON value it stands for. */
function unwrapValue(v: Record<string, unknown>): unknown {
  if ('nullValue' in v) return null;
  if ('numberValue' in v) return v.numberValue;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('structValue' in v) {
    const fields = ((v.structValue as { fields?: Record<string, Record<string, unknown>> }).fields ?? {}) as Record<string, Record<string, unknown>>;
    return Object.fromEntries(Object.entries(fields).map(([k, x]) => [k, unwrapValue(x)]));
  }
  if ('listValue' in v) return ((v.listValue as { values?: Record<string, unknown>[] }).values ?? []).map(unwrapValue);
  throw new Error(`Value with no kind: ${JSON.stringify(v)}`);
}

/** Replaces every google.protobuf.Value in a protobufjs object with its JSON value. */
function unwrapValues(type: protobuf.Type, obj: Record<string, unknown>): Payload {
  const out: Payload = {};
  for (const [k, v] of Object.entries(obj)) {
    const field = type.fields[k];
    const rt = field?.resolvedType;
    if (!field || !rt || !('fieldsArray' in rt)) out[k] = v;
    else if ((rt as protobuf.Type).fullName === '.google.protobuf.Value') out[k] = unwrapValue(v as Record<string, unknown>);
    else if (field.repeated) out[k] = (v as Record<string, unknown>[]).map((x) => unwrapValues(rt as protobuf.Type, x));
    else out[k] = unwrapValues(rt as protobuf.Type, v as Record<string, unknown>);
  }
  return out;
}

function toPayloadProtobufjs(message: protobuf.Message): Payload {
  const obj = Message.toObject(message, { longs: String, enums: String, bytes: String });
  return canonicalize(unwrapValues(Message, obj));
}

function decodeProtobufjs(bytes: Uint8Array): Payload {
  return toPayloadProtobufjs(Message.decode(bytes));
}

/** Struct map entries with an empty key: protobufjs writes the key, ts-proto omits it (both valid). */
const hasEmptyKey = (v: unknown): boolean =>
  Array.isArray(v) ? v.some(hasEmptyKey) : v !== null && typeof v === 'object' ? '' in v || Object.values(v).some(hasEmptyKey) : false;

describe.each(vectors.map((v) => [v.name, v] as [string, Vector]))('protobufjs: %s', (_name, v) => {
  it('decodes the TS binary to the TS payload', () => {
    expect(decodeProtobufjs(v.binary)).toEqual(v.json);
  });
  it('re-encodes what it decoded to the same bytes (or the same message when an empty Struct key is present)', () => {
    const again = Buffer.from(Message.encode(Message.decode(v.binary)).finish());
    if (hasEmptyKey(v.json)) expect(decodeGenerated(again)).toEqual(v.json);
    else expect(again.toString('hex')).toBe(v.binary.toString('hex'));
  });
  it.skipIf(!binary)('decodes the product binary (encode of the TS payload) to the TS payload', () => {
    let bytes: Uint8Array;
    try {
      bytes = binary!.encode(structuredClone(v.json));
    } catch (e) {
      return expect(v.productMayReject, (e as Error).message).toBe(true);
    }
    expect(decodeProtobufjs(bytes)).toEqual(v.json);
  });
});

describe('length-delimited framing (webraft/binary) against protobufjs encodeDelimited/decodeDelimited', () => {
  const accepted = vectors.filter((v) => !v.productMayReject);

  it('a stream of encodeFrame() frames reads back with protobufjs decodeDelimited', () => {
    const stream = Buffer.concat(accepted.map((v) => encodeFrame(structuredClone(v.json))));
    const reader = protobuf.Reader.create(stream);
    const got: Payload[] = [];
    while (reader.pos < reader.len) got.push(toPayloadProtobufjs(Message.decodeDelimited(reader)));
    expect(got).toEqual(accepted.map((v) => v.json));
  });

  // 1-byte chunks skip the ~256 KiB vector: FrameDecoder buffers each chunk in an
  // array and shift()s it, so a frame split into n chunks costs O(n^2) (~24 s here).
  it.each([
    [1, false],
    [7, true],
    [4096, true],
    [1 << 20, true],
  ])('a protobufjs encodeDelimited stream splits with FrameDecoder in %i-byte chunks (large vector: %s)', (chunk, large) => {
    const writer = protobuf.Writer.create();
    const streamVectors = accepted.filter((v) => large || v.binary.length < 64 * 1024);
    for (const v of streamVectors) Message.encodeDelimited(Message.decode(v.binary), writer);
    const stream = writer.finish();
    const decoder = new FrameDecoder();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += chunk) frames.push(...decoder.push(stream.subarray(i, i + chunk)));
    expect(decoder.pendingBytes).toBe(0);
    expect(frames.map((f) => JSON.parse(JSON.stringify(product.decode(f))))).toEqual(streamVectors.map((v) => v.json));
  });
});
