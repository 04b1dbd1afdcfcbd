/**
 * The user-mode-linux guest runner (`scripts/uml/run.sh`) and its TypeScript helper
 * (`tests/_uml.ts`): exit status, output streams, environment, file systems, kernel SCTP,
 * network and multicast between the guest and its host-side namespace.
 *
 * Needs root and user-mode-linux (skipped otherwise); each test boots one guest (~4 s).
 */
import assert from "node:assert/strict";
import { startGuest, umlAvailable } from "../_uml.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const skip = umlAvailable() ? undefined : "needs root and user-mode-linux";
if (skip) console.warn(`uml_runner_test.ts: SKIPPED: ${skip}`);

Deno.test({
  name: "run.sh runs a command as root in the guest, with the host's files, env and cwd",
  ignore: skip !== undefined,
  fn: async () => {
    const mark = `tests/tmp/uml-runner-${crypto.randomUUID().slice(0, 8)}`;
    const script = [
      "set -u",
      'echo "cwd=$PWD uid=$(id -u) mark=$RSERPOOL_TEST_MARK guest=$RSERPOOL_UML_GUEST"',
      'echo "addresses=$RSERPOOL_UML_GUEST_ADDRESSES host=$RSERPOOL_UML_HOST_ADDRESSES"',
      'echo "sctp=$(grep -c -w SCTP /proc/net/protocols) hmac=$(grep -c ^hmac /proc/modules)"',
      'echo "route=$(ip route show 224.0.0.0/4)"',
      "touch /etc/rserpool-uml-test 2>/dev/null && echo root=writable || echo root=read-only",
      'echo "from the guest" > "$MARK"',
      "echo to-stderr >&2",
      "exit 7",
    ].join("\n");
    const started = performance.now();
    const r = await new Deno.Command(`${ROOT}/scripts/uml/run.sh`, {
      args: ["--timeout", "120", "--", "bash", "-c", script],
      cwd: ROOT,
      env: { RSERPOOL_TEST_MARK: "m4rk", MARK: mark },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const ms = Math.round(performance.now() - started);
    const out = new TextDecoder().decode(r.stdout);
    const err = new TextDecoder().decode(r.stderr);
    console.log(`run.sh took ${ms} ms`);
    try {
      assert.equal(r.code, 7, `exit status of the command\n${out}\n${err}`);
      assert.match(out, new RegExp(`cwd=${ROOT} uid=0 mark=m4rk guest=1`));
      assert.match(out, /addresses=10\.9\.0\.2 fd00:9:0:0::2 host=10\.9\.0\.1 fd00:9:0:0::1/);
      assert.match(out, /sctp=1 hmac=1/);
      assert.match(out, /route=224\.0\.0\.0\/4 dev vec0/);
      assert.match(out, /root=read-only/);
      assert.doesNotMatch(out, /to-stderr/);
      assert.match(err, /to-stderr/);
      assert.equal(await Deno.readTextFile(`${ROOT}/${mark}`), "from the guest\n");
    } finally {
      await Deno.remove(`${ROOT}/${mark}`).catch(() => {});
    }
  },
});

Deno.test({
  name: "startGuest() links the guest and its host-side namespace, multicast included",
  ignore: skip !== undefined,
  fn: async () => {
    // In the guest: a UDP echo on 10.9.0.2:5555 that also multicasts to 239.0.0.77:5556.
    const guestProgram = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.9.0.2", 5555))
s.settimeout(0.2)
m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
m.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
print("listening", flush=True)
for _ in range(300):
    m.sendto(b"announce", ("239.0.0.77", 5556))
    try:
        data, addr = s.recvfrom(100)
        s.sendto(data.upper(), addr)
    except socket.timeout:
        pass
`;
    await using guest = await startGuest({
      command: ["/usr/bin/python3", "-c", guestProgram],
      readyPattern: /listening/,
      timeout: 120,
    });
    console.log(`guest ready after ${guest.bootMilliseconds} ms`);
    assert.equal(guest.guestAddresses[0], "10.9.0.2");
    assert.equal(guest.hostAddresses[0], "10.9.0.1");
    const hostProgram = `
const s = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 5556, reuseAddress: true });
await s.joinMulticastV4("239.0.0.77", "10.9.0.1");
const [announce, from] = await s.receive();
const u = Deno.listenDatagram({ transport: "udp", hostname: "10.9.0.1", port: 0 });
await u.send(new TextEncoder().encode("ping"), { transport: "udp", hostname: "10.9.0.2", port: 5555 });
const [echo] = await u.receive();
console.log(JSON.stringify({ announce: new TextDecoder().decode(announce),
  from: (from as Deno.NetAddr).hostname, echo: new TextDecoder().decode(echo) }));
s.close(); u.close();
`;
    const r = await guest.hostCommand(
      [Deno.execPath(), "eval", "--unstable-net", hostProgram],
      { stdout: "piped", stderr: "piped" },
    ).output();
    const text = new TextDecoder().decode(r.stdout);
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    assert.deepEqual(JSON.parse(text), { announce: "announce", from: "10.9.0.2", echo: "PING" });
    const status = await guest.stop();
    assert.notEqual(status, 125, "the guest ran the command");
  },
});
