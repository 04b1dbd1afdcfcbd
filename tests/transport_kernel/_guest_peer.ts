/**
 * A `tests/transport/_peer.ts` process inside a user-mode-linux guest, driven from the host:
 * commands go to its standard input through the guest's console, replies and events come back
 * on its standard output (same JSON protocol as `PeerProcess` of `_peer_client.ts`).
 *
 * @module
 */

import { type Guest, type GuestOptions, startGuest } from "../_uml.ts";
import { Testbed } from "../_netns.ts";
import { EventLog } from "../transport/_event_log.ts";

/** An event reported by the guest peer. */
export interface GuestPeerEvent {
  /** Endpoint name. */
  ep: string;
  /** The event. */
  // deno-lint-ignore no-explicit-any
  event: Record<string, any>;
}

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** A guest running `_peer.ts --backend=kernel`. */
export class GuestPeer implements AsyncDisposable {
  /** The guest. */
  readonly guest: Guest;
  readonly #log = new EventLog<GuestPeerEvent>();
  /** Every event reported so far. */
  readonly events: GuestPeerEvent[] = this.#log.events;
  #seq = 0;
  // deno-lint-ignore no-explicit-any
  #replies = new Map<number, (reply: Record<string, any>) => void>();
  #pending = "";

  private constructor(guest: Guest) {
    this.guest = guest;
  }

  /**
   * Boots a guest running the peer with the kernel backend.
   *
   * @param options Guest options (links, timeout, ...).
   * @returns The peer, ready for commands.
   */
  static async start(options: Partial<GuestOptions> = {}): Promise<GuestPeer> {
    const state: { peer?: GuestPeer } = {};
    const early: string[] = [];
    const guest = await startGuest({
      ...options,
      command: [
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        `${ROOT}/tests/transport/_peer.ts`,
        "--backend=kernel",
      ],
      stdin: true,
      precheck: [`${ROOT}/tests/transport/_peer.ts`],
      readyPattern: /"ready":true/,
      onStdout: (text) => state.peer ? state.peer.#input(text) : early.push(text),
    });
    const peer = new GuestPeer(guest);
    state.peer = peer;
    for (const text of early) peer.#input(text);
    return peer;
  }

  /**
   * A {@linkcode Testbed} view of the guest's host-side namespace (host 1 = 10.9.0.1), for
   * `PeerProcess.start({ testbed, host: 1 })`. Never destroy it: the guest owns the namespace.
   */
  hostSide(): Testbed {
    const g = this.guest;
    return new Testbed(g.netns, [{
      index: 1,
      namespace: g.netns,
      addresses: g.hostAddresses.filter((a) => !a.includes(":")),
      ipv6Addresses: g.hostAddresses.filter((a) => a.includes(":")),
    }]);
  }

  #input(text: string): void {
    this.#pending += text;
    let newline: number;
    while ((newline = this.#pending.indexOf("\n")) >= 0) {
      const line = this.#pending.slice(0, newline).trim();
      this.#pending = this.#pending.slice(newline + 1);
      if (!line.startsWith("{")) continue;
      // deno-lint-ignore no-explicit-any
      let value: Record<string, any>;
      try {
        value = JSON.parse(line);
      } catch {
        continue;
      }
      if (value.seq !== undefined) {
        this.#replies.get(value.seq)?.(value);
        this.#replies.delete(value.seq);
      } else if (value.event !== undefined) {
        this.#log.add(value as GuestPeerEvent);
      }
    }
  }

  /**
   * Sends a command and waits for its reply.
   *
   * @param cmd Command name.
   * @param params Parameters.
   * @param timeout Milliseconds to wait for the reply.
   * @returns The reply (throws if the peer reported an error).
   */
  async request(
    cmd: string,
    params: Record<string, unknown> = {},
    timeout = 30000,
    // deno-lint-ignore no-explicit-any
  ): Promise<Record<string, any>> {
    const seq = ++this.#seq;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // deno-lint-ignore no-explicit-any
    const reply = new Promise<Record<string, any>>((resolve, reject) => {
      this.#replies.set(seq, resolve);
      timer = setTimeout(() => {
        this.#replies.delete(seq);
        reject(new Error(`Guest peer did not answer '${cmd}' in ${timeout} ms`));
      }, timeout);
    });
    await this.guest.write(JSON.stringify({ seq, cmd, ...params }) + "\n");
    try {
      const value = await reply;
      if (!value.ok) {
        throw new Error(
          `Guest peer cannot ${cmd} ${JSON.stringify(params)}: ${value.error} (${value.code})`,
        );
      }
      return value;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits for an event (also one reported earlier).
   *
   * @param p Which event.
   * @param timeout Milliseconds.
   * @returns The event.
   */
  waitFor(p: (e: GuestPeerEvent) => boolean, timeout = 10000): Promise<GuestPeerEvent> {
    return this.#log.waitFor(p, timeout, "a guest peer event");
  }

  /** Polls `counts` until `received` reaches `n` (or the time is up); returns the last counts. */
  // deno-lint-ignore no-explicit-any
  async waitForCount(ep: string, n: number, timeout = 30000): Promise<Record<string, any>> {
    const deadline = Date.now() + timeout;
    let counts = await this.request("counts", { ep });
    while (counts.received < n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      counts = await this.request("counts", { ep });
    }
    return counts;
  }

  /** Lets the peer close its endpoints, then powers the guest off. */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.request("exit", {}, 10000);
    } catch {
      // the guest stops it anyway
    }
    await this.guest.stop();
  }
}
