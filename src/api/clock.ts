/** An opaque timer handle. */
export type TimerHandle = unknown;

/**
 * Where a node gets time and timers. The core never reads a clock itself;
 * this is the one place the API layer does, so tests can substitute a
 * manual clock (see `ManualClock` in webraft's testing helpers).
 */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and the global timers. */
export function realClock(): Clock {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return {
    now: perf ? () => perf.now() : () => Date.now(),
    setTimeout: (callback, delayMs) => {
      const handle = setTimeout(callback, delayMs);
      // Do not keep a Node process alive just for Raft timers.
      (handle as { unref?: () => void }).unref?.();
      return handle;
    },
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}
