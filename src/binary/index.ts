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
import { decodeMessage } from './decode-message.js';
import { decodePayloadFast } from './decode-payload.js';
import { encodeMessage } from './encode-message.js';
import { encodePayloadFast } from './encode-payload.js';
import { frameBytes, maxBinaryBytes } from './framing.js';

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
    // The reference path yields the precise error, or the bytes of payloads the one-pass encoder leaves to it.
    return encodePayloadFast(payload, limits) ?? encodeMessage(payloadToMessage(payload, undefined, limits, false));
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
    const payload = decodePayloadFast(bytes, limits);
    if (payload !== undefined && (options?.from === undefined || payload.from === options.from)) return payload;
    // The reference path: it yields the precise error, or the payload of unusual but valid bytes.
    const message = decodeMessage(bytes, limits);
    if (options?.from !== undefined && message.from !== options.from) {
      throw new WireError(
        'SENDER_MISMATCH',
        `message claims sender ${JSON.stringify(message.from)} but arrived from ${JSON.stringify(options.from)}`,
        'from',
      );
    }
    // The decoded message is ours alone, so its command values can go into the payload uncopied.
    return messageToPayload(message, limits, 'validate-reference');
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
