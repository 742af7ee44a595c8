/**
 * Where a run's request ids start (read barriers, membership changes,
 * transfers). A response addressed to an earlier run of a node can still be
 * in the network when the node is back; if the new run counted from the same
 * start, such a response would answer a new request that reuses its id (a
 * stale ReadIndexResponse would hand a new read an old read index, breaking
 * linearizability, §6.4).
 *
 * The start is derived from the run's client id, which is unique per run
 * (CoreOptions.clientId), not from the random source: a test that injects the
 * same seeded random into every run still gets distinct starts. It is a 48-bit
 * hash plus 1, so ids stay far below 2^53 for any realistic number of requests.
 */
export function requestIdStart(clientId: string): number {
  const high = fnv1a(clientId, 0x811c9dc5);
  const low = fnv1a(clientId, 0x01000193) & 0xffff;
  return high * 0x10000 + low + 1;
}

/** 32-bit FNV-1a over the UTF-16 code units of `text`, from `basis`. */
function fnv1a(text: string, basis: number): number {
  let hash = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
