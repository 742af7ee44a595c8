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
export { messageToPayload, envelopeToPayload, configurationToPayload, entryPayload } from './to-payload.js';
/** @internal */
export { payloadToMessage } from './from-payload.js';
/** @internal */
export { resolveLimits } from './limits.js';
/** @internal */
export { toWireError } from './errors.js';
/** @internal */
export { parseEntryType, parseEnum, ENTRY_TYPES } from './enums.js';
/** @internal */
export { BODY_OF_NUMBER, BODY_OF_TYPE, FIELDS, FIELDS_BY_NUMBER, type BodyCase, type CodecField } from './schema.js';
/** @internal */
export { type EnumMapping } from './enums.js';
/** @internal */
export { jsonWireError } from './json-value.js';
/** @internal */
export { entryPath, fieldPath, type ParentPath } from './paths.js';
/** @internal */
export { checkEntry, checkPrevLogTerm } from './entry-rules.js';
/** @internal */
export { checkOptionalString, checkOptionalUint } from './core-value-checks.js';
/** @internal */
export { checkBudget, newBudget, SCALAR_FIELD_BYTES, type WalkBudget } from './walk-budget.js';
