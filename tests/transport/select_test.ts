/**
 * Backend selection: choice, environment, kernel probe, fallbacks, one clear error.
 */
import assert from "node:assert/strict";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";
import {
  kernelSctpUnavailable,
  openSctpTransport,
  type OpenSctpTransportOptions,
} from "../../src/transport/select.ts";
import { SctpError, type SctpTransport } from "../../src/transport/types.ts";

libc();
loadUsrsctp();

const fakeKernel: SctpTransport = {
  name: "kernel",
  description: "kernel SCTP (fake)",
  open: () => Promise.reject(new Error("not used")),
};
const noKernel: OpenSctpTransportOptions = { probeKernel: () => "no SCTP here" };
const withKernel: OpenSctpTransportOptions = {
  probeKernel: () => undefined,
  kernel: () => fakeKernel,
};

function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  Deno.env.set(name, value);
  return fn().finally(() => Deno.env.delete(name));
}

Deno.test("openSctpTransport() picks the kernel backend when the kernel has SCTP", async () => {
  const t = await openSctpTransport(undefined, withKernel);
  assert.equal(t.name, "kernel");
  assert.equal(t.description, "kernel SCTP (fake); auto: kernel SCTP available");
});

Deno.test("openSctpTransport() falls back to usrsctp without kernel SCTP", async () => {
  const t = await openSctpTransport("auto", noKernel);
  assert.equal(t.name, "usrsctp");
  assert.equal(t.mode, Deno.uid() === 0 ? "raw" : "udp");
  assert.match(
    t.description,
    /^usrsctp \((raw IP|UDP encapsulation.*)\); auto: no kernel SCTP \(no SCTP here\); /,
  );
});

Deno.test("openSctpTransport() falls back to usrsctp when the kernel backend fails", async () => {
  const t = await openSctpTransport("auto", {
    probeKernel: () => undefined,
    kernel: () => {
      throw new Error("broken");
    },
  });
  assert.equal(t.name, "usrsctp");
  assert.match(t.description, /auto: kernel backend failed \(broken\)/);
});

Deno.test("openSctpTransport() honours an explicit choice", async () => {
  const udp = await openSctpTransport("usrsctp-udp", withKernel);
  assert.equal(udp.name, "usrsctp");
  assert.equal(udp.mode, "udp");
  assert.match(udp.description, /; requested: usrsctp-udp$/);
  if (Deno.uid() === 0) {
    assert.equal((await openSctpTransport("usrsctp-raw", withKernel)).mode, "raw");
  }
  assert.equal((await openSctpTransport("kernel", withKernel)).name, "kernel");
});

Deno.test("openSctpTransport() reads RSERPOOL_SCTP when no choice is given", async () => {
  const t = await withEnv(
    "RSERPOOL_SCTP",
    "usrsctp-udp",
    () => openSctpTransport(undefined, withKernel),
  );
  assert.equal(t.mode, "udp");
  assert.match(t.description, /RSERPOOL_SCTP: usrsctp-udp/);
  // An explicit choice wins over the environment.
  const k = await withEnv(
    "RSERPOOL_SCTP",
    "usrsctp-udp",
    () => openSctpTransport("kernel", withKernel),
  );
  assert.equal(k.name, "kernel");
  await withEnv("RSERPOOL_SCTP", "tcp", () =>
    assert.rejects(
      openSctpTransport(undefined, withKernel),
      (e: unknown) =>
        e instanceof SctpError && e.code === "invalid-argument" && /RSERPOOL_SCTP/.test(e.message),
    ));
});

Deno.test("openSctpTransport('kernel') explains a missing kernel SCTP", async () => {
  await assert.rejects(
    openSctpTransport("kernel", noKernel),
    (e: unknown) =>
      e instanceof SctpError && e.code === "unsupported" &&
      /Cannot use kernel SCTP: no SCTP here; load the kernel module/.test(e.message),
  );
});

Deno.test("kernelSctpUnavailable() probes a one-to-many SCTP socket", () => {
  const why = kernelSctpUnavailable();
  const hasSctp = Deno.readTextFileSync("/proc/net/protocols").split("\n").some((l) =>
    l.startsWith("SCTP")
  );
  if (hasSctp) assert.equal(why, undefined);
  else {assert.match(
      why ?? "",
      /^socket\(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP\): .* \(errno \d+\)$/,
    );}
});

Deno.test("openSctpTransport() gives one clear error when no backend works", async () => {
  const select = new URL("../../src/transport/select.ts", import.meta.url).href;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { openSctpTransport } from "${select}";
       try { await openSctpTransport(undefined, { probeKernel: () => "socket(): Socket type not supported" }); }
       catch (e) { console.log(e.code + "|" + e.message); }`,
    ],
    env: { RSERPOOL_USRSCTP_PATH: "/nonexistent/libusrsctp.so.2", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const [code, message] = text.split("|");
  assert.equal(code, "unsupported");
  assert.match(
    message,
    /^Cannot use SCTP: auto: no kernel SCTP \(socket\(\): Socket type not supported\)/,
  );
  assert.match(
    message,
    /usrsctp unavailable \(Cannot load usrsctp '\/nonexistent\/libusrsctp\.so\.2'/,
  );
  assert.match(message, /libusrsctp2/);
  assert.match(message, /modprobe sctp/);
  assert.equal(text.split("\n").length, 1, "one line");
});
