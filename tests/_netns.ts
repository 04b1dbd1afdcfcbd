/**
 * Test helper: network-namespace "hosts" on bridges, created and destroyed through
 * `scripts/netns/testbed.sh` (see there for the addressing: link L, host H = 198.18.L.H/24).
 *
 * @example Two hosts with two links; cut one link
 * ```ts ignore
 * import { createTestbed, netnsAvailable } from "./_netns.ts";
 * if (netnsAvailable()) {
 *   await using bed = await createTestbed({ hosts: 2, links: 2 });
 *   const h1 = bed.host(1);
 *   console.log(h1.namespace, h1.addresses); // rsp...-h1 [ "198.18.0.1", "198.18.1.1" ]
 *   await bed.cut(2, 0);
 *   await bed.restore(2, 0);
 * }
 * ```
 *
 * @module
 */

const SCRIPT = new URL("../scripts/netns/testbed.sh", import.meta.url).pathname;

/** Options of {@linkcode createTestbed}. */
export interface TestbedOptions {
  /** Number of hosts (default 2). */
  hosts?: number;
  /** Number of links, i.e. bridges; every host has one interface per link (default 1). */
  links?: number;
  /** Also give every interface an IPv6 address fd00:5c7:0:L::H. */
  ipv6?: boolean;
  /** One host with only `lo` (and the multicast route on `lo`): same-host multicast. */
  loopbackOnly?: boolean;
  /** Name prefix (default "rsp"); a unique suffix is appended. */
  prefix?: string;
}

/** One host of a testbed. */
export interface TestbedHost {
  /** 1-based index. */
  index: number;
  /** Network namespace name. */
  namespace: string;
  /** IPv4 address per link (index = link); `["127.0.0.1"]` for a loopback-only host. */
  addresses: string[];
  /** IPv6 address per link (with `ipv6`). */
  ipv6Addresses: string[];
}

let available: boolean | undefined;

/**
 * Whether namespaces can be created here (root and `ip` present).
 *
 * @returns `true` if the testbed works.
 */
export function netnsAvailable(): boolean {
  if (available !== undefined) return available;
  try {
    const uid = Deno.uid();
    const ip = new Deno.Command("ip", { args: ["netns", "list"], stdout: "null", stderr: "null" })
      .outputSync();
    available = uid === 0 && ip.success;
  } catch {
    available = false;
  }
  return available;
}

async function run(args: string[]): Promise<void> {
  const out = await new Deno.Command("sh", {
    args: [SCRIPT, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`Cannot run testbed.sh ${args.join(" ")}: ${text}`);
  }
}

let counter = 0;

/** A set of namespace hosts; destroy it with `await using` or {@linkcode Testbed.destroy}. */
export class Testbed implements AsyncDisposable {
  /** Testbed name (namespace prefix). */
  readonly name: string;
  /** The hosts, in index order. */
  readonly hosts: readonly TestbedHost[];
  #destroyed = false;

  constructor(name: string, hosts: TestbedHost[]) {
    this.name = name;
    this.hosts = hosts;
  }

  /**
   * Host by 1-based index.
   *
   * @param index The index.
   * @returns The host.
   */
  host(index: number): TestbedHost {
    const h = this.hosts[index - 1];
    if (h === undefined) throw new RangeError(`Cannot find host ${index} in testbed ${this.name}`);
    return h;
  }

  /**
   * A command that runs `program` inside a host's namespace.
   *
   * @param host Host index.
   * @param program Program.
   * @param options Arguments and Deno.Command options.
   * @returns The command (not started).
   */
  command(host: number, program: string, options: Deno.CommandOptions = {}): Deno.Command {
    return new Deno.Command("ip", {
      ...options,
      args: ["netns", "exec", this.host(host).namespace, program, ...(options.args ?? [])],
    });
  }

  /**
   * Takes a host's port on a link down (the bridge side of its veth pair).
   *
   * @param host Host index.
   * @param link Link index (0-based).
   */
  async cut(host: number, link: number): Promise<void> {
    await run(["cut", this.name, String(host), String(link)]);
  }

  /**
   * Brings a host's port on a link up again.
   *
   * @param host Host index.
   * @param link Link index (0-based).
   */
  async restore(host: number, link: number): Promise<void> {
    await run(["restore", this.name, String(host), String(link)]);
  }

  /** Deletes the namespaces (kills what still runs in them). */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await run(["destroy", this.name]);
  }

  /** Same as {@linkcode Testbed.destroy}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }
}

/**
 * Creates a testbed with a unique name.
 *
 * @param options Hosts, links, IPv6, loopback-only.
 * @returns The testbed.
 */
export async function createTestbed(options: TestbedOptions = {}): Promise<Testbed> {
  const name = `${options.prefix ?? "rsp"}${Deno.pid}x${counter++}`;
  if (options.loopbackOnly) {
    await run(["lo", name]);
    return new Testbed(name, [{
      index: 1,
      namespace: `${name}-h1`,
      addresses: ["127.0.0.1"],
      ipv6Addresses: ["::1"],
    }]);
  }
  const hosts = options.hosts ?? 2;
  const links = options.links ?? 1;
  const args = ["create", name, "--hosts", String(hosts), "--links", String(links)];
  if (options.ipv6) args.push("--ipv6");
  try {
    await run(args);
  } catch (error) {
    await run(["destroy", name]).catch(() => {});
    throw error;
  }
  const list: TestbedHost[] = [];
  for (let h = 1; h <= hosts; h++) {
    const addresses: string[] = [];
    const ipv6Addresses: string[] = [];
    for (let l = 0; l < links; l++) {
      addresses.push(`198.18.${l}.${h}`);
      if (options.ipv6) ipv6Addresses.push(`fd00:5c7:0:${l}::${h}`);
    }
    list.push({ index: h, namespace: `${name}-h${h}`, addresses, ipv6Addresses });
  }
  return new Testbed(name, list);
}
