/**
 * Helpers shared by `rspserver` and `rspterminal` (internal).
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
