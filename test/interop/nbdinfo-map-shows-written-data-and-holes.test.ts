/**
 * nbdinfo --map on a memory disk shows the ranges written as data and the far untouched
 * ranges as holes that read as zeroes. Page sizes are the server's business: only the
 * written bytes and ranges well away from them are checked.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { type MapEntry, mapProblems, STATE, statusAt } from "../helpers/extents.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;

describe.each(servers)("nbdinfo --map shows written data and holes ($name)", (server) => {
  test("an untouched memory disk is one hole that reads as zeroes", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["memory", "64M"], 'nbdinfo --map --json "$uri"'),
    );
    const map = JSON.parse(stdout) as MapEntry[];
    expect(mapProblems(map, 0, SIZE)).toEqual([]);
    expect(map.every((entry) => entry.type === (STATE.HOLE | STATE.ZERO))).toBe(true);
    expect(map.at(-1)!.offset + map.at(-1)!.length).toBe(SIZE);
  });

  test("written ranges are data and far untouched ranges stay holes", async (context) => {
    requireClients(context, "nbdinfo", "nbdsh");
    const script = [
      `nbdsh -u "$uri" -c 'h.pwrite(b"\\x01" * 65536, ${MiB})' -c 'h.pwrite(b"x" * 10, ${
        10 * MiB + 100
      })'`,
      'nbdinfo --map --json "$uri"',
    ].join(" && ");
    const { stdout } = expectSuccess(await captive(server, ["memory", "64M"], script));
    const map = JSON.parse(stdout) as MapEntry[];
    expect(mapProblems(map, 0, SIZE)).toEqual([]);
    for (const written of [MiB, MiB + 65535, 10 * MiB + 100, 10 * MiB + 109]) {
      expect(statusAt(map, written), `status at ${written}`).toBe(0);
    }
    for (const untouched of [0, 4 * MiB, 20 * MiB, SIZE - 1]) {
      expect(statusAt(map, untouched), `status at ${untouched}`).toBe(STATE.HOLE | STATE.ZERO);
    }
    expect(map.find((entry) => entry.type === 0)?.description).toBe("data");
  });

  test("--map --totals adds up to the export size", async (context) => {
    requireClients(context, "nbdinfo", "nbdsh");
    const script =
      `nbdsh -u "$uri" -c 'h.pwrite(b"\\x01" * ${MiB}, 0)' && nbdinfo --map --totals --json "$uri"`;
    const { stdout } = expectSuccess(await captive(server, ["memory", "64M"], script));
    const totals = JSON.parse(stdout) as { size: number; type: number }[];
    expect(totals.reduce((sum, entry) => sum + entry.size, 0)).toBe(SIZE);
    const data = totals.find((entry) => entry.type === 0)?.size ?? 0;
    expect(data).toBeGreaterThanOrEqual(MiB);
    expect(data).toBeLessThan(2 * MiB);
  });
});
