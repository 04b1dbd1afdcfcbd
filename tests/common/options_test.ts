import assert from "node:assert/strict";
import {
  formatHelp,
  HelpRequested,
  loggerFromOptions,
  LOGGING_OPTIONS,
  OptionError,
  parseOptions,
} from "../../src/common/mod.ts";

const specs = {
  ...LOGGING_OPTIONS,
  registrar: { kind: "string", description: "Registrar", repeatable: true },
  announcettl: { kind: "integer", description: "TTL", default: 30, min: 1, max: 255 },
  identifier: { kind: "integer", description: "Id" },
  minaddressscope: {
    kind: "choice",
    description: "Scope",
    choices: ["loopback", "sitelocal", "global"],
    default: "sitelocal",
  },
  quiet: { kind: "flag", description: "Quiet" },
  enrpannounce: { kind: "string", description: "ENRP announce", default: "auto" },
  enrpmulticast: { kind: "string", description: "Deprecated", aliasOf: "enrpannounce" },
  echo: { kind: "flag", description: "Echo service" },
  discard: { kind: "flag", description: "Discard service" },
} as const;

Deno.test("parseOptions() reads RSPLIB-style -name=value, flags and repeated options", () => {
  const { options, order } = parseOptions(
    ["-loglevel=5", "-registrar=10.0.0.1:3863", "-registrar=10.0.0.2:3863", "-quiet"],
    specs,
    { program: "t" },
  );
  assert.equal(options.loglevel, 5);
  assert.deepEqual(options.registrar, ["10.0.0.1:3863", "10.0.0.2:3863"]);
  assert.equal(options.quiet, true);
  assert.equal(options.announcettl, 30);
  assert.equal(options.identifier, undefined);
  assert.deepEqual(order, ["loglevel", "registrar", "registrar", "quiet"]);
});

Deno.test("parseOptions() accepts --name=value and hex integers", () => {
  const { options } = parseOptions(["--identifier=0x1234abcd", "--logcolor=off"], specs, {
    program: "t",
  });
  assert.equal(options.identifier, 0x1234abcd);
  assert.equal(options.logcolor, "off");
});

Deno.test("parseOptions() clamps numbers to the option's range like RSPLIB", () => {
  const { options } = parseOptions(["-announcettl=999", "-loglevel=12"], specs, { program: "t" });
  assert.equal(options.announcettl, 255);
  assert.equal(options.loglevel, 9);
});

Deno.test("parseOptions() names the option in every error", () => {
  for (
    const [args, part] of [
      [["-bogus=1"], "-bogus"],
      [["-loglevel=high"], "-loglevel"],
      [["-minaddressscope=site-local"], "-minaddressscope"],
      [["-quiet=yes"], "-quiet"],
      [["-announcettl"], "-announcettl"],
    ] as const
  ) {
    assert.throws(
      () => parseOptions(args, specs, { program: "t" }),
      (e: unknown) => e instanceof OptionError && e.message.includes(part),
    );
  }
});

Deno.test("parseOptions() warns about ignored unknown options when the program allows it", () => {
  const r = parseOptions(["-whatever=1"], specs, { program: "t", unknown: () => "warn" });
  assert.deepEqual(r.warnings, ["Ignoring unknown option -whatever=1"]);
});

Deno.test("parseOptions() maps a deprecated alias and warns", () => {
  const r = parseOptions(["-enrpmulticast=239.0.0.51:9901"], specs, { program: "t" });
  assert.equal(r.options.enrpannounce, "239.0.0.51:9901");
  assert.equal(r.warnings.length, 1);
});

Deno.test("parseOptions() keeps the command-line order for last-one-wins choices", () => {
  const r = parseOptions(["-echo", "-discard", "-echo"], specs, { program: "t" });
  assert.equal(r.order.filter((n) => n === "echo" || n === "discard").at(-1), "echo");
});

Deno.test("parseOptions() answers -h and --help with the option list and defaults", () => {
  for (const flag of ["-h", "--help"]) {
    assert.throws(
      () => parseOptions([flag], specs, { program: "t" }),
      (e: unknown) =>
        e instanceof HelpRequested && e.help.includes("-announcettl=<value>") &&
        e.help.includes("[default: 30]"),
    );
  }
  assert.match(formatHelp(specs, { program: "t" }), /-logquiet/);
});

Deno.test("parseOptions() rejects positional arguments unless allowed", () => {
  assert.throws(() => parseOptions(["x"], specs, { program: "t" }), OptionError);
  const r = parseOptions(["10.0.0.1:9901"], specs, { program: "t", maxPositional: 1 });
  assert.deepEqual(r.positional, ["10.0.0.1:9901"]);
});

Deno.test("loggerFromOptions() writes a log file with -logfile and nothing with -logquiet", () => {
  const file = Deno.makeTempFileSync();
  try {
    const { options } = parseOptions(
      [`-logfile=${file}`, "-loglevel=3", "-logcolor=off"],
      LOGGING_OPTIONS,
      { program: "t" },
    );
    const log = loggerFromOptions(options, "test");
    log.note("hello note");
    log.action("not logged");
    log.close();
    const text = Deno.readTextFileSync(file);
    assert.match(text, /hello note/);
    assert.doesNotMatch(text, /not logged/);
    assert.ok(!text.includes("\x1b["));
    const quiet = parseOptions(["-logquiet"], LOGGING_OPTIONS, { program: "t" }).options;
    assert.equal(loggerFromOptions(quiet).level, 0);
  } finally {
    Deno.removeSync(file);
  }
});
