/**
 * NBD_CMD_BLOCK_STATUS with the base:allocation context, with and without REQ_ONE, follows
 * the spec's shape rules and tells written data from holes on a memory disk.
 */

import { describe, expect, test } from "vitest";
import { type Descriptor, mapProblems, STATE, statusAt, toMap } from "../helpers/extents.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;

describe.each(servers)("block status reports allocation ($name)", (server) => {
  test("base:allocation is negotiated when asked for", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      plain = connect()
      report(asked=h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
             not_asked=plain.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
    `,
    );
    expect(result).toEqual({ asked: true, not_asked: false });
  });

  test("an untouched disk is reported as a hole that reads as zeroes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      report(small=extents(h, 100, 0), whole=extents(h, 8 * 1024 * 1024, 0), tail=extents(h, 512, 8 * 1024 * 1024 - 512))
    `,
    );
    const small = result.small as Descriptor[];
    expect(mapProblems(toMap(small), 0, 8 * MiB)).toEqual([]);
    expect(small[0]![0]).toBeGreaterThanOrEqual(1);
    expect(small[0]![1]).toBe(STATE.HOLE | STATE.ZERO);
    const whole = toMap(result.whole as Descriptor[]);
    expect(mapProblems(whole, 0, 8 * MiB)).toEqual([]);
    expect(whole.every((entry) => entry.type === (STATE.HOLE | STATE.ZERO))).toBe(true);
    expect(result.tail).toEqual([[512, STATE.HOLE | STATE.ZERO]]);
  });

  test("written ranges are data and untouched ranges far away are holes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.pwrite(b"x" * 4096, 2 * 1024 * 1024)
      h.pwrite(b"y", 6 * 1024 * 1024 + 3)
      report(whole=extents(h, 8 * 1024 * 1024, 0), from_written=extents(h, 100, 2 * 1024 * 1024))
    `,
    );
    const map = toMap(result.whole as Descriptor[]);
    expect(mapProblems(map, 0, 8 * MiB)).toEqual([]);
    for (const offset of [2 * MiB, 2 * MiB + 4095, 6 * MiB + 3]) {
      expect(statusAt(map, offset)).toBe(0);
    }
    for (const offset of [0, MiB, 4 * MiB, 8 * MiB - 1]) {
      expect(statusAt(map, offset)).toBe(STATE.HOLE | STATE.ZERO);
    }
    const fromWritten = result.from_written as Descriptor[];
    expect(fromWritten[0]![1]).toBe(0);
  });

  test("with REQ_ONE the reply is one descriptor no longer than the request", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.pwrite(b"x" * 4096, 2 * 1024 * 1024)
      report(
          hole=extents(h, 100, 0, nbd.CMD_FLAG_REQ_ONE),
          data=extents(h, 100, 2 * 1024 * 1024, nbd.CMD_FLAG_REQ_ONE),
          spanning=extents(h, 4 * 1024 * 1024, 0, nbd.CMD_FLAG_REQ_ONE),
      )
    `,
    );
    const cases: [unknown, number, number][] = [
      [result.hole, 100, STATE.HOLE | STATE.ZERO],
      [result.data, 100, 0],
      [result.spanning, 2 * MiB, STATE.HOLE | STATE.ZERO],
    ];
    for (const [descriptors, maxLength, status] of cases) {
      const list = descriptors as Descriptor[];
      expect(list).toHaveLength(1);
      expect(list[0]![0]).toBeGreaterThan(0);
      expect(list[0]![0]).toBeLessThanOrEqual(maxLength);
      expect(list[0]![1]).toBe(status);
    }
  });

  test("without REQ_ONE all but the last descriptor lie inside the request", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      for i in range(8):
          h.pwrite(b"z" * 512, i * 1024 * 1024)
      report(descriptors=extents(h, 3 * 1024 * 1024, 512 * 1024))
    `,
    );
    const descriptors = result.descriptors as Descriptor[];
    expect(mapProblems(toMap(descriptors, 512 * 1024), 512 * 1024, 8 * MiB)).toEqual([]);
    const allButLast = descriptors.slice(0, -1).reduce((sum, [length]) => sum + length, 0);
    expect(allButLast).toBeLessThan(3 * MiB);
  });
});
