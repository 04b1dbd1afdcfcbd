/** The registrar suite on the in-memory transport (protocol logic only; real SCTP in the other files). */
import { AddressScope } from "../../src/net/ip_address.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import { runRegistrarSuite } from "./_suite.ts";

runRegistrarSuite({
  name: "in-memory transport",
  basePort: 3863,
  environment: () => {
    const net = new MemoryNetwork();
    return Promise.resolve({
      registrarTransport: net.host(["10.0.0.1"]),
      clientTransport: net.host(["10.0.0.2"]),
      registrarAddress: "10.0.0.1",
      clientAddress: "10.0.0.2",
      minAddressScope: AddressScope.SiteLocal,
    });
  },
});
