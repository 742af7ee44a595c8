/** A listener for an event; its arguments depend on the event type. */
export type Listener = (...args: never[]) => unknown;

/** The list of a type with no listeners: shared, so asking for it allocates nothing. */
const NO_LISTENERS: readonly Listener[] = Object.freeze([]);

/**
 * The event API of the original WebRaft: `listen` returns an unlisten
 * function; `listenOnce` fires at most once; `emit` calls listeners in the
 * order they were added. A listener that throws does not stop the others:
 * the error goes to `onListenerError`.
 *
 * Lists are copy-on-write: listen/unlisten replace a type's array and never
 * change one in place, so a call in progress keeps iterating the listeners it
 * started with (one added or removed meanwhile takes effect from the next
 * event) and emitting allocates nothing.
 */
export class Emitter {
  private readonly listeners = new Map<string, readonly Listener[]>();

  constructor(private readonly onListenerError: (type: string, error: unknown) => void = () => {}) {}

  listen(type: string, handler: Listener): () => void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), handler]);
    return () => this.unlisten(type, handler);
  }

  unlisten(type: string, handler: Listener): void {
    const list = this.listeners.get(type);
    if (!list) return;
    const position = list.findIndex((h) => h === handler || (h as OnceListener).original === handler);
    if (position < 0) return;
    if (list.length === 1) this.listeners.delete(type);
    else this.listeners.set(type, [...list.slice(0, position), ...list.slice(position + 1)]);
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
    for (const handler of list) {
      try {
        (handler as (...a: unknown[]) => unknown)(...args);
      } catch (error) {
        this.onListenerError(type, error);
      }
    }
    return true;
  }

  /** The listeners of `type`, in order (never changed later: see the class comment). */
  listenersOf(type: string): readonly Listener[] {
    return this.listeners.get(type) ?? NO_LISTENERS;
  }

  count(type: string): number {
    return this.listeners.get(type)?.length ?? 0;
  }
}

interface OnceListener extends Listener {
  original?: Listener;
}
