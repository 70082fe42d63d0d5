/**
 * --filter=noparallel (man nbdkit-noparallel-filter) serves with a stricter thread model than
 * the plugin's: `serialize=requests` (the default), `all-requests` or `connections`
 * (`serialise=` too). --dump-plugin reports the stack's thread model as nbdkit does; with
 * connections serialized, multi-conn is no longer offered, and a second client waits until the
 * first leaves: it connects only after the first disconnects.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer } from "../helpers/captive.ts";
import { filterHelp, refusedStart, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

async function threadModel(server: (typeof servers)[number], params: readonly string[]) {
  const result = expectSuccess(
    await runServer(server, ["--filter=noparallel", "memory", "1M", ...params, "--dump-plugin"]),
  );
  return /^thread_model=(.*)$/m.exec(result.stdout)?.[1];
}

describe.each(servers)("noparallel filter ($name)", (server) => {
  test("--dump-plugin shows the serialized thread model", async () => {
    expect(await threadModel(server, [])).toBe("serialize_requests");
    expect(await threadModel(server, ["serialize=requests"])).toBe("serialize_requests");
    expect(await threadModel(server, ["serialize=all-requests"])).toBe("serialize_all_requests");
    expect(await threadModel(server, ["serialise=all_requests"])).toBe("serialize_all_requests");
    expect(await threadModel(server, ["serialize=connections"])).toBe("serialize_connections");
  });

  test("serialize=connections takes multi-conn away and makes a second client wait", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=noparallel", "memory", "1M", "serialize=connections"],
      withFlags(`
      import threading
      first = connect()
      events = []
      def second():
          h = connect()
          events.append("second connected")
          h.shutdown()
      thread = threading.Thread(target=second)
      thread.start()
      thread.join(1.0)
      events.append("first leaves")
      multi_conn = flags(first)["multi_conn"]
      first.shutdown()
      thread.join()
      report(multi_conn=multi_conn, events=events)
    `),
    );
    expect(result).toEqual({ multi_conn: false, events: ["first leaves", "second connected"] });
    const parallel = await libnbd(
      server,
      ["--filter=noparallel", "memory", "1M"],
      withFlags("report(multi_conn=flags(connect())['multi_conn'])"),
    );
    expect(parallel).toEqual({ multi_conn: true });
  });

  test("a bad mode is refused, and --help shows nbdkit's parameters", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await refusedStart(server, ["--filter=noparallel", "null", "serialize=x"])).toContain(
      "unknown noparallel serialize mode 'x'",
    );
    expect(await filterHelp(server, "noparallel")).toBe(
      "serialize=<MODE>      'requests' (default), 'all-requests', or 'connections'.",
    );
    expectSuccess(await captive(server, ["--filter=noparallel", "memory", "1M"], 'nbdinfo "$uri"'));
  });
});
