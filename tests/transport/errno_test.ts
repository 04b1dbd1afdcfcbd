/**
 * The one errno table of both backends (`ffi/errno.ts`): names, and the mapping to
 * `SctpError` codes; usrsctp's `lastError()` uses it too.
 */
import assert from "node:assert/strict";
import { libc } from "../../ffi/libc.ts";
import { Errno, errnoCode, errnoError, errnoName } from "../../ffi/errno.ts";

// Load libc for the whole file (the resource sanitizer would blame the first test).
libc();

Deno.test("errnoCode() maps errno values to SctpError codes", () => {
  assert.equal(errnoCode(Errno.EADDRINUSE), "address-in-use");
  assert.equal(errnoCode(Errno.ECONNREFUSED), "connect-failed");
  assert.equal(errnoCode(Errno.ESOCKTNOSUPPORT), "unsupported");
  assert.equal(errnoCode(Errno.ENOENT), "no-association");
  assert.equal(errnoCode(Errno.EINVAL), "invalid-argument");
  assert.equal(errnoCode(Errno.ETIMEDOUT), "timeout");
  assert.equal(errnoCode(Errno.EBADF), "closed");
  assert.equal(errnoCode(1234), "system");
});

Deno.test("errnoError() names the errno and maps it to an SctpError code", () => {
  assert.equal(errnoName(Errno.ESOCKTNOSUPPORT), "ESOCKTNOSUPPORT");
  assert.equal(errnoName(9999), "errno 9999");
  const e = errnoError("listen", Errno.ENOSYS);
  assert.equal(e.code, "unsupported");
  assert.equal(e.errno, 38);
  assert.equal(e.message, "Cannot listen: Function not implemented (ENOSYS)");
  const inUse = errnoError("bind 127.0.0.1 port 1", 98);
  assert.equal(inUse.code, "address-in-use");
  assert.equal(inUse.errno, 98);
  assert.equal(inUse.message, "Cannot bind 127.0.0.1 port 1: Address already in use (EADDRINUSE)");
});
