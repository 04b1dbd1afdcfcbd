/**
 * Interoperability of our `rspserver` and `rspterminal` with RSPLIB 3.4.4, inside the
 * user-mode-linux guest (kernel SCTP): every pairing of the issue, each with a failover when
 * the serving pool element is killed (SIGKILL).
 *
 *   scripts/uml/run.sh -- .tools/bin/deno test -A tests/guest/pool/
 */
import assert from "node:assert/strict";
import { Program } from "../../pool/_process.ts";

const IN_GUEST = Deno.env.get("RSERPOOL_UML_GUEST") === "1";
const RSPLIB = ["/usr/bin/rspregistrar", "/usr/bin/rspserver", "/usr/bin/rspterminal"];
const HAVE_RSPLIB = RSPLIB.every((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
const skip = !IN_GUEST
  ? "not inside the user-mode-linux guest (run it with scripts/uml/run.sh)"
  : !HAVE_RSPLIB
  ? "RSPLIB programs missing (apt-get install rsplib-registrar rsplib-tools)"
  : undefined;
if (skip) console.warn(`tests/guest/pool/interop_test.ts: SKIPPED: ${skip}`);

/** The guest's first IPv4 address (site-local: RSPLIB accepts pool elements on it). */
function guestAddress(): string {
  const listed = (Deno.env.get("RSERPOOL_UML_GUEST_ADDRESSES") ?? "10.9.0.2").split(/\s+/);
  return listed.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)) ?? "10.9.0.2";
}

type Side = "rsplib" | "ours";

interface Pairing {
  registrar: Side;
  server: Side;
  terminal: Side;
}

let nextPort = 3863;

/** RSPLIB's programs block-buffer a piped stdout: make it line-buffered. */
function rsplib(program: string, args: string[], stdin = false): Program {
  return new Program("/usr/bin/stdbuf", ["-oL", "-eL", `/usr/bin/${program}`, ...args], {}, stdin);
}

function startRegistrar(side: Side, address: string, port: number): Program {
  const common = [`-asap=${address}:${port}`, "-asapannounce=off", "-enrpannounce=off"];
  return side === "rsplib"
    ? rsplib("rspregistrar", [
      ...common,
      `-enrp=${address}:${port + 1000}`,
      "-loglevel=3",
      "-logcolor=off",
    ])
    : new Program("rspregistrar", [...common, "-loglevel=3", "-logcolor=off"]);
}

function startServer(side: Side, client: string[], id: string): Program {
  const args = ["-echo", ...client, `-identifier=0x${id}`];
  return side === "rsplib" ? rsplib("rspserver", args) : new Program("rspserver", args);
}

function startTerminal(side: Side, client: string[]): Program {
  return side === "rsplib"
    ? rsplib("rspterminal", client, true)
    : new Program("rspterminal", client, {}, true);
}

/** Types numbered lines every `every` ms until one is echoed by a PE other than `not`. */
async function echoFrom(
  terminal: Program,
  label: string,
  not?: string,
  timeout = 30000,
  every = 250,
): Promise<{ pe: string; at: number }> {
  const end = performance.now() + timeout;
  const pattern = new RegExp(`from PE \\$([0-9a-f]{8})> [^\\n]*\\b${label} \\d+\\b`, "g");
  for (let n = 1; performance.now() < end; n++) {
    await terminal.write(`${label} ${n}\n`);
    const stopAt = performance.now() + every;
    while (performance.now() < stopAt) {
      for (const m of terminal.stdout.matchAll(pattern)) {
        if (m[1] !== not) return { pe: m[1], at: performance.now() };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  throw new Error(`no echo of "${label}" from a PE other than ${not}:\n${terminal.stdout}`);
}

async function run(p: Pairing): Promise<number> {
  const address = guestAddress();
  const port = nextPort;
  nextPort += 10;
  const client = [`-registrar=${address}:${port}`, "-asapannounce=off"];
  await using _registrar = startRegistrar(p.registrar, address, port);
  await new Promise((r) => setTimeout(r, 1500));
  const ids = ["0000e001", "0000e002", "0000e003"];
  const servers = new Map(ids.map((id) => [id, startServer(p.server, client, id)]));
  try {
    for (const s of servers.values()) {
      await s.waitFor(/Identifier {14}= \$[0-9a-f]{8}/, 60000);
    }
    await using terminal = startTerminal(p.terminal, client);
    await terminal.waitFor(/Pool Handle = EchoPool/, 60000);
    const first = await echoFrom(terminal, "hello", undefined, 60000);
    assert.ok(servers.has(first.pe), `served by ${first.pe}`);
    const killedAt = performance.now();
    servers.get(first.pe)!.kill("SIGKILL");
    const second = await echoFrom(terminal, "after", first.pe, 60000, 50);
    assert.notEqual(second.pe, first.pe);
    assert.ok(servers.has(second.pe));
    assert.match(terminal.stdout, /FAILOVER #1 \.\.\./);
    assert.match(
      terminal.stdout,
      /Notification: RSERPOOL_FAILOVER for session 1, state=RSERPOOL_FAILOVER_NECESSARY/,
    );
    const took = second.at - killedAt;
    console.log(
      `${p.registrar} registrar + ${p.server} rspserver + ${p.terminal} rspterminal: ` +
        `failover from $${first.pe} to $${second.pe} in ${took.toFixed(0)} ms`,
    );
    return took;
  } finally {
    for (const s of servers.values()) await s.stop();
  }
}

Deno.test({
  name: "our rspserver and rspterminal fail over with RSPLIB's rspregistrar",
  ignore: skip !== undefined,
  fn: async () => {
    await run({ registrar: "rsplib", server: "ours", terminal: "ours" });
  },
});

Deno.test({
  name: "RSPLIB's rspterminal fails over between our rspservers at RSPLIB's rspregistrar",
  ignore: skip !== undefined,
  fn: async () => {
    await run({ registrar: "rsplib", server: "ours", terminal: "rsplib" });
  },
});

Deno.test({
  name: "our rspterminal fails over between RSPLIB's rspservers at our rspregistrar",
  ignore: skip !== undefined,
  fn: async () => {
    await run({ registrar: "ours", server: "rsplib", terminal: "ours" });
  },
});
