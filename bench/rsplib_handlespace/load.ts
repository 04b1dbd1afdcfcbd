/**
 * Loads RSPLIB's C handlespace (Debian `librsplib3`: `librsphsmgt.so.3`, RSPLIB 3.4.4) through
 * our own small C shim (`rsphs_shim.c`, compiled here with gcc on first use) for the
 * side-by-side benchmark and the differential tests.
 *
 * Environment: `RSPHS_LIBRARY` overrides the library to link (default `librsphsmgt.so.3`),
 * `RSPHS_CC` the compiler (default `gcc`).
 *
 * @module
 */

const SYMBOLS = {
  /** rsphs_hs* rsphs_new(uint32_t home) */
  rsphs_new: { parameters: ["u32"], result: "pointer" },
  /** void rsphs_free(rsphs_hs*) */
  rsphs_free: { parameters: ["pointer"], result: "void" },
  /** unsigned rsphs_register(hs, ph, phSize, id, home, settings[7], protocol, port, cc, conn, now) */
  rsphs_register: {
    parameters: [
      "pointer",
      "buffer",
      "usize",
      "u32",
      "u32",
      "buffer",
      "i32",
      "u32",
      "u32",
      "i32",
      "u64",
    ],
    result: "u32",
  },
  /** unsigned rsphs_deregister(hs, ph, phSize, id) */
  rsphs_deregister: { parameters: ["pointer", "buffer", "usize", "u32"], result: "u32" },
  /** long rsphs_resolve(hs, ph, phSize, maxItems, maxIncrement, uint32_t* out) */
  rsphs_resolve: {
    parameters: ["pointer", "buffer", "usize", "usize", "usize", "buffer"],
    result: "i64",
  },
  /** int rsphs_state(hs, ph, phSize, id, uint32_t out[6]) */
  rsphs_state: { parameters: ["pointer", "buffer", "usize", "u32", "buffer"], result: "i32" },
  /** uint32_t rsphs_handlespace_checksum(hs) */
  rsphs_handlespace_checksum: { parameters: ["pointer"], result: "u32" },
  /** uint32_t rsphs_ownership_checksum(hs) */
  rsphs_ownership_checksum: { parameters: ["pointer"], result: "u32" },
  /** size_t rsphs_pool_elements(hs) */
  rsphs_pool_elements: { parameters: ["pointer"], result: "usize" },
  /** size_t rsphs_pools(hs) */
  rsphs_pools: { parameters: ["pointer"], result: "usize" },
  /** int rsphs_self_check(void) */
  rsphs_self_check: { parameters: [], result: "i32" },
  /**
   * unsigned rsphs_batch_register(hs[H], H, handles[33P], P, ids[PM], M, home, settings[7],
   * values[PM]|NULL, field, now)
   */
  rsphs_batch_register: {
    parameters: [
      "buffer",
      "usize",
      "buffer",
      "usize",
      "buffer",
      "usize",
      "u32",
      "buffer",
      "buffer",
      "usize",
      "u64",
    ],
    result: "u32",
  },
  /** unsigned rsphs_batch_deregister(hs[H], H, handles[33P], P, ids[PM], M) */
  rsphs_batch_deregister: {
    parameters: ["buffer", "usize", "buffer", "usize", "buffer", "usize"],
    result: "u32",
  },
  /** size_t rsphs_batch_resolve(hs[H], H, handles[33P], P, n, maxItems, maxIncrement) */
  rsphs_batch_resolve: {
    parameters: ["buffer", "usize", "buffer", "usize", "usize", "usize", "usize"],
    result: "usize",
  },
  /** size_t rsphs_heap_in_use(void) */
  rsphs_heap_in_use: { parameters: [], result: "usize" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The shim's symbols, bound. */
export type RsplibHandlespaceSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** IPPROTO numbers the shim takes for a user transport. */
export const IPPROTO = { sctp: 132, tcp: 6, udp: 17 } as const;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, 16);
}

let cached: Promise<RsplibHandlespaceSymbols | string> | undefined;

async function build(): Promise<RsplibHandlespaceSymbols | string> {
  const source = new URL("./rsphs_shim.c", import.meta.url);
  const library = env("RSPHS_LIBRARY") ?? "librsphsmgt.so.3";
  const cc = env("RSPHS_CC") ?? "gcc";
  let text: string;
  try {
    text = await Deno.readTextFile(source);
  } catch (e) {
    return `cannot read ${source.pathname}: ${e}`;
  }
  const dir = new URL("../../tests/tmp/rsphs/", import.meta.url);
  await Deno.mkdir(dir, { recursive: true });
  const out = new URL(`rsphs_shim_${await sha256Hex(text + library)}.so`, dir).pathname;
  try {
    await Deno.stat(out);
  } catch {
    const linkArg = library.includes("/") ? library : `-l:${library}`;
    const tmp = `${out}.${Deno.pid}.tmp`;
    let result: Deno.CommandOutput;
    try {
      result = await new Deno.Command(cc, {
        args: ["-O2", "-shared", "-fPIC", "-o", tmp, source.pathname, linkArg],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (e) {
      return `cannot run ${cc}: ${e}`;
    }
    if (!result.success) {
      return `cannot build the RSPLIB shim: ${new TextDecoder().decode(result.stderr).trim()}`;
    }
    await Deno.rename(tmp, out);
  }
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(out, SYMBOLS);
  } catch (e) {
    return `cannot load ${out}: ${e}`;
  }
  if (lib.symbols.rsphs_self_check() !== 1) {
    lib.close();
    return "the RSPLIB shim's layout check failed (not RSPLIB 3.4.4 on x86-64?)";
  }
  return lib.symbols;
}

/**
 * Builds (once, cached under tests/tmp/rsphs/) and loads the shim.
 *
 * @returns The bound symbols, or a string saying why RSPLIB's handlespace is not available.
 */
export function loadRsplibHandlespace(): Promise<RsplibHandlespaceSymbols | string> {
  cached ??= build();
  return cached;
}
