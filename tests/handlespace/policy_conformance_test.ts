/**
 * Runs the policy conformance suite against our Handlespace (RFC 5356 and RSPLIB degradation
 * modes) and against RSPLIB 3.4.4's own C handlespace (skipping the documented deviations).
 */
import { Handlespace } from "../../src/handlespace/mod.ts";
import { runPolicyConformance } from "./_policy_conformance.ts";
import { RsplibHandlespace, rsplibSymbols } from "./_rsplib_adapter.ts";

const RFC_ONLY = [
  "handleResolution() adds the load degradation once per LeastUsedDegradation selection (RFC 5356)",
  "registerPoolElement() resets the degradation when it updates a PE (RFC 5356)",
  "handleResolution() degrades only the first maxIncrement PEs (RFC 5356)",
  "handleResolution() accumulates degradation for every degradation policy (RFC 5356)",
];
const RSPLIB_ONLY = [
  "handleResolution() adds the load degradation twice per LeastUsedDegradation selection (RSPLIB)",
  "registerPoolElement() resets the degradation when it updates a PE (RSPLIB)",
  "handleResolution() never degrades the randomized degradation policies (RSPLIB)",
];

runPolicyConformance({
  name: "Handlespace",
  newHandlespace: (options) => new Handlespace(options),
  skip: [{
    reason: 'RSPLIB\'s degradation counting is opt-in (degradation: "rsplib")',
    tests: RSPLIB_ONLY,
  }],
});

runPolicyConformance({
  name: "Handlespace degradation=rsplib",
  newHandlespace: (options) => new Handlespace({ ...options, degradation: "rsplib" }),
  skip: [{ reason: "this mode reproduces RSPLIB's degradation counting", tests: RFC_ONLY }],
});

const symbols = await rsplibSymbols();
runPolicyConformance({
  name: "RSPLIB 3.4.4 C",
  ignore: symbols === undefined ? "librsphsmgt.so.3 or gcc not available" : undefined,
  newHandlespace: (options) => new RsplibHandlespace(symbols!, options.homeRegistrarIdentifier),
  skip: [{
    reason: "RSPLIB adds degradation on linking and twice per selection, never for the " +
      "randomized variants (docs/compatibility.md)",
    tests: RFC_ONLY,
  }],
});
