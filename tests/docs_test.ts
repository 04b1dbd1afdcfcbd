/**
 * The documentation rule: every public symbol of mod.ts has JSDoc with an `@example` holding a
 * TypeScript code block. (scripts/test.sh type-checks and runs those examples with
 * `deno test --doc`.)
 */
import assert from "node:assert/strict";

interface DocTag {
  kind: string;
  doc?: string;
}

interface DocDeclaration {
  kind: string;
  location?: { filename: string; line: number };
  jsDoc?: { doc?: string; tags?: DocTag[] };
}

interface DocSymbol {
  name: string;
  declarations: DocDeclaration[];
}

interface DocJson {
  nodes: Record<string, { symbols?: DocSymbol[] }>;
}

const root = new URL("../", import.meta.url);
const modUrl = new URL("mod.ts", root).href;

async function modSymbols(): Promise<DocSymbol[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "mod.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const json = JSON.parse(new TextDecoder().decode(output.stdout)) as DocJson;
  const node = json.nodes[modUrl];
  assert.ok(node?.symbols, `deno doc --json has no symbols for ${modUrl}`);
  return node.symbols;
}

function hasExample(symbol: DocSymbol): boolean {
  return symbol.declarations.some((d) =>
    d.jsDoc?.tags?.some((t) => t.kind === "example" && /```(ts|typescript)\b/.test(t.doc ?? ""))
  );
}

function where(symbol: DocSymbol): string {
  const location = symbol.declarations.find((d) => d.location)?.location;
  if (location === undefined) return symbol.name;
  const file = location.filename.startsWith(root.href)
    ? location.filename.slice(root.href.length)
    : location.filename;
  return `${symbol.name} (${file}:${location.line})`;
}

Deno.test("every exported symbol of mod.ts has an @example with a ts code block", async () => {
  const symbols = await modSymbols();
  assert.ok(symbols.length > 100, `only ${symbols.length} symbols found in mod.ts`);
  const missing = symbols.filter((s) => !hasExample(s)).map(where).sort();
  assert.deepEqual(
    missing,
    [],
    `${missing.length} of ${symbols.length} exported symbols have no @example:\n  ` +
      missing.join("\n  "),
  );
});
