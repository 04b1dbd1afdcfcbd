/**
 * Events that tests wait for: {@linkcode EventLog.waitFor} answers with a matching event seen
 * before, else with the next one. Used by the conformance suite's recorder and the peer
 * process clients.
 *
 * @module
 */

/** Recorded events of type `T`, and the tests waiting for them. */
export class EventLog<T> {
  /** Every recorded event, oldest first. */
  readonly events: T[] = [];
  #waiters = new Set<{ p: (e: T) => boolean; resolve: (e: T) => void }>();

  /** Whether a test waits for an event. */
  get waiting(): boolean {
    return this.#waiters.size > 0;
  }

  /**
   * Records an event and hands it to the waiters it matches.
   *
   * @param event The event.
   */
  add(event: T): void {
    this.events.push(event);
    this.offer(event);
  }

  /**
   * Hands an event to the waiters it matches without recording it (e.g. bulk messages).
   *
   * @param event The event.
   */
  offer(event: T): void {
    for (const w of this.#waiters) {
      if (w.p(event)) {
        this.#waiters.delete(w);
        w.resolve(event);
      }
    }
  }

  /**
   * Waits for an event (also one recorded earlier).
   *
   * @param p Which event.
   * @param timeout Milliseconds.
   * @param what For the error message ("Timed out after N ms waiting for WHAT").
   * @returns The event.
   */
  waitFor(p: (e: T) => boolean, timeout: number, what: string): Promise<T> {
    const seen = this.events.find(p);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        p,
        resolve: (e: T) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        const last = JSON.stringify(this.events.slice(-10));
        reject(
          new Error(`Timed out after ${timeout} ms waiting for ${what}; last events: ${last}`),
        );
      }, timeout);
      this.#waiters.add(w);
    });
  }
}
