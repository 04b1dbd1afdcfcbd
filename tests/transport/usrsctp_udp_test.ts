/**
 * Conformance suite against usrsctp with UDP encapsulation (RFC 6951): endpoints in this
 * process, peers in other processes on loopback, multi-homing across namespace hosts.
 */
import { usrsctpTransport } from "../../src/transport/usrsctp/mod.ts";
import { runTransportConformance } from "./_conformance.ts";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";

// Load the libraries for the whole file (the resource sanitizer would blame the first test).
libc();
loadUsrsctp();

runTransportConformance({
  name: "usrsctp-udp",
  transport: () => usrsctpTransport({ mode: "udp" }),
  backend: "usrsctp-udp",
  hosts: true,
  basePort: 21000,
});
