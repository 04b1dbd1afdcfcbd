/**
 * `rspregistrar`: the RSerPool registrar, with RSPLIB's options (`--help` lists them).
 *
 * ```sh
 * deno run -A cli/rspregistrar.ts -loglevel=3 -asap=10.0.0.1:3863
 * ```
 *
 * @module
 */
import { main } from "../src/registrar/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
