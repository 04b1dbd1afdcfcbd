/**
 * Shared set-ups of the pool library's unit tests on the memory transport: a pool element
 * parameter builder, a scripted registrar with an ASAP client or a pool element on it, and the
 * project's registrar with echo pool elements and pool users.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { PoolElementParameter } from "../../src/codec/mod.ts";
import {
  MemoryNetwork,
  type MemoryTransport,
} from "../../src/transport/memory/memory_transport.ts";
import { Registrar } from "../../src/registrar/mod.ts";
import {
  AsapClient,
  type AsapClientOptions,
  PoolElement,
  type PoolElementOptions,
  PoolUser,
  type PoolUserOptions,
  type PoolUserSession,
  type PoolUserSessionEvent,
  serve,
  type Server,
} from "../../src/pool/mod.ts";
import { FakeRegistrar } from "./_fake_registrar.ts";

/** Address of the registrar (fake or real), on port 3863. */
export const REGISTRAR = "10.0.0.1";
/** Address of the ASAP client's or pool element's host. */
export const PE_HOST = "10.0.0.5";
/** Address of the pool user's host. */
export const PU_HOST = "10.0.0.50";

/** Client options that reach the registrar at {@linkcode REGISTRAR} and ignore announces. */
export const registrarOptions = { registrars: [`${REGISTRAR}:3863`], announce: "off" };

/** A round-robin pool element parameter with an SCTP user transport. */
export function pe(identifier: number, port = 7000, address = PE_HOST): PoolElementParameter {
  return {
    identifier,
    homeRegistrarIdentifier: 0,
    registrationLife: 90000,
    userTransport: { protocol: "sctp" as const, port, addresses: [address], controlChannel: true },
    policy: { type: "RoundRobin" as const },
  };
}

/**
 * Starts a fake registrar at {@linkcode REGISTRAR}:3863, then `open()`s a client (closing the
 * registrar again when that fails); `dispose()` closes the client, then the registrar.
 */
async function onFakeRegistrar<T extends AsyncDisposable>(
  net: MemoryNetwork,
  open: () => Promise<T>,
  identifier?: number,
): Promise<{ reg: FakeRegistrar; client: T; dispose(): Promise<void> }> {
  const reg = await FakeRegistrar.start(net.host([REGISTRAR]), 3863, identifier);
  let client: T;
  try {
    client = await open();
  } catch (e) {
    await reg.close();
    throw e;
  }
  return {
    reg,
    client,
    async dispose() {
      await client[Symbol.asyncDispose]();
      await reg.close();
    },
  };
}

/** A fake registrar and an ASAP client on it; disposal closes the client, then the registrar. */
export interface AsapFixture extends AsyncDisposable {
  net: MemoryNetwork;
  reg: FakeRegistrar;
  /** The client's host. */
  host: MemoryTransport;
  asap: AsapClient;
}

/**
 * Starts a fake registrar at {@linkcode REGISTRAR}:3863 and opens an ASAP client on
 * {@linkcode PE_HOST} that knows it (announces off).
 *
 * @param options `registrarIdentifier` for the fake registrar, `net` to use an existing
 * network, `asap` for more client options.
 */
export async function asapFixture(
  options: {
    registrarIdentifier?: number;
    net?: MemoryNetwork;
    asap?: Partial<AsapClientOptions>;
  } = {},
): Promise<AsapFixture> {
  const net = options.net ?? new MemoryNetwork();
  const host = net.host([PE_HOST]);
  const f = await onFakeRegistrar(
    net,
    () => AsapClient.open({ transport: host, ...registrarOptions, ...options.asap }),
    options.registrarIdentifier,
  );
  return { net, reg: f.reg, host, asap: f.client, [Symbol.asyncDispose]: f.dispose };
}

/** A fake registrar and a pool element on it; disposal closes the pool element, then the registrar. */
export interface PoolElementFixture extends AsyncDisposable {
  net: MemoryNetwork;
  reg: FakeRegistrar;
  pe: PoolElement;
}

/**
 * Starts a fake registrar at {@linkcode REGISTRAR}:3863 and creates a pool element of pool
 * "EchoPool" on {@linkcode PE_HOST} that registers there (announces off).
 *
 * @param options `net` to use an existing network, `pe` for more pool element options.
 */
export async function poolElementFixture(
  options: { net?: MemoryNetwork; pe?: Partial<PoolElementOptions> } = {},
): Promise<PoolElementFixture> {
  const net = options.net ?? new MemoryNetwork();
  const f = await onFakeRegistrar(net, () =>
    PoolElement.create({
      poolHandle: "EchoPool",
      ...registrarOptions,
      ...options.pe,
      transport: options.pe?.transport ?? net.host([PE_HOST]),
    }));
  return { net, reg: f.reg, pe: f.client, [Symbol.asyncDispose]: f.dispose };
}

/** Starts the project's registrar at {@linkcode REGISTRAR}:3863 with short Keep Alive timers. */
export async function startRegistrar(
  net: MemoryNetwork,
  host?: MemoryTransport,
): Promise<Registrar> {
  return await Registrar.start(
    {
      identifier: 0x0e0e0e0e,
      asap: { addresses: [REGISTRAR], port: 3863 },
      asapAnnounce: undefined,
      enrpAnnounce: undefined,
      mentorDiscoveryTimeout: 50,
      endpointKeepAliveTransmissionInterval: 300,
      endpointKeepAliveTimeoutInterval: 300,
    },
    { transport: host ?? net.host([REGISTRAR]) },
  );
}

/** An echo pool element started by {@linkcode startEchoPe}. */
export interface RunningPe {
  host: MemoryTransport;
  pe: PoolElement;
  server: Server;
  close(): Promise<void>;
}

/**
 * Starts an echo pool element of pool "EchoPool" on `address` that registers at
 * {@linkcode REGISTRAR}; it sends a cookie after each message.
 */
export async function startEchoPe(
  net: MemoryNetwork,
  address: string,
  identifier: number,
): Promise<RunningPe> {
  const host = net.host([address]);
  const pe = await PoolElement.create({
    transport: host,
    poolHandle: "EchoPool",
    identifier,
    ...registrarOptions,
  });
  const server = serve(pe, (session) => ({
    message(data, info) {
      session.send(data, info);
      // Cookie = the session's message count so far (4 bytes).
      const cookie = new Uint8Array([0, 0, 0, data.length]);
      session.sendCookie(cookie);
    },
  }));
  return {
    host,
    pe,
    server,
    async close() {
      await pe.close();
      await server.close();
    },
  };
}

/** Creates a pool user on {@linkcode PU_HOST} that uses the registrar at {@linkcode REGISTRAR}. */
export function startPoolUser(
  net: MemoryNetwork,
  options: Partial<PoolUserOptions> = {},
): Promise<PoolUser> {
  return PoolUser.create({
    ...registrarOptions,
    ...options,
    transport: options.transport ?? net.host([PU_HOST]),
  });
}

/** The session's next message (other events are added to `log`); fails after 3 s. */
export async function nextMessage(
  session: PoolUserSession,
  log?: PoolUserSessionEvent[],
): Promise<PoolUserSessionEvent & { type: "message" }> {
  for (;;) {
    const e = await session.receive({ signal: AbortSignal.timeout(3000) });
    assert.ok(e !== undefined, "session ended");
    log?.push(e);
    if (e.type === "message") return e;
  }
}
