/**
 * The ones plugin (nbdkit-ones-plugin(1)): every byte reads as 0xff, or as `byte=N`
 * (decimal, 0x hex or 0 octal, as nbdkit_parse_uint8_t reads it), and whatever is written,
 * zeroed or trimmed is thrown away. nbdkit 1.32.5, the oracle, has no ones plugin (it came in
 * nbdkit 1.36), so these tests run against nbdts alone; what they check is its manual page.
 */

import { describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name !== "nbdkit");

describe.each(ours)("the ones plugin reads one byte everywhere ($name)", (server) => {
  test("0xff by default; writes, zeroes and trims change nothing", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["ones", "1M"],
      `
      h = connect()
      before = bytes(h.pread(4096, 65536))
      h.pwrite(b"\\0" * 4096, 65536)
      h.zero(4096, 65536)
      h.trim(4096, 65536)
      h.flush()
      report(size=h.get_size(), before=before == b"\\xff" * 4096,
             after=bytes(h.pread(4096, 65536)) == b"\\xff" * 4096,
             read_only=h.is_read_only(), multi_conn=h.can_multi_conn(), cache=h.can_cache())
    `,
    );
    expect(result).toEqual({
      size: 1048576,
      before: true,
      after: true,
      read_only: false,
      multi_conn: true,
      cache: true,
    });
  });

  test("byte=N in decimal, hex or octal; no size is an empty disk", async (context) => {
    requireClients(context, "nbdsh");
    for (const byte of ["85", "0x55", "0125"]) {
      const result = await libnbd(
        server,
        ["ones", "size=512", `byte=${byte}`],
        `h = connect()\nreport(data=bytes(h.pread(512, 0)).hex())`,
      );
      expect(result.data).toBe("55".repeat(512));
    }
    const empty = await libnbd(server, ["ones"], `h = connect()\nreport(size=h.get_size())`);
    expect(empty.size).toBe(0);
  });

  test("a byte over 255 or an unknown parameter is one line", async () => {
    const big = await captive(server, ["ones", "1M", "byte=256"], "true");
    expect(big.status).toBe(1);
    expect(big.stderr).toMatch(
      /error: byte: could not parse number: "256": Numerical result out of range/,
    );
    const unknown = await captive(server, ["ones", "1M", "colour=blue"], "true");
    expect(unknown.stderr).toMatch(/error: unknown parameter 'colour'/);
  });
});
