/** An opaque timer handle. */
export type TimerHandle = unknown;

/**
 * Where a node gets time and timers. The core never reads a clock itself;
 * this is the one place the API layer does, so tests can substitute a
 * virtual clock (see `VirtualClock` in src/testing, which the
 * linearizability tests run on).
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /**
   * Optional: runs `callback` in a new task soon, after the current one (the
   * node processes its work this way, so that what one turn produced shares
   * one save and one message per peer). Default: `setImmediate`, or a
   * MessageChannel in browsers. A simulated clock provides it to keep that
   * work on its own schedule.
   */
  setImmediate?(callback: () => void): void;
}

/** The real clock: `performance.now()` and the global timers. */
export function realClock(): Clock {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return {
    now: perf ? () => perf.now() : () => Date.now(),
    // A running node keeps a Node process alive, like a server, until end().
    setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}
