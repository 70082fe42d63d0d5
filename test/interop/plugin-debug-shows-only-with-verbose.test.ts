/**
 * A plugin's own debug lines (debug() in nbdts, nbdkit_debug in nbdkit) print only with -v,
 * named after the plugin: at configuration time and from a connection's callbacks alike. nbdkit
 * runs the Perl twin of the plugin (test/fixtures/debug-plugin.pl); where its Perl plugin is not
 * installed, the nbdkit run is skipped, saying so.
 */

import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer } from "../helpers/captive.ts";
import { logLines } from "../helpers/debug-log.ts";
import {
  REPO_ROOT,
  requireClients,
  type Server,
  servers,
  type SkippableContext,
} from "../helpers/servers.ts";

const FIXTURES = join(REPO_ROOT, "test", "fixtures");

/** The plugin as `server` loads it, and the name its lines carry. */
function debugPlugin(server: Server): { argv: string[]; name: string } {
  return server.name === "nbdkit"
    ? { argv: ["perl", join(FIXTURES, "debug-plugin.pl")], name: "perl" }
    : { argv: [join(FIXTURES, "debug-plugin.ts")], name: "debugging" };
}

/** Skips the test when nbdkit's Perl plugin is missing. */
async function requirePlugin(server: Server, context: SkippableContext): Promise<void> {
  const result = await runServer(server, [...debugPlugin(server).argv, "--dump-plugin"]);
  if (result.status !== 0 && /perl/.test(result.stderr)) {
    context.skip(`${server.name} cannot load the Perl twin: its Perl plugin is not installed`);
  }
}

/** Reads 512 bytes at 4096 with the server given `options`; the server's stderr. */
async function readOnce(server: Server, options: readonly string[]): Promise<string> {
  const script = `nbdsh -u "$uri" -c 'h.pread(512, 4096)'`;
  const plugin = debugPlugin(server).argv;
  return expectSuccess(await captive(server, plugin, script, { serverOptions: options })).stderr;
}

const MESSAGES = [
  "configured, size is 1048576",
  "opening an export, readonly=0",
  "reading 512 bytes at 4096",
];

describe.each(servers)("a plugin's debug lines show only with -v ($name)", (server) => {
  test("with -v each debug call is a debug line named after the plugin", async (context) => {
    requireClients(context, "nbdsh");
    await requirePlugin(server, context);
    const lines = logLines(await readOnce(server, ["-v"]));
    const own = lines.filter((line) => MESSAGES.includes(line.message));
    expect(own.map((line) => line.message)).toEqual(MESSAGES);
    for (const line of own) {
      expect(line.level).toBe("debug");
      // nbdkit names a line from a connection's callback after its plugin and connection; one
      // from configuration after nothing at all, where nbdts keeps the plugin's name.
      expect(line.thread ?? debugPlugin(server).name).toMatch(
        new RegExp(`^${debugPlugin(server).name}(\\[\\d+\\]|\\.\\d+)?$`),
      );
    }
  });

  test("without -v no debug call prints anything", async (context) => {
    requireClients(context, "nbdsh");
    await requirePlugin(server, context);
    expect(await readOnce(server, [])).toBe("");
  });
});
