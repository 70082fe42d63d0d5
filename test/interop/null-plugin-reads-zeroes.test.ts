/**
 * The null plugin: a disk of the given size that reads as zeroes, accepts and discards
 * writes, and reports itself as one hole.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("null plugin reads zeroes ($name)", (server) => {
  test("null 1M reads zeroes and accepts every write-type command", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["null", "1M"],
      `
      h = connect()
      results = [
          outcome(lambda: h.pwrite(b"discarded", 0)),
          outcome(lambda: h.pwrite(b"\\xff" * 65536, 65536, nbd.CMD_FLAG_FUA)),
          outcome(lambda: h.zero(4096, 0)),
          outcome(lambda: h.trim(4096, 8192)),
          outcome(lambda: h.flush()),
      ]
      report(size=h.get_size(), results=results,
             zero=bytes(h.pread(1024 * 1024, 0)) == bytes(1024 * 1024))
    `,
    );
    expect(result).toEqual({ size: 1048576, results: ["ok", "ok", "ok", "ok", "ok"], zero: true });
  });

  test("the null disk is mapped as one hole that reads as zeroes", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["null", "1M"], 'nbdinfo --map --json "$uri"'),
    );
    expect(JSON.parse(stdout)).toEqual([{
      offset: 0,
      length: 1048576,
      type: 3,
      description: "hole,zero",
    }]);
  });

  test("null without a size serves an empty disk", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(await captive(server, ["null"], 'nbdinfo --size "$uri"'));
    expect(stdout.trim()).toBe("0");
  });
});
