/**
 * The NBD client (nbdts/client) on Node, Deno and Bun against every server: nbdts on each
 * runtime, nbdkit and qemu-nbd. One scenario (test/fixtures/client-scenario.ts) writes, reads
 * back with 32 requests in flight, zeroes, trims, flushes, caches, maps, is refused a read past
 * the end and goes on, and disconnects; nbdsh then reads what the client wrote from the server.
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { startServer } from "../helpers/background.ts";
import { clientRuntimes, type ScenarioResult } from "../helpers/client-runtimes.ts";
import { startQemuNbd } from "../helpers/qemu-nbd.ts";
import { findProgram, requireClients, servers } from "../helpers/servers.ts";

const SIZE = 1024 * 1024;

/** What the scenario sees on any server that offers every command. */
const EXPECTED = {
  size: SIZE,
  readOnly: false,
  structuredReplies: true,
  canBlockStatus: true,
  readBack: true,
  parallelReadBack: true,
  zeroed: true,
  extentsFromZero: true,
  firstExtentIsData: true,
  pastEnd: "EINVAL",
  afterError: true,
  afterDisconnect: "ConnectionClosedError",
};

/** The bytes nbdsh reads at 0 and at 256 KiB must be the scenario's pattern (fixture's formula). */
async function nbdshSeesThePattern(uri: string): Promise<void> {
  const script = [
    "def p(o, n): return bytearray(((o + j) * 7 + ((o + j) >> 12)) % 251 for j in range(n))",
    "assert h.pread(4096, 0) == p(0, 4096)",
    "assert h.pread(4096, 262144 + 31 * 8192) == p(262144 + 31 * 8192, 4096)",
    "assert h.pread(4096, 135168) == bytearray(4096)",
    "print('same')",
  ].join("\n");
  const { stdout } = expectSuccess(await run(["nbdsh", "-u", uri, "-c", script]));
  expect(stdout.trim()).toBe("same");
}

function check(result: ScenarioResult): void {
  expect(result).toMatchObject(EXPECTED);
  expect(["ok", "not offered"]).toContain(result.cache);
}

describe.each(clientRuntimes)("the client on $name", (runtime) => {
  describe.each(servers)("against $name", (server) => {
    test("reads, writes, maps and recovers from errors", async (context) => {
      requireClients(context, "nbdsh");
      const background = await startServer(server, ["memory", String(SIZE)]);
      check(await runtime.scenario(background.uri));
      await nbdshSeesThePattern(background.uri);
    });
  });

  test("against qemu-nbd: reads, writes, maps and recovers from errors", async (context) => {
    requireClients(context, "qemu-nbd", "nbdsh");
    const qemu = await startQemuNbd(SIZE);
    const result = await runtime.scenario(qemu.uri);
    check(result);
    await nbdshSeesThePattern(qemu.uri);
  });
});

if (findProgram("qemu-nbd") === undefined && process.env.NBD_REQUIRE_CLIENTS === "1") {
  test("qemu-nbd is installed", () => expect(findProgram("qemu-nbd")).toBeDefined());
}
