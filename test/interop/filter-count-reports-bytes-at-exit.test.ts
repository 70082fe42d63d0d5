/**
 * --filter=count (man nbdkit-count-filter): the bytes read, written, zeroed and trimmed by
 * requests that succeeded, printed as a debug line when the server exits. nbdkit 1.32.5 lacks
 * this filter (it came in nbdkit 1.46), so these tests follow its manual and run against nbdts
 * alone.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { filterHelp } from "../helpers/filters.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name !== "nbdkit");

if (ours.length === 0) test.skip("count filter: no nbdts server is selected", () => {});

describe.each(ours)("count filter ($name)", (server) => {
  test("each kind of request is counted in bytes, failed ones not, and shown with -v at exit", async (context) => {
    requireClients(context, "nbdsh");
    const result = expectSuccess(
      await captive(
        server,
        ["--filter=count", "--filter=error", "memory", "1M", "error-trim-rate=1"],
        `nbdsh -u "$uri" -c '
h.pwrite(b"x" * 1024, 0)
h.pread(512, 0)
h.pread(4096, 8192)
h.zero(65536, 0)
try:
    h.trim(4096, 0)
except nbd.Error:
    pass
'`,
        { serverOptions: ["-v"] },
      ),
    );
    expect(result.stderr).toContain(
      "count bytes: read 4608, written 1024, zeroed 65536, trimmed 0",
    );
  });

  test("without -v nothing is printed, and --help shows no parameters", async (context) => {
    requireClients(context, "nbdinfo");
    const result = expectSuccess(
      await captive(server, ["--filter=count", "memory", "1M"], 'nbdinfo --size "$uri"'),
    );
    expect(result.stderr).not.toContain("count bytes");
    expect(await filterHelp(server, "count")).toBe("");
  });
});
