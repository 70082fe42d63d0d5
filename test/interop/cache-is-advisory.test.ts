/**
 * NBD_CMD_CACHE is advertised by memory, null and pattern, succeeds, and changes nothing.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("cache is advisory ($name)", (server) => {
  test("cache succeeds on a memory disk and the data is unchanged", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.pwrite(b"cached", 512)
      report(can_cache=h.can_cache(), whole=outcome(lambda: h.cache(1024 * 1024, 0)),
             part=outcome(lambda: h.cache(10, 510)), data=bytes(h.pread(6, 512)).decode())
    `,
    );
    expect(result).toEqual({ can_cache: true, whole: "ok", part: "ok", data: "cached" });
  });

  test.for([["null", "1M"], ["pattern", "1M"]] as const)(
    "cache succeeds on a %s disk",
    async ([plugin, size], context) => {
      requireClients(context, "nbdsh");
      const result = await libnbd(
        server,
        [plugin, size],
        `
      h = connect()
      report(can_cache=h.can_cache(), result=outcome(lambda: h.cache(65536, 4096)))
    `,
      );
      expect(result).toEqual({ can_cache: true, result: "ok" });
    },
  );
});
