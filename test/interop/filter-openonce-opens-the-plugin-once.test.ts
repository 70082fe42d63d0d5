/**
 * --filter=openonce (man nbdkit-openonce-filter): the plugin is opened once per export and
 * every connection to that export is served through it, until the server exits. nbdkit 1.32.5
 * lacks this filter (it came in nbdkit 1.44), so these tests follow its manual and run against
 * nbdts alone. The fault plugin logs each open and close (test/fixtures/fault-plugin.ts).
 */

import { describe, expect, test } from "vitest";
import { faultPlugin } from "../helpers/fault-plugin.ts";
import { filterHelp } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name !== "nbdkit");

if (ours.length === 0) test.skip("openonce filter: no nbdts server is selected", () => {});

describe.each(ours)("openonce filter ($name)", (server) => {
  test("connections to one export share one open of the plugin, closed at exit", async (context) => {
    requireClients(context, "nbdsh");
    const fault = faultPlugin(server);
    const result = await libnbd(
      server,
      ["--filter=openonce", ...fault.argv],
      `
      a = connect()
      a.pwrite(b"shared", 0)
      a.shutdown()
      b, c = connect(), connect()
      seen = bytes(c.pread(6, 0)).decode()
      d = connect(export="slow")
      b.shutdown(); c.shutdown(); d.shutdown()
      log = open(${JSON.stringify(fault.eventsFile)}).read().split("\\n")
      report(seen=seen, during=[line for line in log if line.startswith(("open", "close"))])
    `,
    );
    expect(result).toEqual({ seen: "shared", during: ["open ", "open slow"] });
    // Both are closed only when the server exits.
    expect(fault.events().filter((line) => line.startsWith("close"))).toHaveLength(2);
  });

  test("--help shows no parameters, as nbdkit's", async () => {
    expect(await filterHelp(server, "openonce")).toBe("");
  });
});
