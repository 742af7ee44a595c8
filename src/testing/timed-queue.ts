interface Slot<T> {
  at: number;
  /** Push order: items due at the same time come out in the order they went in. */
  order: number;
  item: T;
}

/**
 * Items ordered by time: `pop()` returns the earliest, and items due at the
 * same time in the order they were pushed (a binary min-heap on (at, order)).
 * The event queue of the simulation and the timers of VirtualClock; with
 * ties broken by push order, a seeded run replays identically.
 */
export class TimedQueue<T> {
  private readonly heap: Slot<T>[] = [];
  private pushed = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, item: T): void {
    const heap = this.heap;
    heap.push({ at, order: this.pushed++, item });
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!earlier(heap[index], heap[parent])) break;
      [heap[index], heap[parent]] = [heap[parent], heap[index]];
      index = parent;
    }
  }

  /** When the earliest item is due; Infinity when the queue is empty. */
  peekAt(): number {
    return this.heap.length > 0 ? this.heap[0].at : Infinity;
  }

  /** Removes and returns the earliest item. */
  pop(): T | undefined {
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
        if (left < heap.length && earlier(heap[left], heap[smallest])) smallest = left;
        if (right < heap.length && earlier(heap[right], heap[smallest])) smallest = right;
        if (smallest === index) break;
        [heap[index], heap[smallest]] = [heap[smallest], heap[index]];
        index = smallest;
      }
    }
    return top?.item;
  }
}

function earlier<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
