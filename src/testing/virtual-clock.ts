import type { Clock, TimerHandle } from '../api/clock.js';

interface VirtualTimer {
  at: number;
  sequence: number;
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
  private sequence = 0;
  /** A binary min-heap on (at, sequence). */
  private readonly heap: VirtualTimer[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const timer: VirtualTimer = { at: this.nowMs + Math.max(0, delayMs), sequence: this.sequence++, callback, cancelled: false };
    this.push(timer);
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
      const next = this.peek();
      if (!next || next.at > end) break;
      this.pop();
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

  private peek(): VirtualTimer | undefined {
    return this.heap[0];
  }

  private push(timer: VirtualTimer): void {
    const heap = this.heap;
    heap.push(timer);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!earlier(heap[index]!, heap[parent]!)) break;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private pop(): VirtualTimer | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && earlier(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && earlier(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
        index = smallest;
      }
    }
    return top;
  }
}

function earlier(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.sequence < b.sequence);
}
