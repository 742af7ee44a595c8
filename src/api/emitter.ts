/** A listener for an event; its arguments depend on the event type. */
export type Listener = (...args: never[]) => unknown;

/**
 * The event API of the original WebRaft: `listen` returns an unlisten
 * function; `listenOnce` fires at most once; `emit` calls listeners in the
 * order they were added. A listener that throws does not stop the others:
 * the error goes to `onListenerError`.
 */
export class Emitter {
  private readonly listeners = new Map<string, Listener[]>();

  constructor(private readonly onListenerError: (type: string, error: unknown) => void = () => {}) {}

  listen(type: string, handler: Listener): () => void {
    const list = this.listeners.get(type);
    if (list) list.push(handler);
    else this.listeners.set(type, [handler]);
    return () => this.unlisten(type, handler);
  }

  unlisten(type: string, handler: Listener): void {
    const list = this.listeners.get(type);
    if (!list) return;
    const position = list.findIndex((h) => h === handler || (h as OnceListener).original === handler);
    if (position >= 0) list.splice(position, 1);
    if (list.length === 0) this.listeners.delete(type);
  }

  listenOnce(type: string, handler: Listener): () => void {
    const once: OnceListener = (...args: never[]) => {
      this.unlisten(type, once);
      return (handler as (...a: unknown[]) => unknown)(...args);
    };
    once.original = handler;
    return this.listen(type, once);
  }

  /** Calls every listener of `type`; returns true when there was at least one. */
  emit(type: string, ...args: unknown[]): boolean {
    const list = this.listeners.get(type);
    if (!list || list.length === 0) return false;
    for (const handler of [...list]) {
      try {
        (handler as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        this.onListenerError(type, error);
      }
    }
    return true;
  }

  /** The listeners of `type`, in order (a copy). */
  listenersOf(type: string): Listener[] {
    return [...(this.listeners.get(type) ?? [])];
  }

  count(type: string): number {
    return this.listeners.get(type)?.length ?? 0;
  }
}

interface OnceListener extends Listener {
  original?: Listener;
}
