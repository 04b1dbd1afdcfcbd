/**
 * A small unbounded queue that is consumed as an async iterable (internal).
 *
 * @module
 */

/** Pushes values to at most one waiting reader at a time; `close()` ends the iteration. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiters: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;
  #error: unknown = undefined;

  /** Number of queued values. */
  get size(): number {
    return this.#items.length;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Adds a value (ignored after `close()`). */
  push(value: T): void {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve({ value, done: false });
    else this.#items.push(value);
  }

  /** Removes and returns every queued value. */
  takeAll(): T[] {
    return this.#items.splice(0);
  }

  /** Removes queued values that match `predicate`. */
  remove(predicate: (value: T) => boolean): void {
    this.#items = this.#items.filter((v) => !predicate(v));
  }

  /** Ends the iteration after the queued values; with `error`, readers get it instead. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    for (const w of this.#waiters.splice(0)) {
      if (error !== undefined) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  /** The next value; `done` when closed and empty. Rejects when `signal` aborts. */
  next(signal?: AbortSignal): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      return Promise.resolve({ value: this.#items.shift() as T, done: false });
    }
    if (this.#closed) {
      return this.#error !== undefined
        ? Promise.reject(this.#error)
        : Promise.resolve({ value: undefined, done: true });
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (r: IteratorResult<T>) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: (e: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Iterates until `close()`. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
