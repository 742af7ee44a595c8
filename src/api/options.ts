import { RaftError } from '../core/errors.js';
import { describeValue } from '../core/json.js';
import type { RaftOptions } from './raft-interface.js';

/** The least {@link snapshotCatchUpEntries} when snapshots are on (hashicorp/raft keeps 10240 TrailingLogs, etcd 5000). */
export const MIN_SNAPSHOT_CATCH_UP_ENTRIES = 1024;

/**
 * How many entries behind its latest snapshot a leader may keep while a
 * follower is still installing an older one (CoreOptions.snapshotCatchUpEntries)
 * with `snapshotThreshold` T: 4 T, and at least 1024, so that a follower can go
 * on with AppendEntries even when a transfer takes as long as many commits
 * (with T = 1 and a 34 KB state in 647-byte chunks, the simulation's seed
 * 1000965 committed about 10 entries per transfer). The entries are kept only
 * while a transfer is being acknowledged, so a healthy cluster's log stays
 * within about T plus entries not yet applied. 0 when T is 0 (no snapshots).
 * See docs/decisions.md.
 */
export function snapshotCatchUpEntries(snapshotThreshold: number): number {
  return snapshotThreshold > 0 ? Math.max(4 * snapshotThreshold, MIN_SNAPSHOT_CATCH_UP_ENTRIES) : 0;
}

/**
 * Checks the options of `new RaftInterface(address, options)` and throws
 * RaftError INVALID_ARGUMENT naming the first one that cannot work, as
 * etcd's Config.validate and hashicorp/raft's ValidateConfig do, rather than
 * letting the node start and never replicate (`maxInflight: 0` sends nothing).
 */
export function checkOptions(options: RaftOptions): void {
  if (typeof options !== 'object' || options === null) invalid('options', 'must be an object', options);
  const { peers, wireLimits } = options;
  if (peers !== undefined && (!Array.isArray(peers) || !peers.every((p) => typeof p === 'string' && p.length > 0))) {
    invalid('peers', 'must be an array of non-empty address strings', peers);
  }
  for (const name of ['maxEntriesPerMessage', 'maxBytesPerMessage', 'maxInflight', 'snapshotChunkBytes', 'maxSnapshotBytes'] as const) {
    positiveInteger(`options.${name}`, options[name]);
  }
  const threshold = options.snapshotThreshold;
  if (threshold !== undefined && !(Number.isSafeInteger(threshold) && threshold >= 0)) {
    invalid('snapshotThreshold', 'must be a whole number of entries (0 or absent: no snapshots)', threshold);
  }
  const drift = options.maxClockDrift;
  if (drift !== undefined && !(typeof drift === 'number' && Number.isFinite(drift) && drift >= 0)) {
    invalid('maxClockDrift', 'must be a finite number >= 0', drift);
  }
  for (const name of ['preVote', 'checkQuorum', 'leaseReads'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean') invalid(name, 'must be a boolean', value);
  }
  if (options.random !== undefined && typeof options.random !== 'function') invalid('random', 'must be a function', options.random);
  if (wireLimits !== undefined) {
    if (typeof wireLimits !== 'object' || wireLimits === null) invalid('wireLimits', 'must be an object', wireLimits);
    for (const name of ['maxPayloadBytes', 'maxEntriesPerMessage', 'maxStringLength', 'maxJsonDepth'] as const) {
      positiveInteger(`options.wireLimits.${name}`, wireLimits[name]);
    }
  }
}

function positiveInteger(path: string, value: unknown): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) > 0)) {
    throw new RaftError('INVALID_ARGUMENT', `${path} must be a whole number above 0, got ${describeValue(value)}`);
  }
}

function invalid(name: string, rule: string, value: unknown): never {
  throw new RaftError('INVALID_ARGUMENT', `options.${name} ${rule}, got ${describeValue(value)}`);
}

/**
 * A timing getter's value as the node uses it: a getter that returns
 * anything but a positive finite number of ms (0, NaN, a string) means its
 * default. A timeout of 0 would start an election on every tick and never
 * elect anyone.
 */
export function timingValue(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
