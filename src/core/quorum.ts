/**
 * Majority arithmetic (§5.2, §5.3): a leaf with no dependencies.
 */

/** Number of votes that make a majority of `voterCount` voters. */
export function quorumSize(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index replicated on a majority of voters, given each voter's
 * match index (§5.3). Returns 0 for an empty voter set.
 */
export function majorityMatchIndex(matchIndexes: number[]): number {
  if (matchIndexes.length === 0) return 0;
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  return sorted[quorumSize(sorted.length) - 1];
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Tallies granted and rejected votes among `voters` (§5.2). */
export function tallyVotes(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = quorumSize(voters.length);
  if (granted >= needed) return 'won';
  if (voters.length - rejected < needed) return 'lost';
  return 'pending';
}
