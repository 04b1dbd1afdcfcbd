/**
 * Conformance suite against usrsctp over raw IP (needs root or CAP_NET_RAW; skipped without):
 * several raw stacks share this host, so usrsctp runs with blackhole=2 and every case uses its
 * own ports.
 */
import { canUseRawSockets, usrsctpTransport } from "../../src/transport/usrsctp/mod.ts";
import { runTransportConformance, skipAll } from "./_conformance.ts";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";

// Load the libraries for the whole file (the resource sanitizer would blame the first test).
libc();
loadUsrsctp();

const privileged = canUseRawSockets();

runTransportConformance({
  name: "usrsctp-raw",
  transport: () => usrsctpTransport({ mode: "raw" }),
  backend: "usrsctp-raw",
  hosts: true,
  basePort: 22000,
  skip: privileged ? {} : skipAll("raw IP needs root or CAP_NET_RAW"),
});
