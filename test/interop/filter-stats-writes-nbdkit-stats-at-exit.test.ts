/**
 * --filter=stats (man nbdkit-stats-filter): at exit the server writes to `statsfile=` each
 * kind of request's count, bytes, time and rates, with a breakdown of request sizes and offset
 * alignments, in nbdkit's exact text: the same client session gives the same file on every
 * server once times and rates (which depend on the machine) are set aside. Also
 * `statsappend=`, `statsthreshold=`, and the messages for bad settings.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A session with requests of several sizes and alignments, each kind of request at least once. */
const SESSION = `
h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
for off in [0, 4096, 12288, 65536]:
    h.pread(4096, off)
h.pread(512, 512)
h.pread(512, 1536)
h.pread(65536, 131072)
for off in [1024, 3072, 5120]:
    h.pwrite(b"x" * 1024, off)
h.zero(8192, 0)
h.trim(4096, 8192)
h.flush()
h.flush()
h.cache(4096, 0)
h.block_status(65536, 0, lambda *a: 0)
h.shutdown()
report(done=True)
`;
/** The stats file with each time ("0.000123 s") and rate ("1.2 MiB/s", "(n/a)/s") masked. */
function masked(text: string): string {
  return text.replace(/\d+\.\d{6} s/g, "T s").replace(
    /(\(n\/a\)|[\d.]+ (bytes|KiB|MiB|GiB))\/s/g,
    "R/s",
  );
}

/** The session's report, as every server writes it, times and rates masked. */
const REPORT = `total: 15 ops, T s, 96.00 KiB, R/s
read: 7 ops, T s, 81.00 KiB, R/s op, R/s total
  Request size and alignment breakdown:
    12 bits: 57.1% (4 reqs, 16.00 KiB total)
         12 bit aligned: 100.0% (4)
         16 bit aligned:  50.0% (2)
     9 bits: 28.6% (2 reqs, 1.00 KiB total)
          9 bit aligned: 100.0% (2)
    other sizes: 14.3% (1 reqs, 81.00 KiB total)

write: 3 ops, T s, 3.00 KiB, R/s op, R/s total
  Request size and alignment breakdown:
    10 bits: 100.0% (3 reqs, 3.00 KiB total)
         10 bit aligned: 100.0% (3)

trim: 1 ops, T s, 4.00 KiB, R/s op, R/s total
  Request size and alignment breakdown:
    other sizes: 100.0% (1 reqs, 4.00 KiB total)

zero: 1 ops, T s, 8.00 KiB, R/s op, R/s total
  Request size and alignment breakdown:
    other sizes: 100.0% (1 reqs, 8.00 KiB total)

extents: 1 ops, T s, 64.00 KiB, R/s op, R/s total
  Request size and alignment breakdown:
    other sizes: 100.0% (1 reqs, 64.00 KiB total)

cache: 1 ops, T s, 4.00 KiB, R/s op, R/s total
  Request size and alignment breakdown:
    other sizes: 100.0% (1 reqs, 4.00 KiB total)

flush: 2 ops, T s, 0 bytes, R/s op, R/s total
`;

describe.each(servers)("stats filter ($name)", (server) => {
  test("a session's stats file is nbdkit's, times and rates aside", async (context) => {
    requireClients(context, "nbdsh");
    const file = join(scratchDir(), "stats");
    await libnbd(server, ["--filter=stats", "memory", "1M", `statsfile=${file}`], SESSION);
    expect(masked(readFileSync(file, "utf8"))).toBe(REPORT);
  });

  test("statsthreshold=0 leaves the breakdown out; statsappend=true keeps what the file held", async (context) => {
    requireClients(context, "nbdsh");
    const file = join(scratchDir(), "stats");
    writeFileSync(file, "earlier\n");
    expectSuccess(
      await captive(
        server,
        [
          "--filter=stats",
          "memory",
          "1M",
          `statsfile=${file}`,
          "statsthreshold=0",
          "statsappend=true",
        ],
        `nbdsh -u "$uri" -c 'h.pread(512, 0); h.pwrite(b"y" * 2048, 4096)'`,
      ),
    );
    expect(masked(readFileSync(file, "utf8"))).toBe(
      "earlier\n" +
        "total: 2 ops, T s, 2.50 KiB, R/s\n" +
        "read: 1 ops, T s, 512 bytes, R/s op, R/s total\n" +
        "write: 1 ops, T s, 2.00 KiB, R/s op, R/s total\n",
    );
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    const refused = (...params: string[]) =>
      refusedStart(server, ["--filter=stats", "null", ...params]);
    expect(await refused()).toContain("stats filter requires statsfile parameter");
    expect(await refused("statsfile=/nonexistent/dir/stats")).toContain(
      "open: /nonexistent/dir/stats: No such file or directory",
    );
    expect(await refused("statsfile=/tmp/x", "statsthreshold=101")).toContain(
      "statsthreshold must be between 0 and 100 (percent)",
    );
    expect(await refused("statsfile=/tmp/x", "statsthreshold=x")).toContain(
      "printing threshold: empty string where we expected a number",
    );
    // nbdts adds a line for statslisten= (filter-stats-serves-live-metrics-to-prometheus).
    const help = (await filterHelp(server, "stats")).split("\n").slice(0, 2);
    expect(help).toEqual([
      "statsfile=<FILE>    (required) The file to place the log in.",
      "statsappend=<BOOL>  True to append to the log (default false).",
    ]);
  });
});
