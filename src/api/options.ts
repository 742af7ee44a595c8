import { RaftError } from '../core/errors.js';
import { describeValue } from '../wire/describe-value.js';
import type { RaftOptions } from './raft-interface.js';

/**
 * With `snapshotThreshold` T, a leader keeps up to this many times T entries
 * behind its latest snapshot while a follower is still installing an older one
 * (CoreOptions.snapshotCatchUpEntries): enough for a follower to go on with
 * AppendEntries even when a transfer takes as long as several snapshots' worth
 * of commits, while the log stays a small multiple of T (at most about 5 T
 * plus entries not yet applied). See docs/decisions.md.
 */
export const SNAPSHOT_CATCH_UP_FACTOR = 4;

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
  for (const name of ['maxEntriesPerMessage', 'maxBytesPerMessage', 'maxInflight', 'snapshotChunkBytes'] as const) {
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
