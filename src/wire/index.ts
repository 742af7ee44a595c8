/**
 * The wire layer: core messages <-> proto3 JSON payloads of `webraft.v1.Message`,
 * with validation of everything that crosses the boundary.
 */
export { WireError, isWireError, type WireErrorCode } from './errors.js';
export { DEFAULT_WIRE_LIMITS, type WireLimits } from './limits.js';
export type { MessagePayload } from './payload.js';
export { toPayload } from './to-payload.js';
export { fromPayload, type FromPayloadOptions, type FromPayloadResult } from './from-payload.js';

/** @internal Helpers for the binary codec (`src/binary`); not part of the public API. */
export { messageToPayload } from './to-payload.js';
/** @internal */
export { payloadToMessage } from './from-payload.js';
/** @internal */
export { resolveLimits } from './limits.js';
/** @internal */
export { toWireError } from './errors.js';
/** @internal */
export {
  parseChangeType,
  parseEntryType,
  ENTRY_TYPE_NAMES,
  ENTRY_TYPE_NUMBERS,
  CHANGE_TYPE_NAMES,
  CHANGE_TYPE_NUMBERS,
} from './enums.js';
/** @internal */
export { encodeBase64 } from './base64.js';
/** @internal */
export { isWellFormedString, isPlainObject, setOwn } from '../core/json.js';
/** @internal */
export { uint64OrMinus1 } from './field-readers.js';
