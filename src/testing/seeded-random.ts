/**
 * A small, fast, seeded pseudo-random generator (mulberry32) for
 * deterministic tests and simulations. The same seed always yields the same
 * sequence, on every platform. Not cryptographic.
 */
export class SeededRandom {
  private readonly generate: () => number;

  /** `seed` may be any number; it is mixed (splitmix32) so nearby seeds give unrelated streams. */
  constructor(seed: number) {
    this.generate = mulberry32(mix32(Math.trunc(seed) >>> 0 ^ Math.trunc(seed / 4294967296)));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.generate();
  }

  /** Uniform integer in [0, n). `n` must be a positive integer. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(array: readonly T[]): T {
    if (array.length === 0) throw new RangeError('pick from an empty array');
    return array[this.int(array.length)];
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A new generator seeded from this one (an independent stream). */
  fork(): SeededRandom {
    return new SeededRandom(this.int(4294967296));
  }

  /** `next` bound to this generator, for APIs that take `() => number`. */
  get fn(): () => number {
    return () => this.next();
  }
}

function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Plain mulberry32 as a function: `seed` is used as is (no mixing, unlike
 * SeededRandom), so tests that print a seed keep reproducing the same stream.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
