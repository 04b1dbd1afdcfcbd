/**
 * Runs inside the user-mode-linux guest (kernel SCTP): our `rspregistrar` with RSPLIB 3.4.4's
 * `rspserver -echo` (two pool elements) and `rspterminal`. Lines typed into the terminal come
 * back; killing the serving PE makes the terminal continue on the other one. Once with static
 * `-registrar=` entries, once with discovery by ASAP Server Announces only.
 */
import assert from "node:assert/strict";
import { Program } from "../../_process.ts";

const CLI = new URL("../../../cli/rspregistrar.ts", import.meta.url).pathname;
const inGuest = Deno.env.get("RSERPOOL_UML_GUEST") === "1";
const GUEST = "10.9.0.2";

/** Types lines into the terminal until one comes back from a PE other than `not`. */
async function echoFrom(
  terminal: Program,
  label: string,
  not?: string,
  timeout = 30000,
): Promise<string> {
  const end = performance.now() + timeout;
  for (let n = 1; performance.now() < end; n++) {
    const line = `${label} ${n}`;
    await terminal.write(line + "\n");
    try {
      const m = await terminal.waitFor(
        new RegExp(`from PE \\$([0-9a-f]{8})> ${line}\\b`),
        1500,
      );
      if (m[1] !== not) return m[1];
    } catch {
      // no reply yet (failover in progress): type the next line
    }
  }
  throw new Error(`no echo for "${label}" from a PE other than ${not}:\n${terminal.output}`);
}

async function scenario(registrarArgs: string[], clientArgs: string[]): Promise<void> {
  await using registrar = new Program(Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    CLI,
    "-loglevel=4",
    "-logcolor=off",
    "-mentordiscoverytimeout=1000",
    ...registrarArgs,
  ]);
  await registrar.waitFor(/Initialization phase ended/, 60000);
  const pes = new Map<string, Program>();
  try {
    for (const id of ["00001111", "00002222"]) {
      pes.set(id, new Program("rspserver", ["-echo", `-identifier=0x${id}`, ...clientArgs]));
    }
    for (const id of pes.keys()) {
      await registrar.waitFor(new RegExp(`Registered PE \\$${id}`), 60000);
    }
    await using terminal = new Program("rspterminal", clientArgs, { input: true });
    const first = await echoFrom(terminal, "hello", undefined, 60000);
    assert.ok(pes.has(first), `served by ${first}`);
    // Kill the serving PE: the terminal fails over to the other one.
    pes.get(first)!.kill("SIGKILL");
    await pes.get(first)!.status();
    const second = await echoFrom(terminal, "after-kill", first, 60000);
    assert.notEqual(second, first);
    assert.ok(pes.has(second));
    assert.match(terminal.output, /FAILOVER/);
  } finally {
    for (const pe of pes.values()) await pe.stop();
  }
}

Deno.test({
  name: "RSPLIB rspserver and rspterminal work with our rspregistrar (static registrar)",
  ignore: !inGuest,
  fn: () =>
    scenario(
      [`-asap=${GUEST}:3863`, "-asapannounce=off"],
      [`-registrar=${GUEST}:3863`, "-asapannounce=off"],
    ),
});

Deno.test({
  name: "RSPLIB rspserver and rspterminal find our rspregistrar by multicast announces only",
  ignore: !inGuest,
  fn: () => scenario([], []),
});
