/**
 * RSPLIB's `-daemonpidfile=F`: continue in the background and write the background process's id
 * to F. Deno cannot fork, so the program starts itself again in a new session (`setsid`) with
 * the same arguments and exits; the background copy removes the file when it ends.
 *
 * @module
 */

const CHILD_ENV = "RSERPOOL_DAEMON_PIDFILE";

/**
 * Whether this process is the background copy started by {@linkcode daemonize}; if so, the pid
 * file it must remove at exit.
 *
 * @returns The pid file path, or `undefined`.
 */
export function daemonPidFile(): string | undefined {
  try {
    return Deno.env.get(CHILD_ENV) || undefined;
  } catch {
    return undefined;
  }
}

/** The command that runs this program again: compiled executable or `deno run -A script`. */
function selfCommand(args: string[]): string[] {
  const exec = Deno.execPath();
  const main = Deno.mainModule;
  const compiled = !/\/deno$/.test(exec) || main.includes("/deno-compile-");
  if (compiled) return [exec, ...args];
  return [exec, "run", "-A", "--unstable-net", main, ...args];
}

/**
 * Moves the program into the background: starts it again in its own session with `args`
 * (without `-daemonpidfile`), writes the new process id to `pidFile` and exits. Returns only in
 * the background copy (or when there is nothing to do).
 *
 * @example
 * ```ts ignore
 * import { daemonize } from "./daemon.ts";
 * await daemonize("/run/rspregistrar.pid", Deno.args.filter((a) => !a.startsWith("-daemonpidfile")));
 * ```
 *
 * @param pidFile Where to write the background process id.
 * @param args The program's arguments for the background copy.
 */
export async function daemonize(pidFile: string, args: string[]): Promise<void> {
  if (daemonPidFile() !== undefined) return;
  const [cmd, ...rest] = selfCommand(args);
  const child = new Deno.Command("setsid", {
    args: [cmd, ...rest],
    env: { [CHILD_ENV]: pidFile },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await Deno.writeTextFile(pidFile, `${child.pid}\n`);
  } catch (e) {
    child.kill("SIGKILL");
    console.error(`ERROR: Unable to create PID file "${pidFile}": ${(e as Error).message}`);
    Deno.exit(1);
  }
  child.unref();
  Deno.exit(0);
}

/** Removes the pid file of a background copy (at its exit). */
export function removeDaemonPidFile(): void {
  const file = daemonPidFile();
  if (file === undefined) return;
  try {
    Deno.removeSync(file);
  } catch {
    // already gone
  }
}
