/**
 * nbdkit's process behaviour for drop-in use: --dump-config keys, --version with a plugin,
 * -s refusing listening options without printing usage, -D warnings, options after the
 * plugin's parameters, and the exit status of a --run command killed by a signal.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer, scratchDir } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

describe.each(servers)("nbdkit parity on the command line ($name)", (server) => {
  test("--dump-config's version agrees with version_major and version_minor", async () => {
    // Under its own name nbdts gives its own version; under the name nbdkit, nbdkit 1.32.5's
    // (scripts-for-nbdkit-run-it-under-that-name.test.ts).
    const { stdout } = expectSuccess(await runServer(server, ["--dump-config"]));
    const config = new Map(
      stdout.trimEnd().split("\n").map((line) => line.split("=", 2) as [string, string]),
    );
    const [major, minor] = config.get("version")!.split(".");
    expect(config.get("version_major")).toBe(major);
    expect(config.get("version_minor")).toBe(minor);
    expect(config.get("bindir")).toMatch(/^\//);
    expect(config.get("exit_with_parent")).toBe("yes");
    expect(config.get("tls")).toMatch(/^(yes|no)$/);
  });

  test("PLUGIN --version prints the server's and the plugin's names", async () => {
    const { stdout } = expectSuccess(await runServer(server, ["memory", "--version"]));
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^memory( |$)/);
  });

  test("--version with a plugin that does not exist fails", async () => {
    const result = await runServer(server, ["nosuchplugin", "--version"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("nosuchplugin");
  });

  test.each([
    ["-U", ["-s", "-U", "/tmp/nbdts-never.sock"]],
    ["-p", ["-s", "-p", "10810"]],
    ["--run", ["-s", "--run", "true"]],
    ["--dump-plugin", ["-s", "--dump-plugin"]],
  ])("-s with %s is refused on stderr, nothing on stdout", async (_name, options) => {
    const result = await runServer(server, [...options, "memory", "1M"], { input: "" });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/cannot be used/);
  });

  test("-D warns about a flag the plugin lacks and a flag naming nothing", async () => {
    const result = await runServer(server, [
      "-D",
      "memory.nosuchflag=1",
      "-D",
      "nosuchplugin.flag=2",
      "memory",
      "--version",
    ]);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(
      /: warning: -D memory\.nosuchflag: memory does not contain a global variable called memory_debug_nosuchflag\n/,
    );
    expect(result.stderr).toMatch(/: warning: debug flag -D nosuchplugin\.flag was not used\n/);
  });

  test("options after the plugin's parameters still apply", async () => {
    const result = expectSuccess(
      await runServer(server, [
        "memory",
        "size=1M",
        "-U",
        "-",
        "-r",
        "-e",
        "name",
        "--run",
        'echo "$exportname"',
      ]),
    );
    expect(result.stdout).toBe("name\n");
  });

  test("-s writes the pid file too", async () => {
    const pidFile = join(scratchDir(), "pid");
    expectSuccess(await runServer(server, ["-s", "-P", pidFile, "memory", "1M"], { input: "" }));
    expect(readFileSync(pidFile, "utf8")).toMatch(/^\d+\n$/);
  });

  test("a --run shell killed by a signal gives 128+N and nbdkit's message", async () => {
    const result = await captive(server, ["memory", "1M"], "kill -9 $$");
    expect(result.status).toBe(137);
    expect(result.stderr).toMatch(/: external command was killed by signal 9\n/);
  });

  test("a --run command that exits 137 itself gives 137 and no message", async () => {
    const result = await captive(server, ["memory", "1M"], "exit 137");
    expect(result.status).toBe(137);
    expect(result.stderr).not.toMatch(/killed by signal/);
  });
});
