import type { Configuration } from './types.js';

/**
 * Single-server membership changes (Raft dissertation §4.1): pure functions
 * over configurations, so they can be table-tested.
 */

export function cloneConfiguration(config: Configuration): Configuration {
  return { voters: [...config.voters], learners: [...config.learners] };
}

export function isVoter(config: Configuration, address: string): boolean {
  return config.voters.includes(address);
}

export function isMember(config: Configuration, address: string): boolean {
  return config.voters.includes(address) || config.learners.includes(address);
}

/** Every member, voters first. */
export function members(config: Configuration): string[] {
  return [...config.voters, ...config.learners];
}

/** Adds `address` as a learner (the first step of adding a voter). */
export function withLearner(config: Configuration, address: string): Configuration {
  if (isMember(config, address)) return cloneConfiguration(config);
  return { voters: [...config.voters], learners: [...config.learners, address] };
}

/** Promotes a learner (or adds a non-member) to voter. */
export function withVoter(config: Configuration, address: string): Configuration {
  return {
    voters: config.voters.includes(address) ? [...config.voters] : [...config.voters, address],
    learners: config.learners.filter((a) => a !== address),
  };
}

/** Removes `address` from voters and learners. */
export function without(config: Configuration, address: string): Configuration {
  return { voters: config.voters.filter((a) => a !== address), learners: config.learners.filter((a) => a !== address) };
}

/** Members that appear in `next` but not in `previous`, and the reverse. */
export function diffMembers(previous: Configuration, next: Configuration): { joined: string[]; left: string[] } {
  const before = new Set(members(previous));
  const after = new Set(members(next));
  return {
    joined: [...after].filter((a) => !before.has(a)),
    left: [...before].filter((a) => !after.has(a)),
  };
}

/** The bootstrap configuration for `peers` (the node's own address is added when missing). */
export function bootstrapConfiguration(self: string, peers: readonly string[]): Configuration {
  if (peers.length === 0) return { voters: [], learners: [] };
  const voters = [...new Set(peers.includes(self) ? peers : [...peers, self])].sort();
  return { voters, learners: [] };
}
