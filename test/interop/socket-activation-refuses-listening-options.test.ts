/**
 * Under socket activation the options that say where to listen (-p, -U, -i, -s, --run) are
 * refused with nbdkit's message and exit status 1, checked against nbdkit's own stderr; nbdts
 * refuses --websocket too (nbdkit has no such option). nbdinfo activates the server.
 */

import { describe, expect, test } from "vitest";
import { run, scratchDir } from "../helpers/captive.ts";
import { findProgram, requireClients, type Server, servers } from "../helpers/servers.ts";

/** The refusal line the server printed, with its program name taken out. */
async function refusal(server: Server, options: readonly string[]): Promise<string> {
  const command = ["[", ...server.argv, ...options, "memory", "1M", "]"];
  const result = await run(["nbdinfo", "--size", "--", ...command]);
  expect(result.status).not.toBe(0);
  const line = result.stderr.split("\n").find((text) => text.includes("socket activation"));
  expect(line, result.stderr).toBeDefined();
  return line!.replace(/^(nbdkit|nbdts): /, "PROGRAM: ");
}

const NBDKIT: Server = { name: "nbdkit", argv: ["nbdkit"] };

describe.each(servers)("socket activation refuses listening options ($name)", (server) => {
  test.for<[string, string[]]>([
    ["-p", ["-p", "10809"]],
    ["-p", ["--port=10809"]],
    ["-U", ["-U", "SCRATCH/sock"]],
    ["-i", ["-i", "127.0.0.1"]],
    ["-s", ["-s"]],
    ["--run", ["--run", "true"]],
  ])("%s (%j) is refused as nbdkit refuses it", async ([flag, options], context) => {
    requireClients(context, "nbdinfo");
    const dir = scratchDir();
    const args = options.map((option) => option.replace("SCRATCH", dir));
    const line = await refusal(server, args);
    expect(line).toBe(`PROGRAM: cannot use socket activation with ${flag} flag`);
    if (server.name !== "nbdkit" && findProgram("nbdkit") !== undefined) {
      expect(line).toBe(await refusal(NBDKIT, args));
    }
  });
});

// nbdkit has no --websocket: only nbdts's servers are asked.
describe.each(servers.filter(({ name }) => name !== "nbdkit"))(
  "socket activation refuses --websocket ($name)",
  (server) => {
    test("--websocket is refused: the inherited socket is not an HTTP one", async (context) => {
      requireClients(context, "nbdinfo");
      const line = await refusal(server, ["--websocket"]);
      expect(line).toBe("PROGRAM: cannot use socket activation with --websocket flag");
    });
  },
);
