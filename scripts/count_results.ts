/**
 * Counts test results from the JUnit files that `deno test --junit-path` wrote into a folder,
 * prints one plain line `N passed, N failed` and writes the counts to `counts.json`.
 *
 * Usage: `deno run -A scripts/count_results.ts tests/tmp/results`
 *
 * @module
 */

/** Passed and failed test cases of one or more JUnit reports. */
export interface Counts {
  /** Test cases that passed. */
  passed: number;
  /** Test cases that failed or errored. */
  failed: number;
}

/**
 * Counts the `<testcase>` elements of a JUnit report and those with a failure or error.
 *
 * @param xml The report.
 * @returns The counts.
 */
export function countJUnit(xml: string): Counts {
  let passed = 0, failed = 0;
  const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
  for (const c of cases) {
    if (/<(failure|error)\b/.test(c)) failed++;
    else if (!/<skipped\b/.test(c)) passed++;
  }
  return { passed, failed };
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? "tests/tmp/results";
  const total: Counts = { passed: 0, failed: 0 };
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".xml")) continue;
    const c = countJUnit(Deno.readTextFileSync(`${dir}/${entry.name}`));
    total.passed += c.passed;
    total.failed += c.failed;
  }
  Deno.writeTextFileSync(`${dir}/counts.json`, JSON.stringify(total) + "\n");
  console.log(`${total.passed} passed, ${total.failed} failed`);
  if (total.failed > 0) Deno.exit(1);
}
