/**
 * --filter=retry-request (man nbdkit-retry-request-filter): a request that fails is made again
 * on the same connection, `retry-request-delay=` seconds later, up to `retry-request-retries=`
 * times, without reopening the plugin; opening the plugin is retried too, unless
 * `retry-request-open=false`. The fault plugin's exports "flaky" and "flaky-open" fail as many
 * reads, writes or opens as the test asks (test/fixtures/fault-plugin.*).
 */

import { writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { faultPlugin } from "../helpers/fault-plugin.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const FAST = "retry-request-delay=1";

describe.each(servers)("retry-request filter ($name)", (server) => {
  test("a read failing twice is made again on the same connection and succeeds", async (context) => {
    requireClients(context, "nbdsh");
    const fault = faultPlugin(server);
    const result = await libnbd(
      server,
      ["--filter=retry-request", ...fault.argv, FAST],
      `
      h = connect(export="flaky")
      h.pwrite(b"again", 0)
      open(${JSON.stringify(fault.fails)}, "w").write("2\\n")
      data = bytes(h.pread(5, 0)).decode()
      open(${JSON.stringify(fault.fails)}, "w").write("3\\n")
      failed = outcome(lambda: h.pread(5, 0))
      h.shutdown()
      report(data=data, failed=failed)
    `,
    );
    // Two retries by default: two failures are survived, a third reaches the client.
    expect(result).toEqual({ data: "again", failed: "EIO" });
    expect(fault.events().filter((line) => line.endsWith(" flaky"))).toEqual([
      "open flaky",
      "close flaky",
    ]);
  });

  test("opening the plugin is retried, unless retry-request-open=false", async (context) => {
    requireClients(context, "nbdsh");
    const fault = faultPlugin(server);
    const open = async (extra: string[]) => {
      writeFileSync(fault.fails, "1\n");
      return await libnbd(
        server,
        ["--filter=retry-request", ...fault.argv, FAST, ...extra],
        `
        report(opened=outcome(lambda: connect(export="flaky-open")))
      `,
      );
    };
    expect(await open([])).toEqual({ opened: "ok" });
    expect((await open(["retry-request-open=false"])).opened).not.toBe("ok");
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    const refused = (param: string) =>
      refusedStart(server, ["--filter=retry-request", "null", param]);
    expect(await refused("retry-request-retries=1001")).toContain(
      "retry-request-retries: value too large",
    );
    expect(await refused("retry-request-delay=0")).toContain("retry-request-delay cannot be 0");
    expect(await refused("retry-request-open=x")).toContain("could not decipher boolean (x)");
    expect(await filterHelp(server, "retry-request")).toBe(
      "retry-request-retries=<N> Number of retries (default: 2).\n" +
        "retry-request-delay=<N>   Seconds to wait before retry (default: 2).\n" +
        "retry-request-open=false  Do not retry opening the plugin (default: true).",
    );
  });
});
