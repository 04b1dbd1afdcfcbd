/** Unit tests of the Handlespace API beyond the policies. */
import assert from "node:assert/strict";
import type { PoolElementParameter, TransportParameter } from "../../mod.ts";
import {
  Handlespace,
  HandlespaceError,
  type HandleTableCursor,
  TimerKind,
} from "../../src/handlespace/mod.ts";
import { pe } from "./_policy_conformance.ts";

const encoder = new TextEncoder();
const registrator: TransportParameter = {
  protocol: "sctp",
  port: 3863,
  addresses: ["192.0.2.9"],
};

function causeOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof HandlespaceError);
    assert.match(e.message, /^Cannot register/);
    return e.errorCause;
  }
  return undefined;
}

function rr(id: number, home = 1): PoolElementParameter {
  return pe(id, { type: "RoundRobin" }, home);
}

Deno.test("registerPoolElement() refuses invalid input with RSPLIB's error causes", () => {
  const hs = new Handlespace();
  assert.equal(causeOf(() => hs.registerPoolElement("", rr(1))), 0xf004);
  assert.equal(causeOf(() => hs.registerPoolElement("x".repeat(33), rr(1))), 0xf004);
  assert.equal(causeOf(() => hs.registerPoolElement("P", rr(0))), 0xf000);
  const noAddress = rr(1);
  noAddress.userTransport = { protocol: "sctp", port: 7, addresses: [] };
  assert.equal(causeOf(() => hs.registerPoolElement("P", noAddress)), 0xf005);
  const noPort = rr(1);
  noPort.userTransport = { protocol: "sctp", port: 0, addresses: ["192.0.2.1"] };
  assert.equal(causeOf(() => hs.registerPoolElement("P", noPort)), 0xf005);
  const badRegistrator = { ...rr(1), registratorTransport: { ...registrator, protocol: "tcp" } };
  assert.equal(
    causeOf(() => hs.registerPoolElement("P", badRegistrator as PoolElementParameter)),
    0xf006,
  );
  const controlRegistrator = {
    ...rr(1),
    registratorTransport: { ...registrator, controlChannel: true },
  };
  assert.equal(causeOf(() => hs.registerPoolElement("P", controlRegistrator)), 0xf006);
  const badLoad = pe(1, { type: "LeastUsed", load: 2 ** 32 });
  assert.equal(causeOf(() => hs.registerPoolElement("P", badLoad)), 0xf003);
  const badType = pe(1, { type: "NoSuchPolicy" as "RoundRobin" });
  assert.equal(causeOf(() => hs.registerPoolElement("P", badType)), 0xf003);
  assert.equal(hs.size, 0);
  assert.equal(hs.poolCount, 0);
});

Deno.test("registerPoolElement() names the same pool when the handle is text or bytes", () => {
  const hs = new Handlespace();
  hs.registerPoolElement("Pool-\u00e9", rr(1));
  hs.registerPoolElement(encoder.encode("Pool-\u00e9"), rr(2));
  hs.registerPoolElement(new Uint8Array([0, 1, 2]), rr(3));
  assert.equal(hs.poolCount, 2);
  assert.equal(hs.poolSize("Pool-\u00e9"), 2);
  assert.equal(hs.findPoolElement(new Uint8Array([0, 1, 2]), 3)?.identifier, 3);
  assert.equal(hs.findPoolElement("Pool-e", 1), undefined);
  assert.deepEqual(hs.pools().map((h) => h.length), [3, 7]);
});

Deno.test("registerPoolElement() applies the options when a registrar registers a PE", () => {
  const hs = new Handlespace({ homeRegistrarIdentifier: 7, clock: () => 42 });
  const element = pe(5, { type: "LeastUsedDPF", load: 1, loadDpf: 2, distance: 0 }, 0);
  const entry = hs.registerPoolElement("P", element, {
    homeRegistrarIdentifier: 7,
    registratorTransport: registrator,
    connection: 99,
    distance: 150,
  });
  assert.equal(entry.homeRegistrarIdentifier, 7);
  assert.equal(entry.registratorTransport, registrator);
  assert.equal(entry.connection, 99);
  assert.equal(entry.policy.distance, 150);
  assert.equal(element.policy.distance, 0, "the caller's policy object is not changed");
  assert.equal(entry.lastUpdate, 42);
  assert.equal(entry.isNew, true);
  assert.equal(hs.ownedCount, 1);
  assert.deepEqual(entry.toParameter(), {
    identifier: 5,
    homeRegistrarIdentifier: 7,
    registrationLife: 30000,
    userTransport: element.userTransport,
    policy: entry.policy,
    registratorTransport: registrator,
  });
});

Deno.test("registerPoolElement() replaces the registration data when it updates a PE", () => {
  let now = 1;
  const hs = new Handlespace({ homeRegistrarIdentifier: 1, clock: () => now });
  const first = hs.registerPoolElement("P", rr(1), { connection: 3 });
  hs.markOwnedBy(1);
  now = 2;
  const again = { ...rr(1, 2), registrationLife: 999 };
  again.userTransport = { protocol: "sctp", port: 8, addresses: ["192.0.2.2"] };
  const second = hs.registerPoolElement("P", again, { connection: 4 });
  assert.equal(second, first);
  assert.equal(second.isNew, false);
  assert.equal(second.marked, false);
  assert.equal(second.registrationLife, 999);
  assert.equal(second.userTransport.port, 8);
  assert.equal(second.lastUpdate, 2);
  assert.equal(second.connection, 4);
  assert.equal(second.homeRegistrarIdentifier, 2);
  assert.equal(hs.ownedCount, 0);
  assert.deepEqual(hs.poolElementsOfConnection(3), []);
  assert.equal(hs.poolElementsOfConnection(4).length, 1);
});

Deno.test("handleResolution() caps maxItems and fills the given array", () => {
  const hs = new Handlespace({ maxHandleResolutionItems: 5 });
  for (let id = 1; id <= 8; id++) hs.registerPoolElement("P", rr(id));
  assert.equal(hs.handleResolution("P", 0)!.length, 3);
  assert.equal(hs.handleResolution("P", 0xffffffff)!.length, 5);
  assert.equal(hs.handleResolution("P", 100)!.length, 5);
  const into = [hs.findPoolElement("P", 1)!, hs.findPoolElement("P", 2)!];
  const out = hs.handleResolution("P", 1, { into });
  assert.equal(out, into);
  assert.equal(out!.length, 1);
  assert.equal(hs.handleResolution("Unknown", 1, { into }), undefined);
});

Deno.test("deregisterPoolElement() returns the removed entry and stops its timer", () => {
  const hs = new Handlespace();
  const entry = hs.registerPoolElement("P", rr(1));
  hs.setTimer(entry, TimerKind.KeepAliveTimeout, 10);
  assert.equal(hs.deregisterPoolElement("P", 1), entry);
  assert.equal(entry.registered, false);
  assert.equal(hs.nextTimerDue(), undefined);
  assert.equal(hs.deregisterPoolElement("P", 1), undefined);
  assert.equal(hs.removePoolElement(entry), false);
  hs.setTimer(entry, TimerKind.Expiry, 5);
  assert.equal(hs.nextTimerDue(), undefined, "a removed entry gets no timer");
});

Deno.test("takeExpired() returns due timers in time order and leaves later ones", () => {
  let now = 0;
  const hs = new Handlespace({ clock: () => now });
  const a = hs.registerPoolElement("P", rr(1));
  const b = hs.registerPoolElement("P", rr(2));
  const c = hs.registerPoolElement("Q", rr(1));
  hs.setTimer(a, TimerKind.KeepAliveTransmission, 30);
  hs.setTimer(b, TimerKind.KeepAliveTimeout, 10);
  hs.setTimer(c, TimerKind.Expiry, 20);
  hs.setTimer(a, TimerKind.KeepAliveTimeout, 15); // replaces a's timer
  assert.equal(hs.nextTimerDue(), 10);
  now = 16;
  const fired = hs.takeExpired();
  assert.deepEqual(fired.map((e) => [e.identifier, e.timerKind, e.timerRunning]), [
    [2, TimerKind.KeepAliveTimeout, false],
    [1, TimerKind.KeepAliveTimeout, false],
  ]);
  assert.equal(hs.nextTimerDue(), 20);
  assert.equal(c.timerRunning, true);
  hs.clearTimer(c);
  assert.equal(c.timerKind, TimerKind.None);
  assert.deepEqual(hs.takeExpired(1e9), []);
});

Deno.test("purgeExpired() removes expired PEs and keeps other timers running", () => {
  let now = 100;
  const hs = new Handlespace({ clock: () => now });
  const a = hs.registerPoolElement("P", rr(1));
  const b = hs.registerPoolElement("P", rr(2));
  const c = hs.registerPoolElement("P", rr(3));
  hs.restartExpiryTimer(a, 50);
  hs.setTimer(b, TimerKind.KeepAliveTransmission, 120);
  hs.restartExpiryTimer(c, 500);
  assert.equal(a.timerDue, 150);
  now = 200;
  assert.equal(hs.purgeExpired(), 1);
  assert.equal(a.registered, false);
  assert.equal(b.timerRunning, true);
  assert.equal(hs.takeExpired()[0], b);
  assert.equal(hs.nextTimerDue(), 600);
  hs.verify();
});

Deno.test("reportUnreachable() removes the PE when the reports reach the threshold", () => {
  const hs = new Handlespace();
  hs.registerPoolElement("P", rr(1));
  assert.equal(hs.reportUnreachable("P", 2), undefined);
  assert.equal(hs.reportUnreachable("P", 1)?.removed, false);
  hs.registerPoolElement("P", rr(1)); // RSPLIB keeps the count across re-registrations
  assert.equal(hs.reportUnreachable("P", 1)?.removed, false);
  const last = hs.reportUnreachable("P", 1)!;
  assert.equal(last.removed, true);
  assert.equal(last.entry.unreachabilityReports, 3);
  assert.equal(hs.size, 0);
});

Deno.test("ownershipChecksum() follows owners when PEs are re-homed", () => {
  const hs = new Handlespace({ homeRegistrarIdentifier: 1 });
  hs.registerPoolElement("EchoPoolX", pe(0x12345678, { type: "RoundRobin" }, 2));
  hs.registerPoolElement("EchoPoolX", pe(0xdeadbeef, { type: "RoundRobin" }, 2));
  assert.equal(hs.ownershipChecksum(), 0xffff);
  assert.equal(hs.ownershipChecksum(2), 0x6e58);
  assert.equal(hs.countOwnedBy(2), 2);
  assert.deepEqual(hs.owners(), [2]);
  const moved = hs.rehome(2, 1);
  assert.deepEqual(moved.map((e) => e.identifier), [0x12345678, 0xdeadbeef]);
  assert.equal(hs.ownershipChecksum(), 0x6e58);
  assert.equal(hs.ownershipChecksum(2), 0xffff);
  assert.equal(hs.ownedCount, 2);
  assert.equal(hs.handlespaceChecksum(), 0x6e58);
});

Deno.test("purgeMarked() removes the PEs of an owner that no update confirmed", () => {
  const hs = new Handlespace({ homeRegistrarIdentifier: 1 });
  for (let id = 1; id <= 4; id++) hs.registerPoolElement("P", rr(id, 2));
  hs.registerPoolElement("P", rr(5, 3));
  assert.equal(hs.markOwnedBy(2), 4);
  hs.registerPoolElement("P", rr(2, 2));
  hs.registerPoolElement("P", rr(4, 2));
  assert.deepEqual(hs.purgeMarked(2).map((e) => e.identifier).sort(), [1, 3]);
  assert.equal(hs.size, 3);
  assert.deepEqual(hs.purgeMarked(3), []);
});

Deno.test("registerPoolElement() throws a RangeError when the connection is not an int32", () => {
  const hs = new Handlespace();
  assert.throws(() => hs.registerPoolElement("P", rr(1), { connection: 2 ** 40 }), RangeError);
  const entry = hs.registerPoolElement("P", rr(1), { connection: -5 });
  assert.throws(() => hs.setConnection(entry, 1.5), RangeError);
  assert.equal(hs.poolElementsOfConnection(-5).length, 1);
});

Deno.test("deregisterConnection() removes every PE of the connection", () => {
  const hs = new Handlespace();
  hs.registerPoolElement("P", rr(1), { connection: 5 });
  hs.registerPoolElement("Q", rr(2), { connection: 5 });
  const other = hs.registerPoolElement("Q", rr(3), { connection: 6 });
  hs.setConnection(other, undefined);
  assert.equal(other.connection, undefined);
  assert.deepEqual(hs.deregisterConnection(5).map((e) => e.identifier).sort(), [1, 2]);
  assert.deepEqual(hs.poolElementsOfConnection(5), []);
  assert.equal(hs.size, 1);
  hs.verify();
});

Deno.test("handleTable() pages by (pool handle, identifier) and resumes after removed PEs", () => {
  const hs = new Handlespace();
  for (const ph of ["BB", "A", "CC"]) {
    for (const id of [0xfffffff0, 3, 1, 2]) hs.registerPoolElement(ph, rr(id));
  }
  const all = hs.handleTable({ maxElements: 1024 });
  assert.deepEqual(
    all.map((e) => `${new TextDecoder().decode(e.poolHandle)}:${e.identifier}`),
    [
      "A:1",
      "A:2",
      "A:3",
      "A:4294967280",
      "BB:1",
      "BB:2",
      "BB:3",
      "BB:4294967280",
      "CC:1",
      "CC:2",
      "CC:3",
      "CC:4294967280",
    ],
  );
  const page = hs.handleTable({ maxElements: 5 });
  assert.equal(page.length, 5);
  const cursor: HandleTableCursor = { poolHandle: page[4].poolHandle, identifier: 1 };
  hs.deregisterPoolElement("BB", 1);
  const next = hs.handleTable({ after: cursor, maxElements: 3 });
  assert.deepEqual(next.map((e) => e.identifier), [2, 3, 0xfffffff0]);
  hs.deregisterPoolElement("BB", 2);
  hs.deregisterPoolElement("BB", 3);
  hs.deregisterPoolElement("BB", 0xfffffff0);
  assert.deepEqual(hs.handleTable({ after: cursor, maxElements: 2 }).map((e) => e.identifier), [
    1,
    2,
  ]);
  assert.equal(hs.handleTable({ maxElements: 5000 }).length, 8);
  assert.deepEqual(hs.handleTable({ maxElements: 0 }), []);
});

Deno.test("handleTable() pages one owner's PEs by (identifier, pool handle)", () => {
  const hs = new Handlespace({ homeRegistrarIdentifier: 1 });
  hs.registerPoolElement("BB", rr(2, 1));
  hs.registerPoolElement("A", rr(2, 1));
  hs.registerPoolElement("A", rr(1, 1));
  hs.registerPoolElement("A", rr(3, 9));
  const text = (list: { poolHandle: Uint8Array; identifier: number }[]) =>
    list.map((e) => `${new TextDecoder().decode(e.poolHandle)}:${e.identifier}`);
  assert.deepEqual(text(hs.handleTable({ owner: 1 })), ["A:1", "A:2", "BB:2"]);
  const after = { poolHandle: encoder.encode("A"), identifier: 2 };
  assert.deepEqual(text(hs.handleTable({ owner: 1, after })), ["BB:2"]);
  assert.deepEqual(hs.handleTable({ owner: 5 }), []);
});

Deno.test("clear() empties the handlespace", () => {
  const hs = new Handlespace();
  const e = hs.registerPoolElement("P", rr(1), { connection: 1 });
  hs.setTimer(e, TimerKind.Expiry, 1);
  hs.clear();
  assert.equal(hs.size, 0);
  assert.equal(hs.poolCount, 0);
  assert.equal(e.registered, false);
  assert.equal(e.timerRunning, false);
  assert.equal(hs.nextTimerDue(), undefined);
  assert.equal(hs.handlespaceChecksum(), 0xffff);
  hs.verify();
  assert.equal([...hs].length, 0);
});

Deno.test("ownedCount counts the PEs of a home registrar identifier of 0x80000000 and above", () => {
  const home = 0x9abcdef0;
  const hs = new Handlespace({ homeRegistrarIdentifier: home });
  hs.registerPoolElement("P", rr(1, home));
  hs.registerPoolElement("P", rr(2, home));
  hs.registerPoolElement("P", rr(3, 0x1234));
  assert.equal(hs.ownedCount, 2);
  assert.equal(hs.ownershipChecksum(), hs.ownershipChecksum(home));
});
