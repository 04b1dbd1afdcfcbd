/**
 * A server framework for pool elements, equivalent to RSPLIB's TCPLikeServer/UDPLikeServer
 * (inventory §7.7): one handler object per session, a session limit with a reject hook, load
 * reporting for adaptive policies.
 *
 * @module
 */

import type { PoolElement, PoolElementSession, PoolElementSessionEvent } from "./pool_element.ts";
import type { SessionNotification } from "./notifications.ts";

/**
 * What a handler asks for after an event (RSPLIB's `EventHandlingResult`): keep going (nothing
 * or `"okay"`), end the session gracefully (`"shutdown"`), or abort it (`"abort"`).
 *
 * @example
 * ```ts
 * import type { HandlerResult } from "./server.ts";
 * const onBye = (text: string): HandlerResult => (text === "bye" ? "shutdown" : "okay");
 * console.log(onBye("bye"));
 * ```
 */
export type HandlerResult = void | "okay" | "shutdown" | "abort";

/**
 * Where a message came from on the wire.
 *
 * @example
 * ```ts
 * import type { MessageInfo } from "./server.ts";
 * const info: MessageInfo = { ppid: 0, stream: 0 };
 * console.log(info.stream);
 * ```
 */
export interface MessageInfo {
  /** Payload protocol identifier. */
  ppid: number;
  /** SCTP stream. */
  stream: number;
}

/**
 * The handler of one session. Every method is optional; each may be async (events of one
 * session are handled one after another).
 *
 * @example A handler that counts messages and sends the count as cookie
 * ```ts
 * import type { SessionHandler } from "./server.ts";
 * import type { PoolElementSession } from "./pool_element.ts";
 * function counter(session: PoolElementSession): SessionHandler {
 *   let count = 0;
 *   return {
 *     cookieEcho(cookie) {
 *       count = new DataView(cookie.buffer, cookie.byteOffset).getUint32(0);
 *     },
 *     message(data, info) {
 *       count++;
 *       session.send(data, info);
 *       const cookie = new Uint8Array(4);
 *       new DataView(cookie.buffer).setUint32(0, count);
 *       session.sendCookie(cookie);
 *     },
 *   };
 * }
 * console.log(typeof counter);
 * ```
 */
export interface SessionHandler {
  /** The session started (its association is up). */
  start?(): HandlerResult | Promise<HandlerResult>;
  /** A user message arrived. */
  message?(data: Uint8Array, info: MessageInfo): HandlerResult | Promise<HandlerResult>;
  /** The pool user sent a Cookie Echo (state from the previous pool element). */
  cookieEcho?(cookie: Uint8Array): HandlerResult | Promise<HandlerResult>;
  /** A notification for the session (the pool user shuts it down). */
  notification?(notification: SessionNotification): HandlerResult | Promise<HandlerResult>;
  /** The session ended (always called once, last). */
  end?(): void | Promise<void>;
}

/**
 * Makes the handler of a new session.
 *
 * @example
 * ```ts
 * import type { SessionHandlerFactory } from "./server.ts";
 * const echo: SessionHandlerFactory = (session) => ({
 *   message: (data, info) => void session.send(data, info),
 * });
 * console.log(typeof echo);
 * ```
 */
export type SessionHandlerFactory = (session: PoolElementSession) => SessionHandler;

/**
 * Options of {@linkcode serve}.
 *
 * @example
 * ```ts
 * import type { ServeOptions } from "./server.ts";
 * const options: ServeOptions = {
 *   maxSessions: 4,
 *   reject: (session) => void session.send("busy\n"),
 * };
 * console.log(options.maxSessions);
 * ```
 */
export interface ServeOptions {
  /** Most sessions at once (RSPLIB's max threads). @default {Infinity} */
  maxSessions?: number;
  /**
   * Called for a session that arrives when `maxSessions` are running, before it is shut down
   * (RSPLIB's `rejectNewSession`, e.g. to send a "not ready" message).
   */
  reject?: (session: PoolElementSession) => void;
  /** Called when a handler throws (the session is aborted). @default {log it} */
  onError?: (error: unknown, session: PoolElementSession) => void;
}

/**
 * A running server, as returned by {@linkcode serve}. Closing it ends its sessions (the pool
 * element stays open).
 *
 * @example
 * ```ts ignore
 * import { serve } from "./server.ts";
 * import type { PoolElement } from "./pool_element.ts";
 * declare const pe: PoolElement;
 * await using server = serve(pe, (session) => ({
 *   message: (data, info) => void session.send(data, info),
 * }));
 * console.log(server.sessionCount);
 * ```
 */
export class Server implements AsyncDisposable {
  readonly #pe: PoolElement;
  readonly #factory: SessionHandlerFactory;
  readonly #options: ServeOptions;
  readonly #running = new Map<PoolElementSession, Promise<void>>();
  #closed = false;
  #rejected = 0;

  /** @internal */
  constructor(pe: PoolElement, factory: SessionHandlerFactory, options: ServeOptions) {
    this.#pe = pe;
    this.#factory = factory;
    this.#options = options;
    pe.setSessionHandler((session) => this.#accept(session));
    for (const session of pe.sessions.values()) this.#accept(session);
  }

  /** Sessions being handled. */
  get sessionCount(): number {
    return this.#running.size;
  }

  /** Sessions turned away because `maxSessions` were running. */
  get rejectedSessions(): number {
    return this.#rejected;
  }

  /** Ends every session gracefully and waits for the handlers to finish. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const session of this.#running.keys()) session.close();
    await Promise.all(this.#running.values());
  }

  /** Same as {@linkcode Server.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #accept(session: PoolElementSession): void {
    if (this.#closed) {
      session.close();
      return;
    }
    if (this.#running.size >= (this.#options.maxSessions ?? Infinity)) {
      this.#rejected++;
      try {
        this.#options.reject?.(session);
      } catch (error) {
        // A throwing hook must not take the server (and the program) down.
        this.#pe.log.error(`Session ${session.id}: reject hook failed: ${error}`);
      } finally {
        session.close();
      }
      return;
    }
    const done = this.#run(session).finally(() => {
      this.#running.delete(session);
    });
    this.#running.set(session, done);
  }

  async #run(session: PoolElementSession): Promise<void> {
    let handler: SessionHandler;
    try {
      handler = this.#factory(session);
    } catch (e) {
      this.#fail(e, session);
      return;
    }
    // Events are handled one after another, in arrival order.
    const events: PoolElementSessionEvent[] = [];
    let wake: (() => void) | undefined;
    session.setEventHandler((event) => {
      events.push(event);
      wake?.();
    });
    let ended = false;
    session.onEnd(() => {
      ended = true;
      wake?.();
    });
    const act = (result: HandlerResult) => {
      if (result === "shutdown") session.close();
      else if (result === "abort") session.abort();
      return result === "shutdown" || result === "abort";
    };
    try {
      let stop = act(await handler.start?.());
      while (!stop || !ended) {
        const event = events.shift();
        if (event === undefined) {
          if (ended) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        if (stop) continue; // drain what arrived after shutdown/abort
        let result: HandlerResult;
        switch (event.type) {
          case "message":
            result = await handler.message?.(event.data, {
              ppid: event.ppid,
              stream: event.stream,
            });
            break;
          case "cookieEcho":
            result = await handler.cookieEcho?.(event.cookie);
            break;
          case "notification":
            result = await handler.notification?.(event.notification);
            break;
        }
        stop = act(result);
      }
    } catch (e) {
      this.#fail(e, session);
    }
    try {
      await handler.end?.();
    } catch (e) {
      this.#fail(e, session);
    }
    if (!session.ended) {
      await new Promise<void>((resolve) => session.onEnd(resolve));
    }
  }

  #fail(error: unknown, session: PoolElementSession): void {
    if (this.#options.onError !== undefined) this.#options.onError(error, session);
    else this.#pe.log.error(`Session ${session.id}: handler failed: ${error}`);
    session.abort();
  }
}

/**
 * Serves a pool element's sessions: each new session gets its own handler from `factory`;
 * beyond `maxSessions` new sessions are rejected. Session loads set with
 * {@linkcode PoolElementSession.setLoad} add up to the pool element's load (re-registered for
 * adaptive policies when it changes by 1 % or more).
 *
 * @example An echo pool element in a few lines
 * ```ts ignore
 * import { PoolElement } from "./pool_element.ts";
 * import { serve } from "./server.ts";
 * import { usrsctpTransport } from "../transport/usrsctp/mod.ts";
 * await using pe = await PoolElement.create({
 *   transport: usrsctpTransport(),
 *   poolHandle: "EchoPool",
 *   registrars: ["10.0.0.1:3863"],
 *   announce: "off",
 * });
 * await using _server = serve(pe, (session) => ({
 *   message: (data, info) => void session.send(data, info),
 * }));
 * await new Promise(() => {}); // serve until killed
 * ```
 *
 * @param pe The pool element.
 * @param factory Makes a handler per session.
 * @param options Session limit, reject hook, error hook.
 * @returns The server.
 */
export function serve(
  pe: PoolElement,
  factory: SessionHandlerFactory,
  options: ServeOptions = {},
): Server {
  return new Server(pe, factory, options);
}
