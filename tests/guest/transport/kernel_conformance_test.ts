/**
 * The backend-neutral conformance suite against kernel SCTP. Runs inside the user-mode-linux
 * guest (`scripts/test.sh`, or `scripts/uml/run.sh -- .tools/bin/deno test -A
 * tests/guest/transport/`); skipped where the kernel has no SCTP. Peers are kernel-SCTP
 * processes; the multi-homing case runs them in network namespaces inside the guest.
 *
 * Not here: "peer-killed", "peer-restarted" and "restart-event" kill a peer process and expect
 * the silence of a dead host, but a killed kernel-SCTP process still ends its associations (the
 * kernel sends SHUTDOWN, or ABORT with unread data). `kernel_loss_test.ts` covers them with a
 * cut link in the guest, `tests/transport_kernel/` with killed usrsctp peers on the host side.
 */
import { libc } from "../../../ffi/libc.ts";
import { libsctp } from "../../../ffi/libsctp.ts";
import { kernelSctpAvailable, kernelTransport } from "../../../src/transport/kernel/mod.ts";
import { runTransportConformance, skipAll } from "../../transport/_conformance.ts";

const available = kernelSctpAvailable();
if (available) {
  // Load the libraries for the whole file (the resource sanitizer would blame the first test).
  libc();
  libsctp();
} else {
  console.warn("kernel_conformance_test.ts: SKIPPED: no kernel SCTP here (run it in the guest)");
}
const killed = "a killed kernel-SCTP peer still shuts down (kernel_loss_test.ts covers it)";

runTransportConformance({
  name: "kernel",
  transport: () => kernelTransport(),
  backend: "kernel",
  hosts: true,
  basePort: 23000,
  skip: available ? {} : skipAll("no kernel SCTP here"),
  notApplicable: { "peer-killed": killed, "peer-restarted": killed, "restart-event": killed },
});
