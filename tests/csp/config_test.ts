import assert from "node:assert/strict";
import { CSP_OPTIONS, OptionError, parseOptions } from "../../src/common/mod.ts";
import { componentLocation, cspReporterConfigFrom } from "../../src/csp/mod.ts";

const noEnv = new Map<string, string>();

function parse(args: string[]) {
  return parseOptions(args, CSP_OPTIONS, { program: "t" }).options;
}

Deno.test("cspReporterConfigFrom() needs both server and interval for PEs and PUs", () => {
  assert.equal(cspReporterConfigFrom(parse([]), noEnv), undefined);
  assert.equal(cspReporterConfigFrom(parse(["-cspserver=127.0.0.1:2960"]), noEnv), undefined);
  assert.equal(cspReporterConfigFrom(parse(["-cspinterval=300"]), noEnv), undefined);
  assert.deepEqual(
    cspReporterConfigFrom(parse(["-cspserver=127.0.0.1:2961", "-cspinterval=300"]), noEnv),
    { server: { hostname: "127.0.0.1", port: 2961 }, interval: 300 },
  );
  assert.equal(
    cspReporterConfigFrom(parse(["-cspserver=127.0.0.1", "-cspinterval=0"]), noEnv),
    undefined,
    "interval 0 turns reporting off",
  );
});

Deno.test("cspReporterConfigFrom() uses port 2960 when none or 0 is given", () => {
  for (const server of ["127.0.0.1", "127.0.0.1:0", "[::1]", "[::1]:0", "10.0.0.1!0"]) {
    const config = cspReporterConfigFrom(parse([`-cspserver=${server}`, "-cspinterval=1"]), noEnv);
    assert.equal(config?.server.port, 2960, server);
  }
});

Deno.test("cspReporterConfigFrom() parses addresses like RSPLIB's string2address()", () => {
  const cases: [string, string, number][] = [
    ["[2001:db8::1]:2961", "2001:db8::1", 2961],
    ["10.0.0.1!2962", "10.0.0.1", 2962],
    ["[::ffff:10.0.0.1]:2963", "10.0.0.1", 2963],
    ["monitor.example:2964", "monitor.example", 2964],
    ["2001:db8::1:2965", "2001:db8::1", 2965], // the last colon separates the port
  ];
  for (const [text, hostname, port] of cases) {
    const config = cspReporterConfigFrom(parse([`-cspserver=${text}`, "-cspinterval=1"]), noEnv);
    assert.deepEqual(config?.server, { hostname, port }, text);
  }
});

Deno.test("cspReporterConfigFrom() throws OptionError naming the option or variable", () => {
  for (const bad of ["1.2.3.999:1", "[::1:1", "host:65536", "host:x", "a b:1", ""]) {
    assert.throws(
      () => cspReporterConfigFrom(parse([`-cspserver=${bad}`, "-cspinterval=1"]), noEnv),
      (e: unknown) => e instanceof OptionError && e.message.includes("-cspserver"),
      bad,
    );
  }
  assert.throws(
    () => cspReporterConfigFrom({}, new Map([["CSP_SERVER", "nope:nope"]])),
    (e: unknown) => e instanceof OptionError && e.message.includes("CSP_SERVER"),
  );
  assert.throws(
    () => cspReporterConfigFrom({}, new Map([["CSP_INTERVAL", "soon"]])),
    (e: unknown) => e instanceof OptionError && e.message.includes("CSP_INTERVAL"),
  );
  for (const bad of ["x", "0x", "-1", "0x100000000", "4294967296"]) {
    assert.throws(
      () => cspReporterConfigFrom({ cspidentifier: bad }, noEnv),
      (e: unknown) => e instanceof OptionError && e.message.includes("-cspidentifier"),
      bad,
    );
  }
});

Deno.test("cspReporterConfigFrom() takes CSP_SERVER and CSP_INTERVAL with a 250 ms minimum", () => {
  const env = new Map([["CSP_SERVER", "127.0.0.1:2970"], ["CSP_INTERVAL", "100"]]);
  assert.deepEqual(cspReporterConfigFrom({}, env), {
    server: { hostname: "127.0.0.1", port: 2970 },
    interval: 250,
  });
  assert.equal(cspReporterConfigFrom({}, new Map([["CSP_INTERVAL", "0"]]))?.interval, undefined);
  assert.equal(
    cspReporterConfigFrom(
      {},
      new Map([["CSP_SERVER", "127.0.0.1"], [
        "CSP_INTERVAL",
        "1000",
      ]]),
    )?.interval,
    1000,
  );
});

Deno.test("cspReporterConfigFrom() lets options override the environment", () => {
  const env = new Map([["CSP_SERVER", "127.0.0.1:2970"], ["CSP_INTERVAL", "1000"]]);
  assert.deepEqual(
    cspReporterConfigFrom(parse(["-cspserver=10.0.0.1:2971", "-cspinterval=50"]), env),
    { server: { hostname: "10.0.0.1", port: 2971 }, interval: 50 },
  );
  assert.equal(cspReporterConfigFrom(parse(["-cspinterval=0"]), env), undefined);
});

Deno.test("cspReporterConfigFrom() forces the group of -cspidentifier to pool element", () => {
  const args = ["-cspserver=127.0.0.1", "-cspinterval=300"];
  assert.equal(
    cspReporterConfigFrom(parse([...args, "-cspidentifier=0x1234abcd"]), noEnv)?.identifier,
    0x020000001234abcdn,
  );
  assert.equal(
    cspReporterConfigFrom(parse([...args, "-cspidentifier=4660"]), noEnv)?.identifier,
    0x0200000000001234n,
  );
  assert.equal(cspReporterConfigFrom(parse(args), noEnv)?.identifier, undefined);
});

Deno.test("cspReporterConfigFrom() applies rspregistrar's rules with registrar: true", () => {
  const registrar = { registrar: true };
  assert.equal(cspReporterConfigFrom({}, noEnv, registrar), undefined);
  assert.deepEqual(cspReporterConfigFrom(parse(["-cspinterval=500"]), noEnv, registrar), {
    server: { hostname: "127.0.0.1", port: 2960 },
    interval: 500,
  });
  assert.deepEqual(cspReporterConfigFrom(parse(["-cspserver=10.0.0.1"]), noEnv, registrar), {
    server: { hostname: "10.0.0.1", port: 2960 },
    interval: 250,
  });
  assert.equal(
    cspReporterConfigFrom(parse(["-cspserver=10.0.0.1", "-cspinterval=0"]), noEnv, registrar),
    undefined,
  );
  const env = new Map([["CSP_INTERVAL", "800"]]);
  assert.equal(
    cspReporterConfigFrom(parse(["-cspserver=10.0.0.1"]), env, registrar)?.interval,
    800,
  );
});

Deno.test("cspReporterConfigFrom() treats an unreadable environment as empty", () => {
  const env = {
    get(): string | undefined {
      throw new Deno.errors.NotCapable("no --allow-env");
    },
  };
  assert.equal(cspReporterConfigFrom({}, env), undefined);
});

Deno.test("componentLocation() prefers global addresses, puts the port on the first one", () => {
  assert.equal(
    componentLocation({
      hostname: "node1",
      addresses: ["127.0.0.1", "10.0.0.1", "192.0.2.1", "fe80::1", "2001:db8::1"],
      port: 3863,
    }),
    "node1: 192.0.2.1:3863, 2001:db8::1",
  );
  assert.equal(
    componentLocation({ hostname: "node1", addresses: ["2001:db8::1", "10.0.0.1"], port: 1 }),
    "node1: [2001:db8::1]:1",
  );
});

Deno.test("componentLocation() falls back to site-local addresses, then to the host name", () => {
  assert.equal(
    componentLocation({ hostname: "n", addresses: ["127.0.0.1", "10.0.0.1", "::ffff:172.16.0.9"] }),
    "n: 10.0.0.1, 172.16.0.9",
  );
  assert.equal(componentLocation({ hostname: "n", addresses: ["127.0.0.1", "169.254.1.1"] }), "n");
  assert.equal(componentLocation({ hostname: "", addresses: ["127.0.0.1"] }), "(local only)");
  assert.equal(componentLocation({ hostname: "", addresses: ["10.0.0.1"] }), "10.0.0.1");
});

Deno.test("componentLocation() uses the host's interfaces for a wildcard address", () => {
  const location = componentLocation({ hostname: "h", addresses: ["0.0.0.0"], port: 3863 });
  assert.ok(location.startsWith("h"), location);
  assert.ok(!location.includes(":3863"), "no port on interface addresses");
  assert.ok(!location.includes("127.0.0.1"), "no loopback");
  assert.equal(componentLocation().length > 0, true);
});

Deno.test("componentLocation() keeps at most 127 bytes", () => {
  const addresses = Array.from({ length: 40 }, (_, i) => `192.0.2.${i + 1}`);
  const location = componentLocation({ hostname: "h", addresses });
  assert.equal(new TextEncoder().encode(location).length <= 127, true);
  assert.ok(location.startsWith("h: 192.0.2.1, 192.0.2.2"));
});
