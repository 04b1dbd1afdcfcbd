/**
 * Host-side helper for tests that need a user-mode-linux guest (kernel SCTP, RSPLIB) running
 * while host processes talk to it: boots the guest with `scripts/uml/run.sh`, waits until its
 * command runs, and exposes the host-side network namespace that is wired to the guest.
 *
 * Host processes that talk to the guest must run inside that namespace
 * ({@linkcode Guest.hostCommand}); the guest is 10.9.i.2 / fd00:9:0:i::2 on link i, the
 * namespace side 10.9.i.1 / fd00:9:0:i::1 (224.0.0.0/4 routed over link 0 on both sides).
 *
 * @example Run an SCTP server in the guest and a client in the host-side namespace
 * ```ts ignore
 * import { startGuest, umlAvailable } from "./_uml.ts";
 * Deno.test({ name: "kernel server answers", ignore: !umlAvailable(), fn: async () => {
 *   await using guest = await startGuest({
 *     command: [Deno.execPath(), "run", "-A", "tests/transport_kernel/_echo_server.ts"],
 *     readyPattern: /listening/,
 *   });
 *   const out = await guest.hostCommand([Deno.execPath(), "run", "-A", "client.ts",
 *     guest.guestAddresses[0]]).output();
 *   console.log(out.code);
 * } });
 * ```
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const RUN_SH = `${ROOT}/scripts/uml/run.sh`;

/** Options of {@linkcode startGuest}. */
export interface GuestOptions {
  /** Command run as root in the guest (cwd: `cwd`, default the repository). */
  command: string[];
  /** Tap links between guest and namespace (1-4). @default {1} */
  links?: number;
  /** Wall-clock limit of the whole guest in seconds. @default {300} */
  timeout?: number;
  /** Name of the host-side namespace. @default {"rsp-uml-t<random>"} */
  netns?: string;
  /** Working directory in the guest. @default {the repository} */
  cwd?: string;
  /** Extra environment for the guest command. */
  env?: Record<string, string>;
  /** Extra kernel modules to load in the guest (e.g. `veth`). */
  modules?: string[];
  /**
   * Resolve only once the guest's stdout or stderr matches this pattern (e.g. a "listening"
   * line); otherwise when the command has started.
   */
  readyPattern?: RegExp;
  /** Milliseconds to wait for readiness. @default {60000} */
  readyTimeout?: number;
  /** Copy the guest's output to this process's stderr as it arrives. @default {false} */
  echo?: boolean;
  /**
   * Type-check these modules on the host first (`deno check`): the guest starts with a copy of
   * the host's Deno cache, and a type check under UML takes ~10-20 s instead of ~1-2 s.
   */
  precheck?: string[];
  /** Called with each piece of the guest's stdout as it arrives. */
  onStdout?: (text: string) => void;
  /**
   * Give the command a standard input fed by {@linkcode Guest.write} (a raw-mode console; the
   * command never sees end of file). Write only after the command is ready: input that arrives
   * before it opened its stdin is lost. @default {false}
   */
  stdin?: boolean;
}

/** A running guest. Dispose it (`await using`) to stop it and clean up. */
export interface Guest extends AsyncDisposable {
  /** Host-side network namespace wired to the guest. */
  readonly netns: string;
  /** Guest addresses: 10.9.i.2 and fd00:9:0:i::2 for each link i. */
  readonly guestAddresses: string[];
  /** Namespace-side addresses: 10.9.i.1 and fd00:9:0:i::1 for each link i. */
  readonly hostAddresses: string[];
  /** Milliseconds from spawning run.sh until the guest command ran (or matched). */
  readonly bootMilliseconds: number;
  /** Guest stdout so far. */
  stdout(): string;
  /** Guest stderr so far. */
  stderr(): string;
  /**
   * Waits until the guest's stdout or stderr matches `pattern`.
   *
   * @returns The match.
   */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Writes to the command's standard input (needs `stdin: true`). */
  write(text: string): Promise<void>;
  /** A command that runs in the host-side namespace (`ip netns exec NS ...`). */
  hostCommand(args: string[], options?: Deno.CommandOptions): Deno.Command;
  /** Runs `ip -n NS ...` (e.g. `["link", "set", "umltap1", "down"]`); throws on failure. */
  ip(args: string[]): Promise<void>;
  /**
   * Asks the guest to stop its command (SIGTERM, KILL 5 s later), waits for power-off and
   * returns the command's exit status.
   */
  stop(): Promise<number>;
  /** Resolves with the exit status when the guest ends by itself. */
  readonly exited: Promise<number>;
}

/**
 * Whether a user-mode-linux guest can be booted here: root, `/dev/net/tun`, the UML kernel
 * and its SCTP module.
 *
 * @example
 * ```ts ignore
 * import { umlAvailable } from "./_uml.ts";
 * Deno.test({ name: "needs a guest", ignore: !umlAvailable(), fn: () => {} });
 * ```
 *
 * @returns `true` when {@linkcode startGuest} can work.
 */
export function umlAvailable(): boolean {
  try {
    if (Deno.uid() !== 0) return false;
    const kernel = Deno.env.get("RSERPOOL_UML_KERNEL") ?? "/usr/bin/linux.uml";
    Deno.statSync(kernel);
    Deno.statSync("/dev/net/tun");
    for (const entry of Deno.readDirSync("/usr/lib/uml/modules")) {
      if (entry.isDirectory) {
        Deno.statSync(`/usr/lib/uml/modules/${entry.name}/kernel/net/sctp/sctp.ko`);
        return true;
      }
    }
    return false;
  } catch {
    return false;
  }
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
  changed: () => void,
  echo: boolean,
  listener?: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    sink.text += text;
    listener?.(text);
    if (echo) Deno.stderr.writeSync(chunk);
    changed();
  }
}

/**
 * Boots a guest running `options.command` and resolves when it runs (or printed
 * `readyPattern`).
 *
 * @example
 * ```ts ignore
 * import { startGuest } from "./_uml.ts";
 * await using guest = await startGuest({ command: ["sleep", "30"] });
 * console.log(guest.netns, guest.guestAddresses[0]); // rsp-uml-... 10.9.0.2
 * ```
 *
 * @param options The command and the guest's shape.
 * @returns The running guest.
 * @throws {Error} "Cannot boot ..." when the guest does not come up in time.
 */
export async function startGuest(options: GuestOptions): Promise<Guest> {
  const links = options.links ?? 1;
  const netns = options.netns ?? `rsp-uml-t${crypto.randomUUID().slice(0, 7)}`;
  const runDir = `${ROOT}/tests/tmp/uml/${netns}`;
  await Deno.remove(runDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(runDir, { recursive: true });
  const args = [
    "--timeout",
    String(options.timeout ?? 300),
    "--links",
    String(links),
    "--netns",
    netns,
    "--run-dir",
    runDir,
    "--cwd",
    options.cwd ?? ROOT,
  ];
  for (const m of options.modules ?? []) args.push("--modprobe", m);
  if (options.stdin) args.push("--stdin");
  args.push("--", ...options.command);
  if (options.precheck && options.precheck.length > 0) {
    await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", ...options.precheck],
      cwd: ROOT,
      stdout: "null",
      stderr: "null",
    }).output();
  }
  const started = performance.now();
  const child = new Deno.Command(RUN_SH, {
    args,
    cwd: ROOT,
    env: options.env,
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const out = { text: "" };
  const err = { text: "" };
  let listeners: (() => void)[] = [];
  const changed = (): void => {
    const current = listeners;
    listeners = [];
    for (const l of current) l();
  };
  const echo = options.echo ?? false;
  const readers = Promise.all([
    collect(child.stdout, out, changed, echo, options.onStdout),
    collect(child.stderr, err, changed, echo),
  ]);
  let exitCode: number | undefined;
  const exited = child.status.then(async (s) => {
    await readers.catch(() => {});
    exitCode = s.code;
    changed();
    return s.code;
  });

  const waitFor = (check: () => boolean, timeoutMs: number, what: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      // The ready file has no event: look at it a few times per second too.
      const poll = setInterval(() => changed(), 100);
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`Cannot ${what}: nothing after ${timeoutMs} ms`));
      }, timeoutMs);
      const test = (): void => {
        if (check()) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve();
        } else if (exitCode !== undefined) {
          clearTimeout(timer);
          clearInterval(poll);
          reject(
            new Error(
              `Cannot ${what}: the guest ended with status ${exitCode}\n${out.text}\n${err.text}`,
            ),
          );
        } else {
          listeners.push(test);
        }
      };
      test();
    });

  const writer = options.stdin ? child.stdin.getWriter() : undefined;
  const closeStdin = async (): Promise<void> => {
    await writer?.close().catch(() => {});
  };
  let stopped: Promise<number> | undefined;
  const stop = async (): Promise<number> => {
    if (exitCode === undefined) {
      await Deno.writeTextFile(`${runDir}/stop`, "").catch(() => {});
    }
    await closeStdin();
    const code = await exited;
    await Deno.remove(runDir, { recursive: true }).catch(() => {});
    return code;
  };

  const ready = (): boolean => {
    if (options.readyPattern) {
      return options.readyPattern.test(out.text) || options.readyPattern.test(err.text);
    }
    try {
      Deno.statSync(`${runDir}/ready`);
      return true;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(ready, options.readyTimeout ?? 60_000, "boot the user-mode-linux guest");
  } catch (error) {
    if (exitCode === undefined) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
    }
    await closeStdin();
    await exited;
    await Deno.remove(runDir, { recursive: true }).catch(() => {});
    throw error;
  }
  const bootMilliseconds = Math.round(performance.now() - started);

  const guestAddresses: string[] = [];
  const hostAddresses: string[] = [];
  for (let i = 0; i < links; i++) {
    guestAddresses.push(`10.9.${i}.2`, `fd00:9:0:${i}::2`);
    hostAddresses.push(`10.9.${i}.1`, `fd00:9:0:${i}::1`);
  }
  if (links === 0) guestAddresses.push("10.9.0.2");

  return {
    netns,
    guestAddresses,
    hostAddresses,
    bootMilliseconds,
    exited,
    stdout: () => out.text,
    stderr: () => err.text,
    waitForOutput: async (pattern, timeoutMs = 30_000) => {
      let match: RegExpMatchArray | null = null;
      await waitFor(
        () => (match = out.text.match(pattern) ?? err.text.match(pattern)) !== null,
        timeoutMs,
        `see ${pattern} in the guest's output`,
      );
      return match!;
    },
    write: async (text) => {
      if (writer === undefined) throw new Error("Cannot write to the guest: started without stdin");
      await writer.write(new TextEncoder().encode(text));
    },
    hostCommand: (cmd, commandOptions = {}) =>
      new Deno.Command("ip", { ...commandOptions, args: ["netns", "exec", netns, ...cmd] }),
    ip: async (ipArgs) => {
      const r = await new Deno.Command("ip", { args: ["-n", netns, ...ipArgs] }).output();
      if (!r.success) {
        throw new Error(
          `Cannot run ip -n ${netns} ${ipArgs.join(" ")}: ${new TextDecoder().decode(r.stderr)}`,
        );
      }
    },
    stop: () => (stopped ??= stop()),
    [Symbol.asyncDispose]: async () => {
      await (stopped ??= stop());
    },
  };
}
