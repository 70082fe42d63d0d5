/**
 * After writes, trims and zero requests (nbdsh), nbdinfo --map and --map --totals of a memory or
 * data disk print what they print for nbdkit, byte for byte. nbdkit's sparse allocator works in
 * 32 KiB pages: a write allocates the pages it touches, even with zeroes ("zero", not a hole);
 * a trim or zero frees each page it leaves all zero; a page with any data left is data.
 * allocator=malloc reports everything as data. The expected outputs are nbdkit 1.32.5's, which
 * runs every case too.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess, shellQuote } from "../helpers/captive.ts";
import { MAP_AND_TOTALS, mapAndTotals } from "../helpers/nbdinfo-map.ts";
import { requireClients, servers } from "../helpers/servers.ts";

interface Case {
  /** What the case shows. */
  readonly name: string;
  /** The plugin and its arguments. */
  readonly plugin: readonly string[];
  /** Python for nbdsh, with `h` connected. */
  readonly requests: string;
  /** What MAP_AND_TOTALS prints. */
  readonly expected: string;
}

/** A 1 MiB disk of holes, which several cases below end with. */
const ALL_HOLE = mapAndTotals(
  `
         0     1048576    3  hole,zero
`,
  `
   1048576 100.0%   3 hole,zero
`,
);

const CASES: readonly Case[] = [
  {
    name: "trimming part of a page leaves the page as data",
    plugin: ["memory", "1M"],
    requests: 'h.pwrite(b"\\1" * 10, 5000); h.trim(4096, 0)',
    expected: mapAndTotals(
      `
         0       32768    0  data
     32768     1015808    3  hole,zero
`,
      `
     32768   3.1%   0 data
   1015808  96.9%   3 hole,zero
`,
    ),
  },
  {
    name: "trimming the last data of a page frees it",
    plugin: ["memory", "1M"],
    requests: 'h.pwrite(b"\\1" * 10, 5000); h.trim(4096, 4096)',
    expected: ALL_HOLE,
  },
  {
    name: "zeroes written keep their page, which a zero elsewhere does not free",
    plugin: ["memory", "1M"],
    requests: "h.pwrite(bytes(10), 5000); h.zero(1, 40000)",
    expected: mapAndTotals(
      `
         0       32768    2  zero
     32768     1015808    3  hole,zero
`,
      `
     32768   3.1%   2 zero
   1015808  96.9%   3 hole,zero
`,
    ),
  },
  {
    name: "a zero request in a page of written zeroes frees it",
    plugin: ["memory", "1M"],
    requests: "h.pwrite(bytes(10), 5000); h.zero(1, 100)",
    expected: ALL_HOLE,
  },
  {
    name: "64 KiB of zeroes written across three pages",
    plugin: ["memory", "1M"],
    requests: "h.pwrite(bytes(65536), 16384)",
    expected: mapAndTotals(
      `
         0       98304    2  zero
     98304      950272    3  hole,zero
`,
      `
     98304   9.4%   2 zero
    950272  90.6%   3 hole,zero
`,
    ),
  },
  {
    name: "zeroing a whole page in the middle of data",
    plugin: ["memory", "1M"],
    requests: 'h.pwrite(b"\\1" * 65536, 16384); h.zero(32768, 32768)',
    expected: mapAndTotals(
      `
         0       32768    0  data
     32768       32768    3  hole,zero
     65536       32768    0  data
     98304      950272    3  hole,zero
`,
      `
     65536   6.2%   0 data
    983040  93.8%   3 hole,zero
`,
    ),
  },
  {
    name: "zeroes written over part of the data",
    plugin: ["memory", "1M"],
    requests: 'h.pwrite(b"\\1" * 65536, 16384); h.pwrite(bytes(4096), 16384)',
    expected: mapAndTotals(
      `
         0       98304    0  data
     98304      950272    3  hole,zero
`,
      `
     98304   9.4%   0 data
    950272  90.6%   3 hole,zero
`,
    ),
  },
  {
    name: "a disk of written zeroes, then a trim across pages",
    plugin: ["memory", "1M"],
    requests: "h.pwrite(bytes(1048576), 0); h.trim(65536, 65636)",
    expected: mapAndTotals(
      `
         0       65536    2  zero
     65536       98304    3  hole,zero
    163840      884736    2  zero
`,
      `
    950272  90.6%   2 zero
     98304   9.4%   3 hole,zero
`,
    ),
  },
  {
    name: "zero requests free pages with or without NO_HOLE and FAST_ZERO",
    plugin: ["memory", "1M"],
    requests: 'h.pwrite(b"\\1" * 32768, 0); h.zero(32768, 0, nbd.CMD_FLAG_NO_HOLE); ' +
      'h.pwrite(b"\\1", 70000); h.zero(40000, 60000, nbd.CMD_FLAG_FAST_ZERO)',
    expected: ALL_HOLE,
  },
  {
    name: "the last, partial page of a disk holds data",
    plugin: ["memory", "100000"],
    requests: 'h.pwrite(b"\\1", 99999); h.pwrite(bytes(1), 40000)',
    expected: mapAndTotals(
      `
         0       32768    3  hole,zero
     32768       32768    2  zero
     65536       32768    3  hole,zero
     98304        1696    0  data
`,
      `
      1696   1.7%   0 data
     32768  32.8%   2 zero
     65536  65.5%   3 hole,zero
`,
    ),
  },
  {
    name: "the last, partial page of a disk holds written zeroes",
    plugin: ["memory", "100000"],
    requests: "h.pwrite(bytes(1), 99999)",
    expected: mapAndTotals(
      `
         0       98304    3  hole,zero
     98304        1696    2  zero
`,
      `
      1696   1.7%   2 zero
     98304  98.3%   3 hole,zero
`,
    ),
  },
  {
    name: "allocator=malloc reports everything as data, trimmed or not",
    plugin: ["memory", "1M", "allocator=malloc"],
    requests: 'h.pwrite(b"\\1" * 512, 0); h.trim(65536, 0)',
    expected: mapAndTotals(
      `
         0     1048576    0  data
`,
      `
   1048576 100.0%   0 data
`,
    ),
  },
  {
    name: "a data disk takes writes, trims and zeroes as the memory disk does",
    plugin: ["data", "1 @131072 2", "size=1M"],
    requests: 'h.pwrite(bytes(10), 500000); h.trim(32768, 131072); h.pwrite(b"\\3", 32768)',
    expected: mapAndTotals(
      `
         0       65536    0  data
     65536      425984    3  hole,zero
    491520       32768    2  zero
    524288      524288    3  hole,zero
`,
      `
     65536   6.2%   0 data
     32768   3.1%   2 zero
    950272  90.6%   3 hole,zero
`,
    ),
  },
];

describe.each(servers)("nbdinfo --map after writes, trims and zeroes matches nbdkit ($name)", (
  server,
) => {
  test.for(CASES)("$name", async ({ plugin, requests, expected }, context) => {
    requireClients(context, "nbdinfo", "nbdsh");
    const script = `nbdsh -u "$uri" -c ${shellQuote(requests)} && ${MAP_AND_TOTALS}`;
    const { stdout } = expectSuccess(await captive(server, plugin, script));
    expect(stdout).toBe(expected);
  });
});
