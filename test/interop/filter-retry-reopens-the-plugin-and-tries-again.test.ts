/**
 * --filter=retry (man nbdkit-retry-filter): a request that fails is tried again after closing
 * and reopening the plugin, `retry-delay=` seconds later (doubling unless
 * `retry-exponential=no`), up to `retries=` times; then the error reaches the client. With
 * `retry-readonly=true` the plugin is reopened read-only and writes fail with EROFS from then
 * on. The fault plugin's export "flaky" fails as many reads and writes as the test asks
 * (test/fixtures/fault-plugin.*), and logs each open and close, so the reopens are seen.
 */

import { describe, expect, test } from "vitest";
import { faultPlugin } from "../helpers/fault-plugin.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** One-second waits, not doubling: the shortest nbdkit allows. */
const FAST = ["retry-delay=1", "retry-exponential=no"];

/** Python: the next `n` calls of the flaky export fail (the fault plugin's fails=FILE). */
function failNext(fails: string, n: number): string {
  return `open(${JSON.stringify(fails)}, "w").write("${n}\\n")`;
}

describe.each(servers)("retry filter ($name)", (server) => {
  test("a read failing twice is retried on a reopened plugin and succeeds", async (context) => {
    requireClients(context, "nbdsh");
    const fault = faultPlugin(server);
    const result = await libnbd(
      server,
      ["--filter=retry", ...fault.argv, ...FAST],
      `
      h = connect(export="flaky")
      h.pwrite(b"retried", 0)
      ${failNext(fault.fails, 2)}
      data = bytes(h.pread(7, 0)).decode()
      h.shutdown()
      report(data=data)
    `,
    );
    expect(result).toEqual({ data: "retried" });
    expect(fault.events().filter((line) => line.endsWith(" flaky"))).toEqual([
      "open flaky",
      "close flaky",
      "open flaky",
      "close flaky",
      "open flaky",
      "close flaky",
    ]);
  });

  test("once the retries are used up the error reaches the client, and the next request works", async (context) => {
    requireClients(context, "nbdsh");
    const fault = faultPlugin(server);
    const result = await libnbd(
      server,
      ["--filter=retry", ...fault.argv, ...FAST, "retries=2"],
      `
      h = connect(export="flaky")
      ${failNext(fault.fails, 5)}
      failed = outcome(lambda: h.pread(512, 0))
      ${failNext(fault.fails, 0)}
      after = outcome(lambda: h.pread(512, 0))
      h.shutdown()
      report(failed=failed, after=after)
    `,
    );
    expect(result).toEqual({ failed: "EIO", after: "ok" });
    // The first open, then one reopen per retry.
    expect(fault.events().filter((line) => line === "open flaky")).toHaveLength(3);
  });

  test("retry-readonly=true reopens read-only: the failed write then gets EROFS (EPERM), reads work", async (context) => {
    requireClients(context, "nbdsh");
    const fault = faultPlugin(server);
    const result = await libnbd(
      server,
      ["--filter=retry", ...fault.argv, ...FAST, "retry-readonly=true"],
      `
      h = connect(export="flaky")
      h.pwrite(b"before", 0)
      ${failNext(fault.fails, 1)}
      write = outcome(lambda: h.pwrite(b"after!", 0))
      data = bytes(h.pread(6, 0)).decode()
      again = outcome(lambda: h.pwrite(b"after!", 0))
      h.shutdown()
      report(write=write, data=data, again=again)
    `,
    );
    // EROFS goes on the wire as NBD_EPERM.
    expect(result).toEqual({ write: "EPERM", data: "before", again: "EPERM" });
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    const refused = (param: string) => refusedStart(server, ["--filter=retry", "null", param]);
    expect(await refused("retries=x")).toContain("retries: empty string where we expected");
    expect(await refused("retries=-1")).toContain("retries: negative numbers are not allowed");
    expect(await refused("retry-delay=0")).toContain("retry-delay cannot be 0");
    expect(await refused("retry-exponential=maybe")).toContain(
      "could not decipher boolean (maybe)",
    );
    expect(await filterHelp(server, "retry")).toBe(
      "retries=<N>              Number of retries (default: 5).\n" +
        "retry-delay=<N>          Seconds to wait before retry (default: 2).\n" +
        "retry-exponential=yes|no Exponential back-off (default: yes).\n" +
        "retry-readonly=yes|no    Force read-only on failure (default: no).",
    );
  });
});
