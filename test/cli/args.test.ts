import { describe, expect, test } from "vitest";
import {
  ACTION,
  type CommandLine,
  DEFAULT_PORT,
  parseCommandLine,
  PRIVATE_SOCKET,
  resolveParams,
} from "../../src/cli/args.ts";
import { UsageError } from "../../src/cli/getopt.ts";
import { ConfigError } from "../../src/api/errors.ts";

function parse(...argv: string[]): CommandLine {
  return parseCommandLine(argv);
}

function failure(...argv: string[]): ConfigError {
  try {
    parseCommandLine(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`no error for ${argv.join(" ")}`);
}

describe("parseCommandLine: plugin and parameters", () => {
  test("the first operand is the plugin, the rest are its parameters", () => {
    const line = parse("-U", "-", "memory", "1M", "allocator=sparse");
    expect(line.action).toBe(ACTION.SERVE);
    expect(line.plugin).toBe("memory");
    expect(line.params).toEqual([{ value: "1M" }, { key: "allocator", value: "sparse" }]);
    expect(resolveParams(line.params, "size", "memory")).toEqual([
      { key: "size", value: "1M" },
      { key: "allocator", value: "sparse" },
    ]);
  });

  test("options after the plugin are options (GNU getopt permutes argv)", () => {
    const line = parse("memory", "1M", "-r", "--run", "true", "-e", "foo");
    expect(line.params).toEqual([{ value: "1M" }]);
    expect(line).toMatchObject({ readOnly: true, run: "true", exportName: "foo" });
  });

  test("after '--' every word is a parameter, even one starting with '-'", () => {
    const line = parse("-U", "-", "memory", "--", "1M", "--run", "x");
    expect(line.params).toEqual([{ value: "1M" }, { value: "--run" }, { value: "x" }]);
    expect(line.run).toBeUndefined();
  });

  test("a module path is kept as typed", () => {
    expect(parse("./plugins/my.ts", "a=1").plugin).toBe("./plugins/my.ts");
  });
});

describe("parseCommandLine: --filter", () => {
  test("filters are kept in command-line order, the outermost first, wherever they appear", () => {
    const line = parse("--filter=ip", "memory", "1M", "--filter", "limit", "allow=all", "limit=2");
    expect(line.filters).toEqual(["ip", "limit"]);
    expect(line.plugin).toBe("memory");
    // Every parameter stays in one list, in order: the filters take theirs when configured.
    expect(line.params).toEqual([
      { value: "1M" },
      { key: "allow", value: "all" },
      { key: "limit", value: "2" },
    ]);
  });

  test("the same filter may be named twice, and a filter may be a module path", () => {
    expect(parse("--filter=ip", "--filter=./f.ts", "--filter=ip", "null").filters)
      .toEqual(["ip", "./f.ts", "ip"]);
  });

  test("--filter needs a value", () => {
    expect(failure("null", "--filter")).toBeInstanceOf(UsageError);
  });
});

describe("parseCommandLine: defaults", () => {
  test("a bare command line serves with nbdkit's defaults", () => {
    expect(parse("null")).toEqual({
      action: ACTION.SERVE,
      plugin: "null",
      params: [],
      vsock: false,
      websocket: false,
      websocketOrigins: [],
      websocketHosts: [],
      single: false,
      printUri: false,
      readOnly: false,
      foreground: false,
      exitWithParent: false,
      verbose: false,
      debugFlags: [],
      maskHandshake: 0xffff_ffff,
      noSr: false,
      noExtendedHeaders: false,
      oldstyle: false,
      filters: [],
      tlsVerifyPeer: false,
      swap: false,
    });
    expect(DEFAULT_PORT).toBe(10809);
  });
});

describe("parseCommandLine: each option in each form", () => {
  const cases: [string[], Partial<CommandLine>][] = [
    [["-U", "/tmp/sock"], { unixSocket: "/tmp/sock" }],
    [["-U/tmp/sock"], { unixSocket: "/tmp/sock" }],
    [["--unix", "rel/sock"], { unixSocket: "rel/sock" }],
    [["--unix=-"], { unixSocket: PRIVATE_SOCKET }],
    [["-p", "10999"], { port: 10999 }],
    [["-p0"], { port: 0 }],
    [["--port=65535"], { port: 65535 }],
    [["-i", "127.0.0.1"], { ipAddr: "127.0.0.1" }],
    [["--ipaddr=::1"], { ipAddr: "::1" }],
    [["--ip-addr", "localhost"], { ipAddr: "localhost" }],
    [["-4"], { ipFamily: "ipv4" }],
    [["--ipv6-only"], { ipFamily: "ipv6" }],
    [["-4", "-6"], { ipFamily: "ipv6" }],
    [["-r"], { readOnly: true }],
    [["--readonly"], { readOnly: true }],
    [["--read-only"], { readOnly: true }],
    [["-e", "foo"], { exportName: "foo" }],
    [["-efoo"], { exportName: "foo" }],
    [["--export=foo"], { exportName: "foo" }],
    [["--export-name", "foo"], { exportName: "foo" }],
    [["--exportname="], { exportName: "" }],
    [["-P", "/run/x.pid"], { pidFile: "/run/x.pid" }],
    [["--pidfile=x.pid"], { pidFile: "x.pid" }],
    [["--pid-file", "x.pid"], { pidFile: "x.pid" }],
    [["-f"], { foreground: true }],
    [["--foreground"], { foreground: true }],
    [["--no-fork"], { foreground: true }],
    [["--run", "nbdinfo $uri"], { run: "nbdinfo $uri", foreground: true }],
    [["--run=true"], { run: "true", foreground: true }],
    [["-s"], { single: true }],
    [["--single"], { single: true }],
    [["--stdin"], { single: true }],
    [["-v"], { verbose: true }],
    [["--verbose"], { verbose: true }],
    [["-D", "memory.dir=1"], { debugFlags: [{ name: "memory", flag: "dir", value: 1 }] }],
    [["--debug=nbdkit.backend.datapath=0"], {
      debugFlags: [{ name: "nbdkit", flag: "backend.datapath", value: 0 }],
    }],
    [["-Da.b=-1", "-D", "c.d=0x10"], {
      debugFlags: [{ name: "a", flag: "b", value: -1 }, { name: "c", flag: "d", value: 16 }],
    }],
    [["--no-sr"], { noSr: true }],
    [["--exit-with-parent"], { exitWithParent: true, foreground: true }],
    [["--print-uri"], { printUri: true }],
    [["-t", "4"], { threads: 4 }],
    [["--threads=0x10"], { threads: 16 }],
    [["-n"], {}],
    [["--newstyle"], {}],
    [["--new-style"], {}],
    [["--log=stderr"], { log: "stderr" }],
    [["--log", "syslog"], { log: "syslog" }],
    [["--log=null"], { log: "null" }],
    [["--mask-handshake=0"], { maskHandshake: 0 }],
    [["--mask-handshake", "1"], { maskHandshake: 1 }],
    [["--filter=cow", "--filter", "delay"], { filters: ["cow", "delay"] }],
    [["--tls=off"], { tls: "off" }],
    [["--tls=on"], { tls: "on" }],
    [["--tls=yes"], { tls: "on" }],
    [["--tls", "0"], { tls: "off" }],
    [["--tls=require"], { tls: "require" }],
    [["--tls=Required"], { tls: "require" }],
    [["--tls=FORCE"], { tls: "require" }],
    [["--tls-certificates=/etc/pki/nbdkit"], { tlsCertificates: "/etc/pki/nbdkit" }],
    [["--tls-psk", "keys.psk"], { tlsPsk: "keys.psk" }],
    [["--tls-verify-peer"], { tlsVerifyPeer: true }],
    [["-u", "nobody", "-g", "nogroup"], { user: "nobody", group: "nogroup" }],
    [["--user=nobody", "--group=nogroup"], { user: "nobody", group: "nogroup" }],
    [["--selinux-label=l"], { selinuxLabel: "l" }],
    [["--swap"], { swap: true }],
    [["--vsock"], { vsock: true }],
    [["-fvr"], { foreground: true, verbose: true, readOnly: true }],
    [["-rfU", "sock"], { readOnly: true, foreground: true, unixSocket: "sock" }],
  ];
  for (const [argv, expected] of cases) {
    test(argv.join(" "), () => {
      const line = parse(...argv, "memory", "1M");
      expect(line).toMatchObject(expected);
      expect(line.plugin).toBe("memory");
      expect(line.params).toEqual([{ value: "1M" }]);
    });
  }

  test("the last of a repeated option wins", () => {
    expect(parse("-e", "a", "-e", "b", "null").exportName).toBe("b");
    expect(parse("-p", "1", "-p", "2", "null").port).toBe(2);
  });
});

describe("parseCommandLine: informational actions", () => {
  test("--help and --version work without a plugin", () => {
    expect(parse("--help").action).toBe(ACTION.HELP);
    expect(parse("-V").action).toBe(ACTION.VERSION);
    expect(parse("--version").action).toBe(ACTION.VERSION);
    expect(parse("--help", "--version").action).toBe(ACTION.HELP);
  });

  test("with a plugin they keep it, so the plugin's help or version can follow", () => {
    expect(parse("memory", "--help")).toMatchObject({ action: ACTION.HELP, plugin: "memory" });
    expect(parse("memory", "-V")).toMatchObject({ action: ACTION.VERSION, plugin: "memory" });
  });

  test("--dump-plugin needs a plugin and keeps its parameters", () => {
    expect(parse("memory", "1M", "--dump-plugin")).toMatchObject({
      action: ACTION.DUMP_PLUGIN,
      plugin: "memory",
      params: [{ value: "1M" }],
    });
    expect(failure("--dump-plugin").message).toBe(
      "use 'nbdts PLUGIN --dump-plugin' to see a plugin's fields, or --dump-config for the server's",
    );
  });

  test("--dump-config, --long-options and --short-options act at once, ignoring what follows", () => {
    expect(parse("--dump-config", "--frob").action).toBe(ACTION.DUMP_CONFIG);
    expect(parse("--long-options").action).toBe(ACTION.LONG_OPTIONS);
    expect(parse("--short-options", "-p", "bad").action).toBe(ACTION.SHORT_OPTIONS);
    expect(failure("--frob", "--dump-config").message).toBe("unrecognized option '--frob'");
  });

  test("help without a plugin wins over conflicting options, as in nbdkit", () => {
    expect(parse("-s", "-U", "-", "--help").action).toBe(ACTION.HELP);
  });
});

describe("parseCommandLine: mistakes", () => {
  test("no plugin is an error pointing at --help", () => {
    expect(failure().message).toBe(
      "no plugins given on the command line: use 'nbdts --help' for usage",
    );
    expect(failure("-r", "-U", "-").message).toContain("no plugins given");
  });

  test("getopt's mistakes are UsageErrors naming the option", () => {
    const unknown = failure("--frob", "memory");
    expect(unknown).toBeInstanceOf(UsageError);
    expect(unknown.message).toBe("unrecognized option '--frob'");
    expect(failure("memory", "-U").message).toBe("option requires an argument -- 'U'");
    expect(failure("memory", "--unix").message).toBe("option '--unix' requires an argument");
    expect(failure("memory", "--verbose=1").message).toBe(
      "option '--verbose' doesn't allow an argument",
    );
    expect(failure("memory", "-1").message).toBe("invalid option -- '1'");
  });

  test("-o asks for oldstyle and -n for newstyle again, the last one winning, as nbdkit", () => {
    for (
      const [argv, oldstyle] of [
        [["memory", "1M"], false],
        [["-o", "memory", "1M"], true],
        [["--oldstyle", "memory"], true],
        [["--old-style", "-n", "memory"], false],
        [["--newstyle", "memory", "-o"], true],
      ] as const
    ) {
      expect(parseCommandLine(argv).oldstyle, argv.join(" ")).toBe(oldstyle);
    }
  });

  test("oldstyle with --tls=require is refused in nbdkit's words; --tls=on is allowed", () => {
    expect(failure("-o", "--tls=require", "memory").message).toBe(
      "cannot use oldstyle protocol (-o) and require TLS",
    );
    expect(failure("--tls=require", "--oldstyle", "memory").message).toBe(
      "cannot use oldstyle protocol (-o) and require TLS",
    );
    expect(parseCommandLine(["-o", "--tls=on", "memory"]).tls).toBe("on");
    expect(parseCommandLine(["-o", "-n", "--tls=require", "memory"]).oldstyle).toBe(false);
  });

  test("a bad port names -p and the value", () => {
    for (const port of ["99999", "65536", "-1", "abc", "", "nbd", "1.5", " 1"]) {
      expect(failure("-p", port, "memory").message, port).toBe(
        `-p: cannot use port '${port}': expected a number from 0 to 65535`,
      );
    }
    expect(failure("--port=x", "memory").message).toMatch(/^--port: /);
  });

  test("bad numbers have nbdkit's messages", () => {
    expect(failure("-t", "-3", "memory").message).toBe(
      "threads: negative numbers are not allowed",
    );
    expect(failure("-t", "abc", "memory").message).toBe(
      "threads: empty string where we expected a number",
    );
    expect(failure("--mask-handshake=7x", "memory").message).toBe(
      'mask-handshake: could not parse number: "7x": trailing garbage',
    );
  });

  test("--log, --tls and -D refuse bad values", () => {
    expect(failure("--log=foo", "memory").message).toBe(
      `--log must be "stderr", "syslog" or "null", not 'foo'`,
    );
    expect(failure("--tls=maybe", "memory").message).toBe(
      "--tls: could not decipher boolean (maybe)",
    );
    for (const flag of ["foo", "a.b", "a=1", ".b=1", "a.=1", "a=b.c", "a.b=", "a.b=x"]) {
      expect(failure("-D", flag, "memory").message, flag).toBe(
        `-D (Debug Flag) must have the format NAME.FLAG=N, not '${flag}'`,
      );
    }
  });

  test("an empty socket or pid file path is refused", () => {
    expect(failure("-U", "", "memory").message).toBe(
      "-U: cannot convert null or empty path to an absolute path",
    );
    expect(failure("--pidfile=", "memory").message).toBe(
      "--pidfile: cannot convert null or empty path to an absolute path",
    );
  });
});

describe("parseCommandLine: options that cannot be combined", () => {
  const conflicts: [string[], string][] = [
    [["-p", "1", "-U", "-"], "-p and -U options cannot be used together"],
    [["-p", "1", "-s"], "-p and -s options cannot be used together"],
    [["--unix=-", "--single"], "--unix and --single options cannot be used together"],
    [["-s", "--run", "true"], "-s and --run options cannot be used together"],
    [["--stdin", "--dump-plugin"], "--stdin and --dump-plugin options cannot be used together"],
    [["--vsock", "-U", "-"], "--vsock and -U options cannot be used together"],
    [["--vsock", "-s"], "--vsock and -s options cannot be used together"],
  ];
  for (const [argv, message] of conflicts) {
    test(argv.join(" "), () => {
      expect(failure(...argv, "memory", "1M").message).toBe(message);
    });
  }

  test("-s is checked even with --help once a plugin is named", () => {
    expect(failure("-U", "-", "-s", "memory", "--help").message).toBe(
      "-U and -s options cannot be used together",
    );
  });

  test("what nbdkit allows together stays allowed", () => {
    expect(parse("-U", "-", "--run", "true", "memory")).toMatchObject({ unixSocket: "-" });
    expect(parse("-p", "1", "--run", "true", "memory")).toMatchObject({ port: 1 });
    expect(parse("-U", "-", "-i", "127.0.0.1", "memory")).toMatchObject({ ipAddr: "127.0.0.1" });
    expect(parse("-s", "-i", "::1", "-r", "memory")).toMatchObject({ single: true });
    expect(parse("-p", "1", "--vsock", "memory")).toMatchObject({ port: 1, vsock: true });
  });
});
