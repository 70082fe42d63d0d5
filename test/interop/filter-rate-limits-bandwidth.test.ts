/**
 * --filter=rate (man nbdkit-rate-filter): reads and writes are held to `rate=` bits per second
 * across the server, or `connection-rate=` per connection, once a first burst of
 * `burstiness=` seconds' worth has passed; `rate-file=` sets the rate while the server runs.
 * Checked by lower bounds on elapsed time only (machines are shared, so no upper bounds):
 * 1 MiB at 4M bits per second (512 KiB/s) with a 0.1 s burst takes at least 1.8 s, tested
 * against 1.5 s.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const LOWER_BOUND_SECONDS = 1.5;

/** Python: `kind` ("read" or "write") 1 MiB in 64 KiB requests; reports the seconds taken. */
function timed(kind: "read" | "write"): string {
  const call = kind === "read" ? "h.pread(65536, i * 65536)" : 'h.pwrite(b"r" * 65536, i * 65536)';
  return `
    import time
    h = connect()
    start = time.monotonic()
    for i in range(16):
        ${call}
    seconds = time.monotonic() - start
    ok = bytes(h.pread(4, 0)) == (b"rrrr" if "${kind}" == "write" else bytes(4))
    report(seconds=seconds, ok=ok)
  `;
}

describe.each(servers)("rate filter ($name)", (server) => {
  test("reads are held to rate= bits per second once the burst has passed", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=rate", "memory", "4M", "rate=4M", "burstiness=0.1"],
      timed("read"),
    );
    expect(result.ok).toBe(true);
    expect(result.seconds).toBeGreaterThan(LOWER_BOUND_SECONDS);
  });

  test("writes are held to connection-rate= bits per second", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=rate", "memory", "4M", "connection-rate=4M", "burstiness=0.1"],
      timed("write"),
    );
    expect(result.ok).toBe(true);
    expect(result.seconds).toBeGreaterThan(LOWER_BOUND_SECONDS);
  });

  test("rate-file= sets the rate while the server runs", async (context) => {
    requireClients(context, "nbdsh");
    const file = join(scratchDir(), "rate");
    writeFileSync(file, "4M\n");
    const result = await libnbd(
      server,
      ["--filter=rate", "memory", "4M", "rate=400M", "burstiness=0.1", `rate-file=${file}`],
      timed("read"),
    );
    expect(result.seconds).toBeGreaterThan(LOWER_BOUND_SECONDS);
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    const refused = (...params: string[]) =>
      refusedStart(server, ["--filter=rate", "null", ...params]);
    expect(await refused("rate=0")).toContain("rate cannot be set to 0");
    expect(await refused("rate=1M", "rate=2M")).toContain("rate set twice on the command line");
    expect(await refused("connection-rate=-1")).toContain("size cannot be negative (-1)");
    expect(await refused("rate=x")).toContain("could not parse size string (x)");
    expect(await refused("burstiness=x")).toContain(
      "burstiness must be a floating point number (seconds)",
    );
    expect(await filterHelp(server, "rate")).toBe(
      "rate=BITSPERSEC                Limit total bandwidth.\n" +
        "connection-rate=BITSPERSEC     Limit per-connection bandwidth.\n" +
        "rate-file=FILENAME             Dynamically adjust total bandwidth.\n" +
        "connection-rate-file=FILENAME  Dynamically adjust per-connection bandwidth.",
    );
  });
});
