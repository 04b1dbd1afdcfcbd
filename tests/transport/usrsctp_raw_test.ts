/**
 * Conformance suite against usrsctp over raw IP (needs root or CAP_NET_RAW; skipped without):
 * several raw stacks share this host, so usrsctp runs with blackhole=2 and every case uses its
 * own ports.
 */
import { canUseRawSockets, usrsctpTransport } from "../../src/transport/usrsctp/mod.ts";
import { runTransportConformance } from "./_conformance.ts";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";

// Load the libraries for the whole file (the resource sanitizer would blame the first test).
libc();
loadUsrsctp();

const privileged = canUseRawSockets();
const reason = "raw IP needs root or CAP_NET_RAW";

runTransportConformance({
  name: "usrsctp-raw",
  transport: () => usrsctpTransport({ mode: "raw" }),
  backend: "usrsctp-raw",
  hosts: true,
  basePort: 22000,
  skip: privileged ? {} : Object.fromEntries(
    [
      "echo",
      "concurrent",
      "multihoming",
      "peer-killed",
      "peer-restarted",
      "restart-event",
      "shutdown",
      "abort",
      "sendTo",
      "status",
      "connect-fails",
      "one-to-one",
      "autoclose",
      "queueing",
      "large-message",
      "bindx",
    ].map((c) => [c, reason]),
  ),
});
