/**
 * --filter=spinning (man nbdkit-spinning-filter): the export says it is rotational and not
 * multi-conn, and a read far from the simulated head waits the seek time of the curve through
 * min-, half- and max-seek-time. nbdkit 1.32.5 lacks this filter (it came in nbdkit 1.40), so
 * these tests follow its manual and run against nbdts alone. Timing by a lower bound only.
 */

import { describe, expect, test } from "vitest";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name !== "nbdkit");

if (ours.length === 0) test.skip("spinning filter: no nbdts server is selected", () => {});

describe.each(ours)("spinning filter ($name)", (server) => {
  test("rotational and not multi-conn, whatever the plugin says", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=spinning", "memory", "1M"],
      "h = connect(); report(rotational=h.is_rotational(), multi_conn=h.can_multi_conn())",
    );
    expect(result).toEqual({ rotational: true, multi_conn: false });
  });

  test("a read across the whole disk waits max-seek-time; the data is the plugin's", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      [
        "--filter=spinning",
        "memory",
        "64M",
        "min-seek-time=0",
        "half-seek-time=0.5",
        "max-seek-time=1",
      ],
      `
      import time
      h = connect()
      h.pwrite(b"far", 64 * 1024 * 1024 - 512)
      h.pread(512, 0)  # the head is back at the start
      start = time.monotonic()
      data = bytes(h.pread(3, 64 * 1024 * 1024 - 512))
      report(seconds=time.monotonic() - start, data=data.decode())
    `,
    );
    expect(result.data).toBe("far");
    expect(result.seconds).toBeGreaterThan(0.9); // nearly the whole disk: 1 s by the curve
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    const refused = (...params: string[]) =>
      refusedStart(server, ["--filter=spinning", "null", ...params]);
    expect(await refused("heads=65")).toContain("heads must be in the range [1..64] (was: 65)");
    expect(await refused("max-seek-time=-1")).toContain(
      'max-seek-time must be a number >= 0 (was: "-1")',
    );
    expect(await refused("min-seek-time=1e17", "half-seek-time=0.3", "max-seek-time=0.7"))
      .toContain("seek time quadratic is not stable");
    expect(await filterHelp(server, "spinning")).toBe(
      "heads=N                 Set the number of heads (default: 1)\n" +
        "separate-heads=BOOL     Use separate heads (default: false)\n" +
        "min-seek-time=N         Set track-to-track seek time (default: 0.01)\n" +
        "half-seek-time=N        Set half disk seek time (default: 0.2)\n" +
        "max-seek-time=N         Set whole disk seek time (default: 0.5)",
    );
  });
});
