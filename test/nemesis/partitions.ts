/**
 * The network partitions of the nemesis, as sets of cut directed links
 * ("grudges", as Jepsen calls them). Pure: the nodes, the leader and a seeded
 * random source in, the cuts out.
 *
 * - halves: a random split into two halves (the smaller first); every link
 *   between them is cut both ways;
 * - isolate-leader: the leader alone on one side;
 * - ring (Jepsen's majorities ring): nodes in a random ring; each node hears
 *   only from itself and the next floor(n/2) nodes of the ring, so every node
 *   sees a majority, and no two see the same one (for n >= 4; with 3 nodes the
 *   ring of 2-node majorities degenerates to one-way cuts a->b->c->a);
 * - bridge: two halves that cannot talk, and one node in the middle that
 *   talks to both;
 * - one-way: one node's messages to the others are dropped while it still
 *   receives theirs (its `to` side is cut), or one single directed link.
 */
import type { SeededRandom } from '../../src/testing/seeded-random.js';

export const PARTITION_KINDS = ['halves', 'isolate-leader', 'ring', 'bridge', 'one-way'] as const;
export type PartitionKind = (typeof PARTITION_KINDS)[number];

export interface Partition {
  cuts: [string, string][];
  /** For the log: e.g. "n1 n3 | n2". */
  description: string;
}

/** `nodes`: the current voters (names); `leader`: a name or null when unknown. */
export function partition(kind: PartitionKind, nodes: readonly string[], leader: string | null, rng: SeededRandom): Partition {
  const shuffled = shuffle(nodes, rng);
  switch (kind) {
    case 'halves': {
      const half = Math.floor(shuffled.length / 2);
      return split(shuffled.slice(0, half), shuffled.slice(half));
    }
    case 'isolate-leader': {
      const alone = leader !== null && nodes.includes(leader) ? leader : shuffled[0];
      return split([alone], nodes.filter((n) => n !== alone));
    }
    case 'ring':
      return ring(shuffled);
    case 'bridge': {
      const middle = Math.floor(shuffled.length / 2);
      const left = shuffled.slice(0, middle);
      const right = shuffled.slice(middle + 1);
      const cuts = crossCuts(left, right);
      return { cuts, description: `${left.join(' ')} | ${shuffled[middle]} (bridge) | ${right.join(' ')}` };
    }
    case 'one-way': {
      const source = leader !== null && nodes.includes(leader) && rng.chance(0.5) ? leader : rng.pick(nodes);
      const others = nodes.filter((n) => n !== source);
      if (rng.chance(0.5)) {
        return { cuts: others.map((to) => [source, to]), description: `${source} -/-> ${others.join(' ')} (${source} still hears them)` };
      }
      const target = rng.pick(others);
      return { cuts: [[source, target]], description: `${source} -/-> ${target} only` };
    }
  }
}

function split(a: readonly string[], b: readonly string[]): Partition {
  return { cuts: crossCuts(a, b), description: `${a.join(' ')} | ${b.join(' ')}` };
}

function crossCuts(a: readonly string[], b: readonly string[]): [string, string][] {
  const cuts: [string, string][] = [];
  for (const x of a) {
    for (const y of b) {
      cuts.push([x, y], [y, x]);
    }
  }
  return cuts;
}

function ring(order: readonly string[]): Partition {
  const n = order.length;
  const heard = Math.floor(n / 2); // besides itself: a majority is floor(n/2) + 1
  const cuts: [string, string][] = [];
  const views: string[] = [];
  for (let i = 0; i < n; i++) {
    const hears = new Set<string>();
    for (let d = 0; d <= heard; d++) hears.add(order[(i + d) % n]);
    for (const other of order) if (!hears.has(other)) cuts.push([other, order[i]]);
    views.push(`${order[i]} hears ${[...hears].filter((x) => x !== order[i]).join(',')}`);
  }
  return { cuts, description: `ring ${order.join('-')}: ${views.join('; ')}` };
}

function shuffle<T>(items: readonly T[], rng: SeededRandom): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
