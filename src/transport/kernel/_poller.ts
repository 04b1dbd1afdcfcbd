/**
 * The FdPoller: readiness of foreign file descriptors (kernel SCTP sockets) inside Deno's event
 * loop. Deno cannot await a file descriptor it did not open, so one `poll()` call, declared
 * `nonblocking: true`, waits on Deno's blocking thread pool over `[wake pipe, fd...]`; when it
 * returns, the JavaScript thread runs the handlers of the ready descriptors (they drain their
 * sockets with MSG_DONTWAIT) and polls again. One `poll()` per wake-up, not per message.
 *
 * Changing the set (register, unregister, wanting POLLOUT) while a `poll()` is in flight writes
 * a byte to the self-pipe, which ends that `poll()`; the next one uses the new set. Nothing runs
 * JavaScript on a foreign thread. The loop ends when the last descriptor is unregistered, so
 * an idle process can exit and tests see no pending operation.
 *
 * @module
 */

import { errno, libc } from "../../../ffi/libc.ts";
import { Errno } from "../../../ffi/errno.ts";
import { KSCTP, KSCTP_LAYOUT } from "../../../ffi/libsctp.ts";

/** Receives readiness for one descriptor. */
export interface PollHandler {
  /**
   * Called on the JavaScript thread with the `revents` bits (POLLIN, POLLOUT, POLLERR,
   * POLLHUP) of the descriptor.
   */
  onReady(revents: number): void;
}

interface Entry {
  handler: PollHandler;
  events: number;
}

const PFD = KSCTP_LAYOUT.pollfd;

/** One poll loop for all kernel sockets of the process. */
export class FdPoller {
  #entries = new Map<number, Entry>();
  #wake: Int32Array | undefined;
  #wakeByte = new Uint8Array([1]);
  #drainBuffer = new Uint8Array(64);
  #loop: Promise<void> | undefined;
  #inPoll = false;
  #pollDone: (() => void)[] = [];
  /** Number of `poll()` calls made (for tests and benchmarks). */
  polls = 0;

  /** Number of registered descriptors. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Watches `fd` for `events` (POLLIN by default) and starts the loop if needed.
   *
   * @param fd The descriptor.
   * @param handler Its handler.
   * @param events POLL* bits.
   */
  register(fd: number, handler: PollHandler, events: number = KSCTP.POLLIN): void {
    this.#entries.set(fd, { handler, events });
    this.#changed();
  }

  /**
   * Changes the events watched for `fd` (e.g. adds POLLOUT while sends are queued).
   *
   * @param fd A registered descriptor.
   * @param events POLL* bits.
   */
  setEvents(fd: number, events: number): void {
    const entry = this.#entries.get(fd);
    if (entry === undefined || entry.events === events) return;
    entry.events = events;
    this.#changed();
  }

  /**
   * Stops watching `fd`. The promise resolves when no `poll()` in flight uses it any more, so
   * that the descriptor can be closed (and its number reused) safely.
   *
   * @param fd The descriptor.
   * @returns When it is safe to close `fd`.
   */
  unregister(fd: number): Promise<void> {
    if (!this.#entries.delete(fd)) return Promise.resolve();
    if (!this.#inPoll) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#pollDone.push(resolve));
    this.#wakeUp();
    return done;
  }

  /**
   * Resolves when the loop has ended (no descriptor left); at once when it is not running.
   *
   * @returns The loop's end.
   */
  idle(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  #changed(): void {
    if (this.#loop === undefined) {
      if (this.#entries.size > 0) this.#loop = this.#run();
    } else if (this.#inPoll) {
      this.#wakeUp();
    }
  }

  #pipe(): Int32Array {
    if (this.#wake === undefined) {
      const fds = new Int32Array(2);
      if (libc().pipe2(new Uint8Array(fds.buffer), KSCTP.O_NONBLOCK | KSCTP.O_CLOEXEC) < 0) {
        throw new Error(`Cannot create the poller's wake-up pipe (errno ${errno()})`);
      }
      this.#wake = fds; // kept for the life of the process
    }
    return this.#wake;
  }

  #wakeUp(): void {
    // A full pipe (EAGAIN) already wakes the poll: nothing to do then.
    libc().write(this.#pipe()[1], this.#wakeByte, 1n);
  }

  async #run(): Promise<void> {
    const c = libc();
    const wake = this.#pipe();
    let failures = 0;
    try {
      while (this.#entries.size > 0) {
        const fds = [...this.#entries];
        const pfd = new Uint8Array(PFD.size * (fds.length + 1));
        const view = new DataView(pfd.buffer);
        view.setInt32(PFD.fd, wake[0], true);
        view.setInt16(PFD.events, KSCTP.POLLIN, true);
        for (let i = 0; i < fds.length; i++) {
          view.setInt32(PFD.size * (i + 1) + PFD.fd, fds[i][0], true);
          view.setInt16(PFD.size * (i + 1) + PFD.events, fds[i][1].events, true);
        }
        this.#inPoll = true;
        let result: number;
        try {
          this.polls++;
          result = await c.poll_nonblocking(pfd, BigInt(fds.length + 1), -1);
        } finally {
          this.#inPoll = false;
          const waiters = this.#pollDone;
          this.#pollDone = [];
          for (const resolve of waiters) resolve();
        }
        if (result < 0) {
          // errno is per thread and this call ran on another one: only EINTR is expected.
          if (++failures >= 100) {
            reportError(new Error("Cannot poll the kernel SCTP sockets: poll() keeps failing"));
            await new Promise((resolve) => setTimeout(resolve, 100));
            failures = 0;
          }
          continue;
        }
        failures = 0;
        if (view.getInt16(PFD.revents, true) !== 0) {
          while (Number(c.read(wake[0], this.#drainBuffer, 64n)) > 0) { /* drain */ }
        }
        for (let i = 0; i < fds.length; i++) {
          const revents = view.getInt16(PFD.size * (i + 1) + PFD.revents, true);
          if (revents === 0) continue;
          const [fd, entry] = fds[i];
          if (this.#entries.get(fd) !== entry) continue; // unregistered meanwhile
          try {
            entry.handler.onReady(revents);
          } catch (error) {
            reportError(error);
          }
        }
      }
    } finally {
      this.#loop = undefined;
      if (this.#entries.size > 0) this.#loop = this.#run(); // registered during the last turn
    }
  }
}

let shared: FdPoller | undefined;

/**
 * The process's poller.
 *
 * @returns The shared {@linkcode FdPoller}.
 */
export function fdPoller(): FdPoller {
  shared ??= new FdPoller();
  return shared;
}

/** errno values that mean "try again later" for a non-blocking call. */
export function isWouldBlock(code: number): boolean {
  return code === Errno.EAGAIN || code === Errno.EINTR;
}
