/** `deno task build` (scripts/build.sh) makes a working single-file program. */
import assert from "node:assert/strict";

Deno.test("scripts/build.sh --offline makes a single executable that runs the program", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const build = await new Deno.Command("scripts/build.sh", {
      args: ["--offline", "--out", dir, "cspmonitor"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(build.success, new TextDecoder().decode(build.stderr));
    const run = await new Deno.Command(`${dir}/cspmonitor`, {
      args: ["--help"],
      env: { HOME: dir, XDG_CACHE_HOME: `${dir}/cache` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, 0);
    assert.match(new TextDecoder().decode(run.stdout), /-localaddress=/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
