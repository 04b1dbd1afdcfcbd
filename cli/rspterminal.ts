/**
 * `rspterminal`: sends standard input to a session with a pool (default EchoPool) and prints
 * each reply as `from PE $xxxxxxxx> text`, like RSPLIB's rspterminal (`--help` lists the
 * options).
 *
 * ```sh
 * deno run -A cli/rspterminal.ts -poolhandle=EchoPool -registrar=10.0.0.1:3863
 * ```
 *
 * @module
 */
import { main } from "../src/pool/rspterminal_main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
