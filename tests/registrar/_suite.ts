/**
 * The registrar's behaviour suite (RSPLIB's ASAP side), run against the in-memory transport and
 * against real SCTP (usrsctp) with the same cases: a registrar and ASAP test clients exchange real
 * ASAP messages.
 */
import assert from "node:assert/strict";
import {
  ErrorCause,
  type PoolElementParameter,
  poolHandle,
  type PoolPolicy,
  Ppid,
} from "../../mod.ts";
import { Registrar, type RegistrarConfig } from "../../src/registrar/mod.ts";
import type { AnnounceSender } from "../../src/registrar/registrar.ts";
import { TimerKind } from "../../src/handlespace/types.ts";
import type { SctpTransport } from "../../src/transport/types.ts";
import { AsapTestClient } from "./_asap_client.ts";
import { seedCorpus } from "../codec/_fuzz.ts";
import { prng } from "../codec/_fuzz.ts";

/** What a suite run needs: transports and addresses of a registrar host and a client host. */
export interface SuiteEnvironment {
  registrarTransport: SctpTransport;
  clientTransport: SctpTransport;
  registrarAddress: string;
  clientAddress: string;
  /** Lowest address scope the registrar must accept for these addresses. */
  minAddressScope: number;
  /** Tears the environment down. */
  cleanup?(): Promise<void> | void;
}

/** Options of {@linkcode runRegistrarSuite}. */
export interface RegistrarSuiteOptions {
  name: string;
  environment(): Promise<SuiteEnvironment>;
  /** First port to use; each case uses its own. */
  basePort: number;
  /** Cases to skip, with reasons. */
  skip?: Record<string, string>;
  /** Sanitizer settings for the cases. */
  sanitize?: boolean;
}

const EchoPool = poolHandle("EchoPool");

interface Context {
  env: SuiteEnvironment;
  registrar: Registrar;
  announces: number[];
  client(): Promise<AsapTestClient>;
  pe(id: number, options?: Partial<PoolElementParameter>): PoolElementParameter;
  register(c: AsapTestClient, pe: PoolElementParameter, handle?: Uint8Array): Promise<void>;
}

let nextPort = 0;

/** Registers every case of the suite as a Deno test. */
export function runRegistrarSuite(options: RegistrarSuiteOptions): void {
  nextPort = options.basePort;
  const run = (
    name: string,
    config: Partial<RegistrarConfig>,
    fn: (ctx: Context) => Promise<void>,
  ) => {
    const port = nextPort++;
    Deno.test({
      name: `Registrar (${options.name}) ${name}`,
      ignore: options.skip?.[name] !== undefined,
      sanitizeOps: options.sanitize ?? true,
      sanitizeResources: options.sanitize ?? true,
      fn: async () => {
        const env = await options.environment();
        const announces: number[] = [];
        const clients: AsapTestClient[] = [];
        const registrar = await Registrar.start({
          asap: { addresses: [env.registrarAddress], port },
          asapAnnounce: { address: "239.0.0.50", port: 3863 },
          minAddressScope: env.minAddressScope,
          mentorDiscoveryTimeout: 1000,
          ...config,
        }, {
          transport: env.registrarTransport,
          openAnnounceSender: () => Promise.resolve(fakeAnnounce(announces)),
        });
        const ctx: Context = {
          env,
          registrar,
          announces,
          client: async () => {
            const c = await AsapTestClient.connect(
              env.clientTransport,
              [env.registrarAddress],
              registrar.asapPort,
              [env.clientAddress],
            );
            clients.push(c);
            return c;
          },
          pe: (id, o = {}) => ({
            identifier: id,
            homeRegistrarIdentifier: 0,
            registrationLife: 30000,
            userTransport: {
              protocol: "sctp",
              port: 7000 + (id & 0xfff),
              addresses: [env.clientAddress],
              controlChannel: true,
            },
            policy: { type: "RoundRobin" },
            ...o,
          }),
          register: async (c, pe, handle = EchoPool) => {
            c.send({ type: "registration", poolHandle: handle, poolElement: pe });
            const r = await c.next("registrationResponse");
            assert.equal(
              r.reject,
              false,
              `registration of ${pe.identifier} rejected: ${r.error?.cause}`,
            );
          },
        };
        try {
          await fn(ctx);
        } finally {
          for (const c of clients) await c.close(true);
          await registrar.close();
          await env.cleanup?.();
        }
      },
    });
  };

  run("accepts a registration and records the PE's ASAP transport", {}, async (ctx) => {
    const c = await ctx.client();
    c.send({ type: "registration", poolHandle: EchoPool, poolElement: ctx.pe(0x1001) });
    const r = await c.next("registrationResponse");
    assert.deepEqual(r, {
      type: "registrationResponse",
      poolHandle: EchoPool,
      identifier: 0x1001,
      reject: false,
    });
    const entry = ctx.registrar.handlespace.findPoolElement(EchoPool, 0x1001);
    assert.ok(entry);
    assert.equal(entry.homeRegistrarIdentifier, ctx.registrar.identifier);
    assert.deepEqual(entry.userTransport.addresses, [ctx.env.clientAddress]);
    assert.deepEqual(entry.registratorTransport?.addresses, [ctx.env.clientAddress]);
    assert.equal(entry.registratorTransport?.port, c.endpoint.localPort);
    assert.notEqual(entry.connection, undefined);
  });

  run("treats a registration of a known PE identifier as an update", {}, async (ctx) => {
    const c = await ctx.client();
    await ctx.register(c, ctx.pe(0x1002, { policy: { type: "RoundRobin" } }));
    await ctx.register(c, ctx.pe(0x1002, { registrationLife: 12345 }));
    const entry = ctx.registrar.handlespace.findPoolElement(EchoPool, 0x1002);
    assert.equal(entry?.registrationLife, 12345);
    assert.equal(entry?.isNew, false);
    assert.equal(ctx.registrar.handlespace.size, 1);
  });

  run("rejects user addresses that are not the association's with 0xf008", {}, async (ctx) => {
    const c = await ctx.client();
    const pe = ctx.pe(0x1003);
    pe.userTransport = { ...pe.userTransport, addresses: ["10.250.250.250"] };
    c.send({ type: "registration", poolHandle: EchoPool, poolElement: pe });
    const r = await c.next("registrationResponse");
    assert.equal(r.reject, true);
    assert.deepEqual(r.error, { cause: ErrorCause.NoUsableUserAddresses });
  });

  run("rejects a PE of another policy with 0x5 and the offending policy", {}, async (ctx) => {
    const c = await ctx.client();
    await ctx.register(c, ctx.pe(0x1004));
    const lu: PoolPolicy = { type: "LeastUsed", load: 0 };
    c.send({
      type: "registration",
      poolHandle: EchoPool,
      poolElement: ctx.pe(0x1005, { policy: lu }),
    });
    const r = await c.next("registrationResponse");
    assert.equal(r.reject, true);
    assert.equal(r.error?.cause, ErrorCause.PoolingPolicyInconsistent);
    assert.deepEqual(r.error?.data, new Uint8Array([0, 8, 0, 12, 0x40, 0, 0, 1, 0, 0, 0, 0]));
  });

  run(
    "rejects transport, control channel and identifier mismatches with RSPLIB's causes",
    {},
    async (ctx) => {
      const c = await ctx.client();
      await ctx.register(c, ctx.pe(0x1006));
      const tcp = ctx.pe(0x1007);
      tcp.userTransport = { ...tcp.userTransport, protocol: "tcp" };
      const noControl = ctx.pe(0x1008);
      noControl.userTransport = { ...noControl.userTransport, controlChannel: false };
      for (
        const [pe, cause] of [
          [tcp, ErrorCause.WrongProtocol],
          [noControl, ErrorCause.InconsistentDataControlConfiguration],
          [ctx.pe(0), ErrorCause.InvalidId],
        ] as const
      ) {
        c.send({ type: "registration", poolHandle: EchoPool, poolElement: pe });
        const r = await c.next("registrationResponse");
        assert.equal(r.reject, true);
        assert.equal(r.error?.cause, cause, `PE ${pe.identifier}`);
      }
      assert.equal(ctx.registrar.handlespace.size, 1);
    },
  );

  run("deregisters, and answers OK for an unknown PE too", {}, async (ctx) => {
    const c = await ctx.client();
    await ctx.register(c, ctx.pe(0x1009));
    for (let i = 0; i < 2; i++) {
      c.send({ type: "deregistration", poolHandle: EchoPool, identifier: 0x1009 });
      const r = await c.next("deregistrationResponse");
      assert.deepEqual(r, {
        type: "deregistrationResponse",
        poolHandle: EchoPool,
        identifier: 0x1009,
      });
    }
    assert.equal(ctx.registrar.handlespace.size, 0);
  });

  run("answers a handle resolution for an unknown pool with 0x9", {}, async (ctx) => {
    const c = await ctx.client();
    c.send({ type: "handleResolution", poolHandle: poolHandle("NoSuchPool") });
    const r = await c.next("handleResolutionResponse");
    assert.deepEqual(r.error, { cause: ErrorCause.UnknownPoolHandle });
    assert.equal(r.poolElements.length, 0);
  });

  run("resolves 3 PEs by default and rotates round robin by one per request", {}, async (ctx) => {
    const c = await ctx.client();
    for (const id of [1, 2, 3, 4]) await ctx.register(c, ctx.pe(id));
    const lists: number[][] = [];
    for (let i = 0; i < 4; i++) {
      c.send({ type: "handleResolution", poolHandle: EchoPool });
      const r = await c.next("handleResolutionResponse");
      assert.equal(r.policy?.type, "RoundRobin");
      assert.equal(r.poolElements[0].registratorTransport, undefined);
      lists.push(r.poolElements.map((p) => p.identifier));
    }
    assert.deepEqual(lists, [[1, 2, 3], [2, 3, 4], [3, 4, 1], [4, 1, 2]]);
  });

  run("honours the Handle Resolution option, 0xffffffff and the cap of 128", {}, async (ctx) => {
    const c = await ctx.client();
    for (let id = 1; id <= 5; id++) await ctx.register(c, ctx.pe(id));
    c.send({ type: "handleResolution", poolHandle: EchoPool, items: 1 });
    assert.equal((await c.next("handleResolutionResponse")).poolElements.length, 1);
    c.send({ type: "handleResolution", poolHandle: EchoPool, items: 0xffffffff });
    assert.equal((await c.next("handleResolutionResponse")).poolElements.length, 5);
  });

  run(
    "applies -maxhresitems and -maxincrement",
    { maxHandleResolutionItems: 2, maxIncrement: 2 },
    async (ctx) => {
      const c = await ctx.client();
      for (const id of [1, 2, 3, 4]) await ctx.register(c, ctx.pe(id));
      const lists: number[][] = [];
      for (let i = 0; i < 2; i++) {
        c.send({ type: "handleResolution", poolHandle: EchoPool });
        lists.push(
          (await c.next("handleResolutionResponse")).poolElements.map((p) => p.identifier),
        );
      }
      assert.deepEqual(lists, [[1, 2], [3, 4]]);
    },
  );

  run("sends Endpoint Keep Alives and keeps PEs that acknowledge them", {
    endpointKeepAliveTransmissionInterval: 300,
    endpointKeepAliveTimeoutInterval: 200,
  }, async (ctx) => {
    const c = await ctx.client();
    await ctx.register(c, ctx.pe(0x100a));
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const ka = await c.next("endpointKeepAlive", 3000);
      const elapsed = performance.now() - started;
      assert.ok(elapsed > 150 && elapsed < 1500, `keep alive after ${elapsed} ms`);
      assert.deepEqual(ka, {
        type: "endpointKeepAlive",
        registrarIdentifier: ctx.registrar.identifier,
        poolHandle: EchoPool,
        identifier: 0x100a,
        home: false,
      });
      c.send({ type: "endpointKeepAliveAck", poolHandle: EchoPool, identifier: 0x100a });
    }
    assert.ok(ctx.registrar.handlespace.findPoolElement(EchoPool, 0x100a));
    assert.equal(c.lost, false);
  });

  run("aborts and removes a PE that does not acknowledge a keep alive", {
    endpointKeepAliveTransmissionInterval: 300,
    endpointKeepAliveTimeoutInterval: 200,
  }, async (ctx) => {
    const c = await ctx.client();
    await ctx.register(c, ctx.pe(0x100b));
    const started = performance.now();
    await c.next("endpointKeepAlive", 3000);
    await c.ended(3000);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 150, `removed after ${elapsed} ms`);
    assert.equal(ctx.registrar.handlespace.findPoolElement(EchoPool, 0x100b), undefined);
  });

  run(
    "removes a PE after -maxbadpereports Endpoint Unreachable reports",
    { maxBadPeReports: 3 },
    async (ctx) => {
      const pe = await ctx.client();
      await ctx.register(pe, ctx.pe(0x100c));
      const pu = await ctx.client();
      for (let i = 0; i < 2; i++) {
        pu.send({ type: "endpointUnreachable", poolHandle: EchoPool, identifier: 0x100c });
      }
      pu.send({ type: "handleResolution", poolHandle: EchoPool });
      assert.equal((await pu.next("handleResolutionResponse")).poolElements.length, 1);
      pu.send({ type: "endpointUnreachable", poolHandle: EchoPool, identifier: 0x100c });
      pu.send({ type: "handleResolution", poolHandle: EchoPool });
      assert.equal(
        (await pu.next("handleResolutionResponse")).error?.cause,
        ErrorCause.UnknownPoolHandle,
      );
      assert.equal(await pu.nothing(undefined, 200), true); // no reply to Endpoint Unreachable
    },
  );

  run("limits handle resolutions with -maxhrrate", { maxHandleResolutionRate: 5 }, async (ctx) => {
    const pe = await ctx.client();
    await ctx.register(pe, ctx.pe(0x100d));
    const pu = await ctx.client();
    let refused = 0, answered = 0;
    for (let i = 0; i < 20; i++) pu.send({ type: "handleResolution", poolHandle: EchoPool });
    for (let i = 0; i < 20; i++) {
      const r = await pu.next("handleResolutionResponse");
      if (r.error?.cause === ErrorCause.UnknownPoolHandle) refused++;
      else answered++;
    }
    assert.ok(answered >= 1 && refused >= 10, `answered ${answered}, refused ${refused}`);
  });

  run("ignores Endpoint Unreachable reports above -maxeurate", {
    maxEndpointUnreachableRate: 1,
    maxBadPeReports: 3,
  }, async (ctx) => {
    const pe = await ctx.client();
    await ctx.register(pe, ctx.pe(0x100e));
    const pu = await ctx.client();
    for (let i = 0; i < 10; i++) {
      pu.send({ type: "endpointUnreachable", poolHandle: EchoPool, identifier: 0x100e });
    }
    pu.send({ type: "handleResolution", poolHandle: EchoPool });
    assert.equal((await pu.next("handleResolutionResponse")).poolElements.length, 1);
  });

  run("removes the PEs of an association that is aborted or shut down", {}, async (ctx) => {
    const a = await ctx.client();
    await ctx.register(a, ctx.pe(0x1011));
    await ctx.register(a, ctx.pe(0x1012));
    const b = await ctx.client();
    await ctx.register(b, ctx.pe(0x1013));
    await a.close(true);
    await waitFor(() => ctx.registrar.handlespace.size === 1);
    await b.close(false);
    await waitFor(() => ctx.registrar.handlespace.size === 0);
  });

  run("aborts an association that sends ENRP on the ASAP endpoint", {}, async (ctx) => {
    const c = await ctx.client();
    c.send(
      { type: "listRequest", senderIdentifier: 1, receiverIdentifier: 0 },
      Ppid.ENRP,
    );
    await c.ended(3000);
  });

  run("answers invalid messages with ASAP Errors and stays up", {}, async (ctx) => {
    const c = await ctx.client();
    await ctx.register(c, ctx.pe(0x1014));
    const ph = "0009000c4563686f506f6f6c";
    const cases: [string, number, string | undefined][] = [
      ["05000000" + ph + "40ff0008deadbeef", ErrorCause.UnrecognizedParameter, "40ff0008deadbeef"],
      ["05000000" + "000900ff4563686f", ErrorCause.InvalidValues, ""],
      ["050000ff" + ph, ErrorCause.InvalidMessage, undefined],
      [
        "05000000" + "0009002a" + "41".repeat(38) + "0000",
        ErrorCause.InvalidValue,
        "0009002a" + "41".repeat(38),
      ],
    ];
    for (const [hex, cause, data] of cases) {
      c.send(fixLength(hex));
      const r = await c.next("asapError");
      assert.equal(r.error.cause, cause, hex);
      if (data !== undefined) assert.equal(toHex(r.error.data ?? new Uint8Array()), data);
    }
    // Silent cases: stop-silently parameter, unknown type, error message itself.
    for (const hex of ["05000000" + "00ff0008deadbeef" + ph, "7f000004", "0e000008000c0004"]) {
      c.send(fixLength(hex));
    }
    assert.equal(await c.nothing(undefined, 300), true);
    // Messages a registrar does not handle are ignored.
    c.send({ type: "cookie", cookie: new Uint8Array([1, 2, 3, 4]) });
    assert.equal(await c.nothing(undefined, 200), true);
    assert.equal(c.lost, false);
    c.send({ type: "handleResolution", poolHandle: EchoPool });
    assert.equal((await c.next("handleResolutionResponse")).poolElements[0].identifier, 0x1014);
  });

  run(
    "sets the DPF distance from the association's round-trip time",
    { distanceStep: 50 },
    async (ctx) => {
      const c = await ctx.client();
      const policy: PoolPolicy = { type: "LeastUsedDPF", load: 0, loadDpf: 1000, distance: 12345 };
      await ctx.register(c, ctx.pe(0x1015, { policy }));
      const distance = ctx.registrar.handlespace.findPoolElement(EchoPool, 0x1015)?.policy.distance;
      assert.notEqual(distance, 12345);
      assert.equal(distance! % 50, 0);
    },
  );

  run("expires PEs learned from peers after their registration life", {}, async (ctx) => {
    const pe = ctx.pe(0x1016, { homeRegistrarIdentifier: 0x0badcafe, registrationLife: 300 });
    pe.registratorTransport = { ...pe.userTransport, controlChannel: false };
    ctx.registrar.learnPoolElement(EchoPool, pe);
    const entry = ctx.registrar.handlespace.findPoolElement(EchoPool, 0x1016);
    assert.equal(entry?.timerKind, TimerKind.Expiry);
    await waitFor(() => ctx.registrar.handlespace.size === 0, 3000);
  });

  run("starts announcing after the startup phase, every cycle ±12.5 %", {
    serverAnnounceCycle: 100,
    mentorDiscoveryTimeout: 1000,
  }, async (ctx) => {
    assert.equal(ctx.registrar.inStartupPhase, true);
    await waitFor(() => ctx.announces.length >= 6, 4000);
    assert.equal(ctx.registrar.inStartupPhase, false);
    const gaps = ctx.announces.slice(1).map((t, i) => t - ctx.announces[i]);
    for (const g of gaps) assert.ok(g >= 80 && g < 250, `gap ${g}`);
  });

  run("keeps serving after a replay of the codec fuzz corpus", {}, async (ctx) => {
    const guard = await ctx.client();
    const guardHandle = poolHandle("GuardPool");
    await ctx.register(guard, ctx.pe(0x7777), guardHandle);
    const attacker = await ctx.client();
    const corpus = (await seedCorpus()).get(Ppid.ASAP)!;
    const rnd = prng(42);
    let sent = 0;
    for (let i = 0; i < 3000; i++) {
      const seed = corpus[Math.floor(rnd() * corpus.length)].slice();
      const n = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < n; k++) seed[Math.floor(rnd() * seed.length)] = Math.floor(rnd() * 256);
      if (seed.length > 0) {
        attacker.send(seed);
        sent++;
      }
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(sent > 2500);
    guard.send({ type: "handleResolution", poolHandle: guardHandle });
    const r = await guard.next("handleResolutionResponse", 10000);
    assert.equal(r.poolElements[0]?.identifier, 0x7777);
    assert.ok(ctx.registrar.statistics().invalidMessages > 100);
  });
}

function fakeAnnounce(times: number[]): AnnounceSender {
  return {
    send: () => {
      times.push(performance.now());
      return Promise.resolve();
    },
    close: () => {},
  };
}

function fixLength(hex: string): Uint8Array {
  const b = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  if (b.length >= 4 && b[2] === 0 && b[3] === 0) {
    b[2] = b.length >> 8;
    b[3] = b.length & 0xff;
  }
  return b;
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Polls `cond` every 10 ms until it holds or `timeout` ms pass. */
export async function waitFor(cond: () => boolean, timeout = 3000): Promise<void> {
  const end = performance.now() + timeout;
  while (!cond()) {
    if (performance.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
