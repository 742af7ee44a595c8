/**
 * Hooks for the library's own deterministic simulation (test/sim), not part
 * of the public API: the symbols are not exported from any entry point.
 * @internal
 */

/** A RaftInterface's core, read-only, so the simulation can check Raft's invariants on the node users run. */
export const CORE: unique symbol = Symbol('webraft.core');

/**
 * Overridable method of RaftInterface that names this run's client session
 * (§6.3). Default: the address and 16 random hex digits from crypto, unique
 * per run. The simulation derives it from the run instead, so a seed replays
 * identically.
 */
export const NEW_CLIENT_ID: unique symbol = Symbol('webraft.newClientId');
