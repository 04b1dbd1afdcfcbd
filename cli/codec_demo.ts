/**
 * Demonstration of the wire codec: RSPLIB 3.4.4's own messages are decoded, printed and
 * re-encoded byte for byte.
 *
 * ```sh
 * deno run -A cli/codec_demo.ts
 * ```
 *
 * @module
 */
import { decodeMessage, encodeMessage, formatPoolHandle, type RSerPoolMessage } from "../mod.ts";

const golden = new URL("../tests/codec/data/rsplib-3.4.4-messages.txt", import.meta.url);

function show(m: RSerPoolMessage): string {
  return JSON.stringify(
    m,
    (key, value) =>
      value instanceof Uint8Array
        ? (key === "poolHandle" ? formatPoolHandle(value) : `<${value.length} bytes>`)
        : value,
  );
}

let same = 0, total = 0;
for (const line of (await Deno.readTextFile(golden)).split("\n")) {
  if (line.trim() === "" || line.startsWith("#")) continue;
  const [name, ppid, hex] = line.split(/\s+/);
  const bytes = Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));
  const message = decodeMessage(Number(ppid), bytes);
  const again = encodeMessage(message);
  const identical = again.length === bytes.length && again.every((b, i) => b === bytes[i]);
  total++;
  if (identical) same++;
  console.log(`${identical ? "=" : "!"} ${name.padEnd(30)} ${show(message).slice(0, 150)}`);
}
console.log(`\n${same} of ${total} RSPLIB messages decoded and re-encoded byte for byte.`);
if (same !== total) Deno.exit(1);
