/** Helpers for hex test vectors and the RSPLIB golden file. */

/** One line of a golden file: name, SCTP PPID, message bytes in hex. */
export interface GoldenMessage {
  name: string;
  ppid: number;
  hex: string;
}

/** Parses hex into bytes. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Formats bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads a golden file (default: RSPLIB 3.4.4's encoder output). */
export async function readGolden(
  file = new URL("./data/rsplib-3.4.4-messages.txt", import.meta.url),
): Promise<GoldenMessage[]> {
  const text = await Deno.readTextFile(file);
  return text.split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => {
      const [name, ppid, hex] = line.trim().split(/\s+/);
      return { name, ppid: Number(ppid), hex: hex.toLowerCase() };
    });
}
