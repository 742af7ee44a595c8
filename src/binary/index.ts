/**
 * webraft/binary: the protobuf binary form of WebRaft payloads, and
 * length-delimited framing for byte streams.
 *
 * `encode` takes the same proto3 JSON payload `NodeInstance.write()` receives
 * and returns the protobuf binary of `webraft.v1.Message`; `decode` turns such
 * bytes back into that payload, so `decode(encode(p))` deep-equals `p`.
 */
import {
  messageToPayload,
  payloadToMessage,
  resolveLimits,
  toWireError,
  WireError,
  type MessagePayload,
  type WireLimits,
} from '../wire/index.js';
import type { Message } from '../core/types.js';
import { decodeAppendEntries } from './decode-append-entries.js';
import { decodeBody, readEnvelope } from './decode-message.js';
import { encodeMessage } from './encode-message.js';
import { frameBytes, maxBinaryBytes } from './framing.js';
import { ProtoReader } from './proto-reader.js';

export { FrameDecoder, splitFrames, DEFAULT_MAX_FRAME_BYTES, maxBinaryBytes, type FrameDecoderOptions } from './framing.js';
export { WireError, isWireError, DEFAULT_WIRE_LIMITS } from '../wire/index.js';
export type { MessagePayload, WireErrorCode, WireLimits } from '../wire/index.js';

/** Options of {@link encode}. */
export interface EncodeOptions {
  /** Bounds the payload must respect; unset fields take DEFAULT_WIRE_LIMITS. */
  limits?: Partial<WireLimits>;
}

/** Options of {@link decode}. */
export interface DecodeOptions {
  /**
   * Bounds for the data; unset fields take DEFAULT_WIRE_LIMITS. `maxPayloadBytes`
   * bounds the payload's size estimate, as for JSON; the byte length may be up
   * to `maxBinaryBytes(maxPayloadBytes)` (UTF-8 takes up to 3 bytes per character).
   */
  limits?: Partial<WireLimits>;
  /** Address the bytes arrived from; a message claiming another `from` is SENDER_MISMATCH. */
  from?: string;
}

/**
 * Validates a proto3 JSON payload (as `fromPayload` does) and returns the
 * protobuf binary encoding of the `webraft.v1.Message` it represents.
 * @throws WireError when the payload is invalid.
 */
export function encode(payload: object, options?: EncodeOptions): Uint8Array {
  try {
    const limits = resolveLimits(options?.limits);
    // The payload is checked as gotData checks it (its commands are only read, not copied), then written.
    return encodeMessage(payloadToMessage(payload, undefined, limits, false));
  } catch (thrown) {
    throw toWireError(thrown, 'INVALID_TYPE');
  }
}

/**
 * Decodes protobuf binary `webraft.v1.Message` bytes, validates the message
 * with the same rules as `fromPayload`, and returns its canonical proto3 JSON
 * payload (a fresh plain object).
 * @throws WireError (only): INVALID_BINARY for malformed bytes, or the code of the violated rule.
 */
export function decode(bytes: Uint8Array, options?: DecodeOptions): MessagePayload {
  try {
    if (!(bytes instanceof Uint8Array)) {
      throw new WireError('INVALID_BINARY', 'data must be a Uint8Array');
    }
    const limits = resolveLimits(options?.limits);
    // A cheap bound before decoding; the size estimate checked while decoding is the exact limit.
    if (bytes.length > maxBinaryBytes(limits.maxPayloadBytes)) {
      throw new WireError('LIMIT_EXCEEDED', `${bytes.length} bytes exceed what a payload within maxPayloadBytes (${limits.maxPayloadBytes}) can take`);
    }
    const r = new ProtoReader(bytes);
    const envelope = readEnvelope(r);
    if (options?.from !== undefined && envelope.from !== options.from) {
      throw new WireError(
        'SENDER_MISMATCH',
        `message claims sender ${JSON.stringify(envelope.from)} but arrived from ${JSON.stringify(options.from)}`,
        'from',
      );
    }
    if (envelope.body.type === 'AppendEntriesRequest') return decodeAppendEntries(r, envelope, limits);
    const message: Message = { from: envelope.from, to: envelope.to, term: envelope.term, body: decodeBody(r, envelope, limits) };
    // The decoded message is ours alone and its commands were checked while decoding: they go into the payload as they are.
    return messageToPayload(message, limits, 'checked-reference');
  } catch (thrown) {
    throw toWireError(thrown, 'INVALID_BINARY');
  }
}

/**
 * One length-delimited frame: a varint byte length, then the message bytes.
 * Given a payload object it is encoded first (see {@link encode}); given bytes
 * they are framed as they are.
 * @throws WireError when a payload is invalid.
 */
export function encodeFrame(payloadOrBytes: object | Uint8Array, options?: EncodeOptions): Uint8Array {
  return frameBytes(payloadOrBytes instanceof Uint8Array ? payloadOrBytes : encode(payloadOrBytes, options));
}
