/**
 * The command line outside serving: --version, --help, --dump-plugin, -r, and errors for
 * bad plugin parameters, each with nbdkit's exit status.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("command-line options ($name)", (server) => {
  test("--version prints a version and exits 0", async () => {
    const result = expectSuccess(await runServer(server, ["--version"]));
    expect(result.stdout).toMatch(/\d+\.\d+/);
  });

  test("--help prints usage mentioning --run and exits 0", async () => {
    const result = expectSuccess(await runServer(server, ["--help"]));
    expect(result.stdout).toMatch(/--run/);
    expect(result.stdout).toMatch(/PLUGIN/);
  });

  test("memory --help describes the plugin's parameters", async () => {
    const result = expectSuccess(await runServer(server, ["memory", "--help"]));
    expect(result.stdout).toMatch(/size=/);
    expect(result.stdout).toMatch(/allocator=/);
  });

  test("--dump-plugin prints key=value lines naming the plugin", async () => {
    const result = expectSuccess(await runServer(server, ["memory", "--dump-plugin"]));
    const lines = result.stdout.trim().split("\n");
    expect(lines).toContain("name=memory");
    expect(lines.every((line) => /^[a-z_]+=/.test(line))).toBe(true);
    expect(lines.some((line) => line.startsWith("magic_config_key=size"))).toBe(true);
  });

  test("an unknown plugin parameter fails with an error naming it", async () => {
    const result = await captive(server, ["memory", "1M", "nosuchkey=1"], "true");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/nosuchkey/);
    expect(result.stderr).toMatch(/error/i);
  });

  test("a missing required parameter fails with an error naming it", async () => {
    const result = await captive(server, ["memory"], "true");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/size/);
  });

  test("an unknown plugin fails with an error naming it", async () => {
    const result = await captive(server, ["nosuchplugin"], "true");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/nosuchplugin/);
  });

  test("-r makes the export read-only", async (context) => {
    requireClients(context, "nbdinfo");
    const script = 'nbdinfo --is read-only "$uri"';
    expect((await captive(server, ["memory", "1M"], script, { serverOptions: ["-r"] })).status)
      .toBe(0);
    expect((await captive(server, ["memory", "1M"], script)).status).toBe(2);
  });

  test("the plugin's magic parameter can be given as size=", async (context) => {
    requireClients(context, "nbdinfo");
    const result = expectSuccess(
      await captive(server, ["memory", "size=3M"], 'nbdinfo --size "$uri"'),
    );
    expect(result.stdout.trim()).toBe(String(3 * 1024 * 1024));
  });
});
