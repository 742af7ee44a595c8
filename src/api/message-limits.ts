import {
  DEFAULT_MAX_BYTES_PER_MESSAGE,
  DEFAULT_MAX_ENTRIES_PER_MESSAGE,
  DEFAULT_SNAPSHOT_CHUNK_BYTES,
} from '../core/raft.js';
import type { WireLimits } from '../wire/index.js';

/**
 * Room kept in every payload for what surrounds the entries of an
 * AppendEntries, the command of a ProposeRequest or the data of an
 * InstallSnapshot chunk: addresses, terms, indexes, flags, a configuration.
 */
export const ENVELOPE_BYTES = 4096;

/** The core's batching options, as the node runs them. */
export interface MessageSizes {
  maxEntriesPerMessage: number;
  maxBytesPerMessage: number;
  snapshotChunkBytes: number;
}

/**
 * The batching options capped so that every message the core builds passes
 * the wire limits, which every node of a cluster is to share: a receiver
 * rejects a payload over its `maxPayloadBytes` or with more entries than its
 * `maxEntriesPerMessage`, so a leader batching past them would never
 * replicate again. A configured value above the cap is lowered to it.
 *
 * Entries are sized on the wire's own scale (`entryByteSize`), and one
 * command always fits because `propose` refuses commands that, with
 * ENVELOPE_BYTES, exceed `maxPayloadBytes`. Snapshot chunks travel as base64
 * (4 characters per 3 bytes).
 */
export function messageSizesWithin(limits: Readonly<WireLimits>, configured: Partial<MessageSizes>): MessageSizes {
  const payloadRoom = Math.max(1, limits.maxPayloadBytes - ENVELOPE_BYTES);
  return {
    maxEntriesPerMessage: Math.max(1, Math.min(configured.maxEntriesPerMessage ?? DEFAULT_MAX_ENTRIES_PER_MESSAGE, limits.maxEntriesPerMessage)),
    maxBytesPerMessage: Math.min(configured.maxBytesPerMessage ?? DEFAULT_MAX_BYTES_PER_MESSAGE, payloadRoom),
    snapshotChunkBytes: Math.max(3, Math.min(configured.snapshotChunkBytes ?? DEFAULT_SNAPSHOT_CHUNK_BYTES, Math.floor(payloadRoom / 4) * 3)),
  };
}
