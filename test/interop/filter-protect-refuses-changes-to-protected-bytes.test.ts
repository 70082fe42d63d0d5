/**
 * --filter=protect (man nbdkit-protect-filter): protect=START-END (repeatable; ~ for the
 * bytes outside) refuses with EPERM any write, trim or zero that would change a protected
 * byte, and lets through one that leaves it as it is. Same outcomes, bytes, flags and
 * messages as nbdkit, in the cases nbdkit 1.32.5 survives: it crashes on a trim or zero that
 * starts outside a protected range and reaches into one, and lets through writes into a range
 * given inside a larger one (protect-ranges.ts says more); unit tests cover those here.
 */

import { describe, expect, test } from "vitest";
import { filterHelp, PATTERN_FLAGS, refusedStart, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const PROTECT = ["--filter=protect", "memory", "1M", "protect=100-199", "protect=~0-1000"];

describe.each(servers)("protect filter ($name)", (server) => {
  test("changing a protected byte is EPERM; rewriting it as it is, or unprotected bytes, is not", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      PROTECT,
      `
      h = connect()
      outcomes = [outcome(lambda: h.pwrite(b"a" * 50, 0)),
                  outcome(lambda: h.pwrite(b"a" * 50, 150)),
                  outcome(lambda: h.pwrite(bytes(50), 150)),
                  outcome(lambda: h.pwrite(b"b", 1000)),
                  outcome(lambda: h.pwrite(b"b", 1001)),
                  outcome(lambda: h.pwrite(bytes(4096), 4096)),
                  outcome(lambda: h.pwrite(b"c" * 2000, 0))]
      report(outcomes=outcomes, bytes=bytes(h.pread(4, 48)).hex() + bytes(h.pread(2, 999)).hex())
    `,
    );
    expect(result).toEqual({
      outcomes: ["ok", "EPERM", "ok", "ok", "EPERM", "ok", "EPERM"],
      bytes: "61610000" + "0062",
    });
  });

  test("trim and zero of protected bytes pass where they read as zero, else EPERM", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=protect", "data", "@8192 0x78", "size=1M", "protect=100-199", "protect=4096-"],
      `
      h = connect()
      outcomes = [outcome(lambda: h.trim(100, 0)),
                  outcome(lambda: h.zero(50, 120)),
                  outcome(lambda: h.zero(100, 150)),
                  outcome(lambda: h.trim(4096, 4096)),
                  outcome(lambda: h.zero(4096, 8192)),
                  outcome(lambda: h.zero(4096, 8192, nbd.CMD_FLAG_FAST_ZERO))]
      report(outcomes=outcomes, kept=bytes(h.pread(1, 8192)).hex())
    `,
    );
    expect(result).toEqual({
      outcomes: ["ok", "ok", "ok", "ok", "EPERM", "EPERM"],
      kept: "78",
    });
  });

  test("the flags are the plugin's, and reads are untouched", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=protect", "pattern", "1M", "protect=0-511"],
      withFlags(`
      h = connect()
      report(flags=flags(h), word=bytes(h.pread(8, 256)).hex())
    `),
    );
    expect(result).toEqual({
      flags: PATTERN_FLAGS,
      word: "0000000000000100",
    });
  });

  test("bad ranges are refused at start-up with nbdkit's messages; --help as nbdkit", async () => {
    const refusal = (range: string) =>
      refusedStart(server, ["--filter=protect", "memory", "1M", range]);
    expect(await refusal("protect=5")).toContain("cannot parse range, missing '-': 5");
    expect(await refusal("protect=5-3")).toContain("invalid range, end < start: 5-3");
    expect(await refusal("protect=x-3")).toContain(
      "range: empty string where we expected a number",
    );
    expect(await refusal("protect=-1-3")).toContain(
      'range: could not parse number: "1-3": trailing garbage',
    );
    expect(await filterHelp(server, "protect")).toBe(
      "protect=<START>-<END>      Protect range of bytes START-END (inclusive).",
    );
  });
});
