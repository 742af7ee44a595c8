/**
 * A `Clock` (the `clock` option of RaftInterface) whose rate and offset the
 * nemesis changes while the node runs: `now()` advances `rate` virtual ms per
 * real ms and can jump forward; timers are kept as virtual deadlines and
 * re-armed on every change, so a timer fires when the node's own clock reaches
 * its deadline (a jump past it fires it at once). `now()` never goes back.
 *
 * Invariant: rate > 0, and `now()` is non-decreasing.
 */
import type { Clock, TimerHandle } from 'webraft';

interface PendingTimer {
  deadline: number;
  callback: () => void;
  real: ReturnType<typeof setTimeout>;
}

export class DriftClock implements Clock {
  private rate = 1;
  private baseReal = performance.now();
  private baseVirtual = performance.now();
  private nextId = 1;
  private readonly timers = new Map<number, PendingTimer>();

  now(): number {
    return this.baseVirtual + (performance.now() - this.baseReal) * this.rate;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    const deadline = this.now() + Math.max(0, Number.isFinite(delayMs) ? delayMs : 0);
    this.timers.set(id, { deadline, callback, real: this.arm(id, deadline) });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.get(handle as number);
    if (!timer) return;
    clearTimeout(timer.real);
    this.timers.delete(handle as number);
  }

  /** The current rate and how far `now()` is ahead of real time. */
  describe(): { rate: number; offsetMs: number } {
    return { rate: this.rate, offsetMs: this.now() - performance.now() };
  }

  /** Runs at `rate` from now on, after jumping forward `jumpMs` (>= 0). Re-arms every timer. */
  adjust(rate: number, jumpMs: number): void {
    if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`clock rate must be a positive number, got ${rate}`);
    if (!(jumpMs >= 0 && Number.isFinite(jumpMs))) throw new RangeError(`clock jump must be >= 0 ms, got ${jumpMs}`);
    this.baseVirtual = this.now() + jumpMs;
    this.baseReal = performance.now();
    this.rate = rate;
    for (const [id, timer] of this.timers) {
      clearTimeout(timer.real);
      timer.real = this.arm(id, timer.deadline);
    }
  }

  private arm(id: number, deadline: number): ReturnType<typeof setTimeout> {
    const realDelay = Math.max(0, (deadline - this.now()) / this.rate);
    return setTimeout(() => {
      const timer = this.timers.get(id);
      if (!timer) return;
      this.timers.delete(id);
      timer.callback();
    }, realDelay);
  }
}
