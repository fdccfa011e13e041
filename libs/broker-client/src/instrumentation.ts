type Listener<T> = (payload: T) => void;

/**
 * Typed, namespaced events ("consumer.group.join", "producer.batch"). Payloads
 * are built only when someone listens; on() returns the unsubscribe function.
 */
export class Instrumentation<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  has(event: keyof Events): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K] | (() => Events[K])): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    const value = typeof payload === 'function' ? (payload as () => Events[K])() : payload;
    for (const listener of set) (listener as Listener<Events[K]>)(value);
  }
}
