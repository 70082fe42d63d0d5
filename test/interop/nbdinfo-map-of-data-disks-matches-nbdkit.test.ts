/**
 * nbdinfo --map and --map --totals of a data disk print what they print for nbdkit, byte for
 * byte: extents come in nbdkit's 32 KiB pages, a page holding only zeroes that the expression
 * wrote is "zero" (allocated) while one it never wrote, or filled or copied zeroes into, is a
 * hole, and the disk's last page counts bytes stored past its end. allocator=malloc reports
 * everything as data. The expected outputs are nbdkit 1.32.5's, which runs every case too.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { MAP_AND_TOTALS, mapAndTotals } from "../helpers/nbdinfo-map.ts";
import { requireClients, servers } from "../helpers/servers.ts";

interface Case {
  /** What the case shows. */
  readonly name: string;
  /** The plugin's arguments after "data". */
  readonly args: readonly string[];
  /** What MAP_AND_TOTALS prints. */
  readonly expected: string;
}

/** The outputs several 256 KiB disks below share. */
const ONE_ZERO_PAGE = mapAndTotals(
  `
         0       32768    2  zero
     32768      229376    3  hole,zero
`,
  `
     32768  12.5%   2 zero
    229376  87.5%   3 hole,zero
`,
);
const ALL_HOLE = mapAndTotals(
  `
         0      262144    3  hole,zero
`,
  `
    262144 100.0%   3 hole,zero
`,
);
const FIRST_PAGE_DATA = mapAndTotals(
  `
         0       32768    0  data
     32768      229376    3  hole,zero
`,
  `
     32768  12.5%   0 data
    229376  87.5%   3 hole,zero
`,
);

const CASES: readonly Case[] = [
  {
    name: "bytes far apart are whole 32 KiB pages of data",
    args: ["1 @131072 2", "size=1M"],
    expected: mapAndTotals(
      `
         0       32768    0  data
     32768       98304    3  hole,zero
    131072       32768    0  data
    163840      884736    3  hole,zero
`,
      `
     65536   6.2%   0 data
    983040  93.8%   3 hole,zero
`,
    ),
  },
  {
    name: "one zero byte written is an allocated zero page",
    args: ["0", "size=256K"],
    expected: ONE_ZERO_PAGE,
  },
  {
    name: "zero bytes that join into a fill of zeroes leave a hole",
    args: ["0 0 0", "size=256K"],
    expected: ALL_HOLE,
  },
  {
    name: "a group spliced into the list writes its zero bytes",
    args: ["(0 @40000 0)", "size=256K"],
    expected: mapAndTotals(
      `
         0       65536    2  zero
     65536      196608    3  hole,zero
`,
      `
     65536  25.0%   2 zero
    196608  75.0%   3 hole,zero
`,
    ),
  },
  {
    name: "offsets that go back still write each byte where it falls",
    args: ["@65536 0 @-65536 1", "size=256K"],
    expected: mapAndTotals(
      `
         0       32768    0  data
     32768       32768    3  hole,zero
     65536       32768    2  zero
     98304      163840    3  hole,zero
`,
      `
     32768  12.5%   0 data
     32768  12.5%   2 zero
    196608  75.0%   3 hole,zero
`,
    ),
  },
  {
    name: "a fill ending inside a page, then an aligned zero byte",
    args: ["(1)*40000 @^32768 0", "size=256K"],
    expected: mapAndTotals(
      `
         0       65536    0  data
     65536       32768    2  zero
     98304      163840    3  hole,zero
`,
      `
     65536  25.0%   0 data
     32768  12.5%   2 zero
    163840  62.5%   3 hole,zero
`,
    ),
  },
  {
    name: "a group copied over a zero page frees it, as nbdkit's blit does",
    args: ["0 @0 (@1)", "size=256K"],
    expected: ALL_HOLE,
  },
  {
    name: "a name copies its data in and frees its zero pages; a zero byte written after stays",
    args: ["(0 @70000 1) -> \\a \\a @0 0", "size=256K"],
    expected: mapAndTotals(
      `
         0       32768    2  zero
     32768       32768    3  hole,zero
     65536       32768    0  data
     98304      163840    3  hole,zero
`,
      `
     32768  12.5%   0 data
     32768  12.5%   2 zero
    196608  75.0%   3 hole,zero
`,
    ),
  },
  {
    name: "words of zeroes are fills of zeroes: holes",
    args: ['"a\\x00\\x00b" @100000 le32:0 @200000 be64:0', "size=256K"],
    expected: FIRST_PAGE_DATA,
  },
  {
    name: "the last page counts a byte stored past the end of the disk",
    args: ["@40000 1", "size=32800"],
    expected: mapAndTotals(
      `
         0       32768    3  hole,zero
     32768          32    0  data
`,
      `
        32   0.1%   0 data
     32768  99.9%   3 hole,zero
`,
    ),
  },
  {
    name: "the last page of a disk whose size is not a multiple of 32 KiB",
    args: ["@131072 0 @131072 1", "size=131100"],
    expected: mapAndTotals(
      `
         0      131072    3  hole,zero
    131072          28    0  data
`,
      `
        28   0.0%   0 data
    131072 100.0%   3 hole,zero
`,
    ),
  },
  {
    name: "repeated zeroes are fills: only the pages with data show",
    args: ["(0 1)*3 @70000 (0 0 0 0 0)*10000", "size=256K"],
    expected: FIRST_PAGE_DATA,
  },
  {
    name: "a script's zeroes are written",
    args: ["<(head -c 50000 /dev/zero) <(printf ab)", "size=256K"],
    expected: mapAndTotals(
      `
         0       32768    2  zero
     32768       32768    0  data
     65536      196608    3  hole,zero
`,
      `
     32768  12.5%   0 data
     32768  12.5%   2 zero
    196608  75.0%   3 hole,zero
`,
    ),
  },
  {
    name: "so are those of a script's output cut short",
    args: ["<(head -c 50000 /dev/zero)[:40000]", "size=256K"],
    expected: mapAndTotals(
      `
         0       65536    2  zero
     65536      196608    3  hole,zero
`,
      `
     65536  25.0%   2 zero
    196608  75.0%   3 hole,zero
`,
    ),
  },
  {
    name: "a fill of zeroes past the end, then one zero byte written",
    args: ["(0)*300000 @0 0", "size=256K"],
    expected: ONE_ZERO_PAGE,
  },
  {
    name: "base64= writes its bytes, zeroes too",
    args: ["base64=AAAA", "size=256K"],
    expected: ONE_ZERO_PAGE,
  },
  {
    name: "allocator=malloc reports everything as data",
    args: ["1 @131072 2", "size=1M", "allocator=malloc"],
    expected: mapAndTotals(
      `
         0     1048576    0  data
`,
      `
   1048576 100.0%   0 data
`,
    ),
  },
];

describe.each(servers)("nbdinfo --map of data disks matches nbdkit ($name)", (server) => {
  test.for(CASES)("$name", async ({ args, expected }, context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(await captive(server, ["data", ...args], MAP_AND_TOTALS));
    expect(stdout).toBe(expected);
  });
});
