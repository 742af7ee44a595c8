/** Bounds that protect a receiver from oversized or hostile payloads. */
export interface WireLimits {
  /**
   * Upper bound on a payload's size in bytes. For a JSON payload it is an
   * estimate made while walking it (string lengths plus a few bytes per
   * field), never a full JSON.stringify; for binary data it is the byte length.
   */
  maxPayloadBytes: number;
  /** Most log entries one AppendEntriesRequest may carry. */
  maxEntriesPerMessage: number;
  /** Longest string (in UTF-16 code units) anywhere in a payload, commands included. */
  maxStringLength: number;
  /** Deepest nesting of arrays and objects inside a command (`{}` and `[]` are depth 1). */
  maxJsonDepth: number;
}

/** Limits used when the caller gives none: 16 MiB, 10 000 entries, 1 MiB strings, depth 64. */
export const DEFAULT_WIRE_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxPayloadBytes: 16 * 1024 * 1024,
  maxEntriesPerMessage: 10_000,
  maxStringLength: 1024 * 1024,
  maxJsonDepth: 64,
});

/** Fills the gaps of a partial limits object with {@link DEFAULT_WIRE_LIMITS}. @internal */
export function resolveLimits(limits?: Partial<WireLimits>): Readonly<WireLimits> {
  if (limits === undefined) return DEFAULT_WIRE_LIMITS;
  return {
    maxPayloadBytes: limits.maxPayloadBytes ?? DEFAULT_WIRE_LIMITS.maxPayloadBytes,
    maxEntriesPerMessage: limits.maxEntriesPerMessage ?? DEFAULT_WIRE_LIMITS.maxEntriesPerMessage,
    maxStringLength: limits.maxStringLength ?? DEFAULT_WIRE_LIMITS.maxStringLength,
    maxJsonDepth: limits.maxJsonDepth ?? DEFAULT_WIRE_LIMITS.maxJsonDepth,
  };
}
