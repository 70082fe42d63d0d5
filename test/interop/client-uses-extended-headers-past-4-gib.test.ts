/**
 * The NBD client (nbdts/client) on Node, Deno and Bun negotiates extended headers where the
 * server offers them, and then zeroes 6 GiB and trims 5 GiB of a 4 TiB disk in one request each
 * and maps it in 64-bit extents (test/fixtures/client-extended-scenario.ts). Against nbdts on
 * each runtime the server's -v lines show the one zero and the one trim reaching the plugin;
 * against qemu-nbd 10, the reference server that speaks them, its trace shows the one request.
 * nbdkit 1.32.5 has no extended headers: against it the client falls back to structured
 * replies, refuses a request over 4 GiB before sending it (RangeError), and does the same work
 * in pieces, so the same map comes out; so it does against nbdts with --no-extended-headers.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { scratchDir } from "../helpers/captive.ts";
import { clientRuntimes, type ExtendedScenarioResult } from "../helpers/client-runtimes.ts";
import { requireQemuExtendedHeaders, startQemuNbd } from "../helpers/qemu.ts";
import { servers } from "../helpers/servers.ts";

const TiB = 2 ** 40;
const GiB = 2 ** 30;
const SIZE = 4 * TiB;

/** What every server ends with: data where it was written and kept, zeroes elsewhere. */
const SAME_DISK = {
  size: String(SIZE),
  zeroed: true,
  kept: true,
  data: ["0", String(TiB)],
  described: String(SIZE),
};

function withExtendedHeaders(result: ExtendedScenarioResult): void {
  expect(result).toMatchObject({
    ...SAME_DISK,
    extendedHeaders: true,
    zeroAll: "ok",
    trimAll: "ok",
  });
  expect(Number(result.longest)).toBeGreaterThan(2 ** 32); // one extent past 32 bits
  expect(result.requests).toBeLessThan(8);
}

function withoutExtendedHeaders(result: ExtendedScenarioResult): void {
  expect(result).toMatchObject({
    ...SAME_DISK,
    extendedHeaders: false,
    zeroAll: "RangeError",
    trimAll: "RangeError",
  });
  expect(Number(result.longest)).toBeLessThan(2 ** 32);
  expect(result.requests).toBeGreaterThanOrEqual(SIZE / 2 ** 32);
}

describe.each(clientRuntimes)("the client on $name", (runtime) => {
  describe.each(servers)("against $name", (server) => {
    const nbdkit = server.name === "nbdkit";
    test(
      nbdkit
        ? "falls back without extended headers: big requests refused unsent, same map"
        : "zeroes 6 GiB and trims 5 GiB in one request each, maps 4 TiB in 64-bit extents",
      async () => {
        const background = await startServer(server, ["memory", String(SIZE)], {
          serverOptions: ["-v"],
        });
        const result = await runtime.extendedScenario(background.uri);
        if (nbdkit) return withoutExtendedHeaders(result);
        withExtendedHeaders(result);
        const log = background.stderr();
        expect(log).toMatch(/using extended headers/);
        expect(log).toMatch(new RegExp(`memory: zero count=${6 * GiB} offset=${2 * TiB}\\b`));
        expect(log).toMatch(new RegExp(`memory: trim count=${5 * GiB} offset=${3 * TiB}\\b`));
      },
      120_000,
    );
  });

  const ours = servers.find((server) => server.name.startsWith("nbdts"));
  if (ours) {
    test(`against ${ours.name} --no-extended-headers: the same fallback`, async () => {
      const background = await startServer(ours, ["memory", String(SIZE)], {
        serverOptions: ["--no-extended-headers"],
      });
      withoutExtendedHeaders(await runtime.extendedScenario(background.uri));
    }, 120_000);
  }

  test("against qemu-nbd 10: the same, one request each in its trace", async (context) => {
    const qemu = requireQemuExtendedHeaders(context);
    const trace = join(scratchDir(), "trace");
    const server = await startQemuNbd(qemu, "4T", ["--trace", `nbd_receive_request,file=${trace}`]);
    withExtendedHeaders(await runtime.extendedScenario(server.uri));
    const requests = readFileSync(trace, "utf8");
    expect(requests).toMatch(/\.type = 0x6, from = 2199023255552, len = 6442450944 \}/);
    expect(requests).toMatch(/\.type = 0x4, from = 3298534883328, len = 5368709120 \}/);
  }, 120_000);
});
