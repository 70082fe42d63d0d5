/**
 * --filter=time-limit (man nbdkit-time-limit-filter): a client may stay connected for
 * `time-limit=` at most (nbdkit_parse_delay's forms: 1.5, 500ms, …); a request that comes
 * later is refused and the connection dropped, while requests within the limit are served.
 * nbdkit 1.32.5 lacks this filter (it came in nbdkit 1.42), so these tests follow its manual
 * and run against nbdts alone. Timing is checked one way only: a request well past the limit
 * is refused; none is expected to be refused early.
 */

import { describe, expect, test } from "vitest";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name !== "nbdkit");

if (ours.length === 0) test.skip("time-limit filter: no nbdts server is selected", () => {});

describe.each(ours)("time-limit filter ($name)", (server) => {
  test("requests within the limit are served; one past it drops the connection", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=time-limit", "memory", "1M", "time-limit=1.5"],
      `
      import time
      h = connect()
      first = outcome(lambda: h.pread(512, 0))
      time.sleep(2.0)
      late = outcome(lambda: h.pread(512, 0))
      again = outcome(lambda: h.pread(512, 0))
      fresh = connect()
      report(first=first, late=late, again=again, fresh=outcome(lambda: fresh.pread(512, 0)))
    `,
    );
    expect(result.first).toBe("ok");
    expect(result.late).not.toBe("ok");
    expect(result.again).not.toBe("ok"); // the connection is gone
    expect(result.fresh).toBe("ok"); // each connection has its own limit
  });

  test("time-limit=0 sets no limit", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=time-limit", "memory", "1M", "timelimit=0"],
      `
      import time
      h = connect()
      time.sleep(0.3)
      report(read=outcome(lambda: h.pread(512, 0)))
    `,
    );
    expect(result).toEqual({ read: "ok" });
  });

  test("a time that is no delay is refused; --help shows no parameters, as nbdkit's", async () => {
    expect(await refusedStart(server, ["--filter=time-limit", "null", "time-limit=soon"]))
      .toContain("time-limit: could not parse delay: 'soon'");
    expect(await filterHelp(server, "time-limit")).toBe("");
  });
});
