/**
 * Helpers shared by the programs (`rspregistrar`, `rspserver`, `rspterminal`, ...): direct
 * output, signals, timing (internal).
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes text to standard output at once (no buffering, keeps the order with stderr). */
export function writeOut(text: string | Uint8Array): void {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/** Writes text to standard error at once. */
export function writeErr(text: string): void {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stderr.writeSync(bytes.subarray(off));
}

/** A promise that resolves with the signal's name on SIGINT or SIGTERM. */
export interface Signalled {
  /** Resolves on the first SIGINT/SIGTERM. */
  promise: Promise<string>;
  /** Whether a signal arrived. */
  readonly received: boolean;
  /** Removes the listeners. */
  dispose(): void;
}

/** Listens for SIGINT and SIGTERM. */
export function signalled(): Signalled {
  let resolve!: (s: string) => void;
  let received = false;
  const promise = new Promise<string>((r) => resolve = r);
  const handlers: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM"] as const).map((s) => {
    const h = () => {
      received = true;
      resolve(s);
    };
    Deno.addSignalListener(s, h);
    return [s, h];
  });
  return {
    promise,
    get received() {
      return received;
    },
    dispose: () => {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    },
  };
}

/** Exponentially distributed random number with the given mean (RSPLIB's randomExpDouble). */
export function randomExp(mean: number): number {
  return -mean * Math.log(1 - Math.random());
}

/** Resolves after `ms`, or earlier when `until` settles. */
export function delay(ms: number, until?: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<void>((r) => timer = setTimeout(r, ms));
  const all = until === undefined ? t : Promise.race([t, until.then(() => {})]);
  return all.finally(() => clearTimeout(timer));
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (never rejects); the timer is cleared.
 *
 * @param ms Milliseconds.
 * @param signal Ends the wait early.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** 8 hex digits, as RSPLIB prints identifiers after a `$`. */
export function hex8(id: number): string {
  return (id >>> 0).toString(16).padStart(8, "0");
}
