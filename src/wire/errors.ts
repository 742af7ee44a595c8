/**
 * The one error class of the wire layer. Every rejection of a payload (JSON or
 * binary) and every refusal to serialise an invalid outgoing message is a
 * {@link WireError} with a string {@link WireErrorCode}.
 */

/** What was wrong with a payload; stable strings that callers may switch on. */
export type WireErrorCode =
  /** The payload (or a nested message) is not a plain object. */
  | 'NOT_AN_OBJECT'
  /** A field has the wrong JSON type (e.g. a boolean where a string belongs). */
  | 'INVALID_TYPE'
  /** A number is negative, fractional, non-finite, above 2^53-1 or a non-canonical decimal string. */
  | 'INVALID_NUMBER'
  /** A string is not well-formed UTF-16 (lone surrogate), so it has no UTF-8 form. */
  | 'INVALID_STRING'
  /** A required field (such as `from`, `to`, a proposal's `command`) is absent or empty. */
  | 'MISSING_FIELD'
  /** The same field is given under both its lowerCamelCase and its snake_case name. */
  | 'DUPLICATE_FIELD'
  /** No oneof body (requestVoteRequest, appendEntriesRequest, ...) is set. */
  | 'MISSING_BODY'
  /** More than one oneof body is set. */
  | 'MULTIPLE_BODIES'
  /** The message carries a body kind this implementation does not know. */
  | 'UNKNOWN_BODY'
  /** A configured {@link WireLimits} bound is exceeded. */
  | 'LIMIT_EXCEEDED'
  /** Log entries break a structural rule (contiguity, terms, command/configuration presence). */
  | 'INVALID_ENTRIES'
  /** The payload's `from` differs from the address it arrived from. */
  | 'SENDER_MISMATCH'
  /** An enum is unknown or UNSPECIFIED where a value is required. */
  | 'INVALID_ENUM'
  /** Protobuf binary data (or a frame) is malformed. */
  | 'INVALID_BINARY';

/**
 * A payload or message violates the wire contract.
 *
 * `message` is `<field path>: <problem>`, for example
 * `appendEntriesRequest.entries[2].term: must be an integer in 0..2^53-1, got -1`.
 */
export class WireError extends Error {
  /** The kind of violation. */
  readonly code: WireErrorCode;
  /** Path of the offending field in lowerCamelCase proto3 JSON terms, when one field is at fault. */
  declare readonly field?: string;

  constructor(code: WireErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(field === undefined || field === '' ? message : `${field}: ${message}`, options);
    this.name = 'WireError';
    this.code = code;
    if (field !== undefined && field !== '') this.field = field;
  }
}

/** True when `value` is a {@link WireError} (also across bundled copies of the library). */
export function isWireError(value: unknown): value is WireError {
  return (
    value instanceof WireError ||
    (value instanceof Error && value.name === 'WireError' && typeof (value as { code?: unknown }).code === 'string')
  );
}

/**
 * Turns anything thrown inside a codec into a {@link WireError}: a WireError
 * passes through, a stack overflow becomes LIMIT_EXCEEDED, anything else is
 * wrapped with `fallback` as its code and kept as `cause`.
 * @internal
 */
export function toWireError(thrown: unknown, fallback: WireErrorCode): WireError {
  if (isWireError(thrown)) return thrown;
  if (thrown instanceof RangeError && /call stack/i.test(thrown.message)) {
    return new WireError('LIMIT_EXCEEDED', 'payload is nested too deeply', undefined, { cause: thrown });
  }
  const detail = thrown instanceof Error ? thrown.message : String(thrown);
  return new WireError(fallback, `unexpected failure: ${detail}`, undefined, { cause: thrown });
}
