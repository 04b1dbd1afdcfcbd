/**
 * `rspserver`: an RSerPool pool element with the Echo (default), Discard, Daytime and CharGen
 * services, with RSPLIB's options (`--help` lists them).
 *
 * ```sh
 * deno run -A cli/rspserver.ts -echo -registrar=10.0.0.1:3863
 * ```
 *
 * @module
 */
import { main } from "../src/pool/rspserver_main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
