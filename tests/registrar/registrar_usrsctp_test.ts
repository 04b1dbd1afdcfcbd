/**
 * The registrar suite over real SCTP: usrsctp (raw IP when privileged, else UDP encapsulation),
 * registrar and ASAP test clients in this process on loopback.
 */
import { AddressScope } from "../../src/net/ip_address.ts";
import { canUseRawSockets, usrsctpTransport } from "../../src/transport/usrsctp/mod.ts";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";
import { runRegistrarSuite } from "./_suite.ts";

// Load the libraries for the whole file (the resource sanitizer would blame the first test).
libc();
loadUsrsctp();

const transport = usrsctpTransport({ mode: canUseRawSockets() ? "raw" : "udp" });

runRegistrarSuite({
  name: `usrsctp ${transport.mode}`,
  basePort: 23000,
  environment: () =>
    Promise.resolve({
      registrarTransport: transport,
      clientTransport: transport,
      registrarAddress: "127.0.0.1",
      clientAddress: "127.0.0.1",
      minAddressScope: AddressScope.Loopback,
    }),
});
