/**
 * Test side of `_peer.ts`: starts a peer process (optionally inside a network namespace),
 * sends it commands and waits for its events.
 *
 * @module
 */

import type { SctpBackendChoice } from "../../src/transport/types.ts";
import type { Testbed } from "../_netns.ts";
import { EventLog } from "./_event_log.ts";

const PEER = new URL("./_peer.ts", import.meta.url).pathname;

/** Options of {@linkcode PeerProcess.start}. */
export interface PeerOptions {
  /** Backend of the peer (`--backend=`). */
  backend?: SctpBackendChoice;
  /** Run inside this testbed host. */
  testbed?: Testbed;
  /** Host index in the testbed. */
  host?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** How long to wait for the peer to start (default 10 s). */
  startTimeout?: number;
  /** Run as this unprivileged uid/gid (via `setpriv`; needs root; not with `testbed`). */
  uid?: number;
}

/** An event reported by the peer. */
export interface PeerEvent {
  /** Endpoint name. */
  ep: string;
  /** The event (messages: `data` is an array of the first 64 bytes). */
  // deno-lint-ignore no-explicit-any
  event: Record<string, any>;
}

/** A running `_peer.ts`. */
export class PeerProcess implements AsyncDisposable {
  /** The peer transport's description. */
  description = "";
  readonly #log = new EventLog<PeerEvent>();
  /** Every event reported so far. */
  readonly events: PeerEvent[] = this.#log.events;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #seq = 0;
  // deno-lint-ignore no-explicit-any
  #replies = new Map<number, (reply: Record<string, any>) => void>();
  #reader: Promise<void>;
  #stderr: Promise<string>;
  #ready: Promise<void>;
  #readyResolve!: () => void;
  #ended = false;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#ready = new Promise((resolve) => (this.#readyResolve = resolve));
    this.#reader = this.#read();
    this.#stderr = new Response(child.stderr).text();
  }

  /**
   * Starts a peer and waits until it is ready.
   *
   * @param options Backend, namespace, environment.
   * @returns The peer.
   */
  static async start(options: PeerOptions = {}): Promise<PeerProcess> {
    const args = ["run", "-A", "--quiet", PEER];
    if (options.backend !== undefined) args.push(`--backend=${options.backend}`);
    const commandOptions: Deno.CommandOptions = {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
    };
    let command: Deno.Command;
    if (options.testbed !== undefined) {
      command = options.testbed.command(options.host ?? 1, Deno.execPath(), commandOptions);
    } else if (options.uid !== undefined) {
      const id = String(options.uid);
      command = new Deno.Command("setpriv", {
        ...commandOptions,
        args: [`--reuid=${id}`, `--regid=${id}`, "--clear-groups", Deno.execPath(), ...args],
      });
    } else {
      command = new Deno.Command(Deno.execPath(), commandOptions);
    }
    const peer = new PeerProcess(command.spawn());
    const timeout = options.startTimeout ?? 10000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        peer.#ready,
        peer.#reader.then(() => {
          throw new Error("peer exited before it was ready");
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("peer did not start in time")), timeout);
        }),
      ]);
    } catch (error) {
      const stderr = await peer.kill();
      throw new Error(`Cannot start the peer: ${(error as Error).message}\n${stderr}`);
    } finally {
      clearTimeout(timer);
    }
    return peer;
  }

  async #read(): Promise<void> {
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of this.#child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim() === "") continue;
        // deno-lint-ignore no-explicit-any
        let value: Record<string, any>;
        try {
          value = JSON.parse(line);
        } catch {
          continue;
        }
        if (value.ready) {
          this.description = value.description;
          this.#readyResolve();
        } else if (value.seq !== undefined) {
          this.#replies.get(value.seq)?.(value);
          this.#replies.delete(value.seq);
        } else if (value.event !== undefined) {
          this.#log.add(value as PeerEvent);
        }
      }
    }
    this.#ended = true;
    for (const reply of this.#replies.values()) reply({ ok: false, error: "peer exited" });
    this.#replies.clear();
  }

  /**
   * Sends a command and waits for its reply.
   *
   * @param cmd Command name.
   * @param params Parameters.
   * @returns The reply (throws if the peer reported an error).
   */
  // deno-lint-ignore no-explicit-any
  async request(cmd: string, params: Record<string, unknown> = {}): Promise<Record<string, any>> {
    if (this.#ended) throw new Error(`Cannot send '${cmd}': the peer exited`);
    const seq = ++this.#seq;
    // deno-lint-ignore no-explicit-any
    const reply = new Promise<Record<string, any>>((resolve) => this.#replies.set(seq, resolve));
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify({ seq, cmd, ...params }) + "\n"),
    );
    const value = await reply;
    if (!value.ok) {
      const error = new Error(`Peer cannot ${cmd}: ${value.error}`);
      (error as Error & { code?: string }).code = value.code;
      throw error;
    }
    return value;
  }

  /**
   * Waits for an event (also one reported earlier).
   *
   * @param predicate Which event.
   * @param timeout Milliseconds.
   * @returns The event.
   */
  waitFor(predicate: (e: PeerEvent) => boolean, timeout = 10000): Promise<PeerEvent> {
    return this.#log.waitFor(predicate, timeout, "a peer event");
  }

  /**
   * Kills the peer with SIGKILL (no SCTP shutdown or ABORT) and waits for it.
   *
   * @returns Its stderr output.
   */
  async kill(): Promise<string> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    return await this.#finish();
  }

  /**
   * Closes its endpoints gracefully and lets it exit.
   *
   * @returns Its stderr output.
   */
  async exit(): Promise<string> {
    if (!this.#ended) {
      try {
        await this.request("exit");
      } catch {
        // it may exit before answering
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const status = await Promise.race([
      this.#child.status,
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 10000))),
    ]);
    clearTimeout(timer);
    if (status === undefined) return await this.kill();
    const stderr = await this.#finish();
    if (!status.success) throw new Error(`Peer exited with ${status.code}:\n${stderr}`);
    return stderr;
  }

  async #finish(): Promise<string> {
    try {
      await this.#writer.close();
    } catch {
      // closed already or broken pipe
    }
    await this.#child.status;
    await this.#reader;
    return await this.#stderr;
  }

  /** Kills the peer if it still runs. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}
