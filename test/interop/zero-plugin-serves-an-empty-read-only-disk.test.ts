/**
 * The zero plugin: a read-only disk of zero bytes that takes no parameters at all.
 */

import { describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("zero plugin serves an empty read-only disk ($name)", (server) => {
  test("zero is a read-only disk of 0 bytes, shareable and cacheable", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["zero"],
      `
      h = connect()
      report(size=h.get_size(), read_only=h.is_read_only(), multi_conn=h.can_multi_conn(),
             cache=h.can_cache(), flush=h.can_flush(), trim=h.can_trim(), zero=h.can_zero())
    `,
    );
    expect(result).toEqual({
      size: 0,
      read_only: true,
      multi_conn: true,
      cache: true,
      flush: false,
      trim: false,
      zero: false,
    });
  });

  test("zero refuses any parameter", async () => {
    const result = await captive(server, ["zero", "size=1M"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/this plugin does not need command line configuration/);
  });
});
