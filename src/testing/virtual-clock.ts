import type { Clock, TimerHandle } from '../api/clock.js';
import { TimedQueue } from './timed-queue.js';

interface VirtualTimer {
  at: number;
  callback: () => void;
  cancelled: boolean;
}

/** Resolves after the macrotasks already queued (setImmediate pumps, storage promise chains) have run. */
const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A clock whose time moves only when a test says so, for tests that must not
 * depend on how fast the machine is. Pass it as `RaftOptions.clock` to every
 * node and use `sleep()` instead of real timers; then `runFor(ms)` fires the
 * timers in (time, creation) order, letting the macrotasks each one starts
 * (WebRaft's pumps use setImmediate) finish before the next fires.
 *
 * With no real timers and no I/O involved, a run is a pure function of the
 * program and its seeds: the same seed gives the same history on any machine.
 */
export class VirtualClock implements Clock {
  private nowMs = 0;
  /** Pending timers; ties fire in creation order. */
  private readonly timers = new TimedQueue<VirtualTimer>();

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: VirtualTimer = { at: this.nowMs + Math.max(0, delayMs), callback, cancelled: false };
    this.timers.push(timer.at, timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle && typeof handle === 'object' && 'cancelled' in handle) (handle as VirtualTimer).cancelled = true;
  }

  /** A promise that resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /**
   * Advances virtual time by `ms`, firing every timer due in that span in
   * order. Between two timers it yields a few real macrotask turns so the
   * work a timer started (and the promise chains it resolved) settles first.
   */
  async runFor(ms: number): Promise<void> {
    const end = this.nowMs + ms;
    for (;;) {
      await this.settle();
      if (this.timers.peekAt() > end) break;
      const next = this.timers.pop() as VirtualTimer;
      if (next.cancelled) continue;
      this.nowMs = next.at;
      next.callback();
    }
    this.nowMs = end;
    await this.settle();
  }

  private async settle(): Promise<void> {
    for (let turn = 0; turn < 4; turn++) await nextMacrotask();
  }
}
