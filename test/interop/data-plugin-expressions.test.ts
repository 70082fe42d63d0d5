/**
 * The data plugin's expression language (man nbdkit-data-plugin, DATA FORMAT): each expression
 * is served and the disk's size and chosen bytes are read back with libnbd. Expectations are
 * written out here; nbdkit, which runs every case too, proves them.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

interface Case {
  /** The plugin's arguments after "data". */
  readonly args: readonly string[];
  readonly size: number | bigint;
  /** [offset, expected bytes as hex] pairs. */
  readonly reads: readonly (readonly [number | bigint, string])[];
}

const hex = (text: string) => Buffer.from(text, "utf8").toString("hex");
const HELLOS = "Hello".repeat(2000);

const CASES: readonly Case[] = [
  {
    args: ["0 1 2 3 @0x1fe 0x55 0xaa"],
    size: 512,
    reads: [[0, "0001020300"], [0x1fc, "000055aa"]],
  },
  {
    args: ["0 1 2 3 @^0x200 @-2 le16:0xaa55"],
    size: 512,
    reads: [[0, "0001020300"], [0x1fc, "000055aa"]],
  },
  { args: [" ( 0x55 0xAA )*2048 "], size: 4096, reads: [[0, "55aa55aa"], [4092, "55aa55aa"]] },
  {
    args: [' ( "Hello" )*2000 ', "size=8192"],
    size: 8192,
    reads: [[0, hex("HelloHe")], [8185, hex(HELLOS.slice(8185, 8192))]],
  },
  {
    // The man page's MBR partition table.
    args: [
      `
      @0x1be    # MBR first partition entry
        0           # Partition status
        0 2 0       # CHS start
        0x83        # Partition type (Linux)
        0x20 0x20 0 # CHS last sector
        le32:1      # LBA first sector
        le32:0x7ff  # LBA number of sectors
      @0x1fe    # Boot signature
        0x55 0xaa
      `,
      "size=1M",
    ],
    size: 1048576,
    reads: [[0x1bc, "0000000002008320200001000000ff070000"], [0x1fe, "55aa0000"]],
  },
  { args: ["09 0x 010 0377 4294967296"], size: 6, reads: [[0, "00090008ff00"]] },
  {
    args: ["le16:0x1234 be16:0x1234 le32:1 be32:1 le64:0x0102030405060708 be64:1"],
    size: 28,
    reads: [[0, "3412123401000000000000010807060504030201" + "0000000000000001"]],
  },
  {
    args: ['"a\\x41\\n\\t\\"\\\\\\q" "é" "\\a\\b\\f\\r\\v" "" ""*3 "ab"*3'],
    size: 20,
    reads: [[0, "61410a09225c71" + "c3a9" + "07080c0d0b" + "616261626162"]],
  },
  { args: ["1 2 3 @0 0 @+ 5 7"], size: 7, reads: [[0, "00020300000007"]] },
  { args: ["1 2 3 4 @0 (@3) (1 2 3 @-1) 9"], size: 7, reads: [[0, "00000001020309"]] },
  { args: ["1 @^0x10 2 (@^4 3)"], size: 18, reads: [[0, "01" + "00".repeat(15) + "0203"]] },
  { args: ["@5 @0"], size: 5, reads: [[0, "0000000000"]] },
  {
    args: ["1*2*3 1* 3 1*+2 (1 2)*0 ((1 2)*2 3)*2 () (((4)))"],
    size: 22,
    reads: [[0, "010101010101" + "010101" + "0101" + "0102010203" + "0102010203" + "04"]],
  },
  {
    args: ["(1 2 3)[1:2] (1 2 3)[ 1: 2] (1 2 3)[:2] (1 2 3)[1:] (1 2 3)[:] (1 2 3)[0:-1]"],
    size: 12,
    reads: [[0, "02" + "02" + "0102" + "0203" + "010203" + "010203"]],
  },
  {
    // nbdkit's edges: a negative end is "to the end", [N:N] and [-1:] are empty, BYTE[N:1]
    // is the byte and ()[N:0] nothing, whatever N.
    args: ["(1 2 3)[1:-5] (1 2 3)[5:5] (1 2 3)[-1:] 5[3:1] ()[5:0]"],
    size: 3,
    reads: [[0, "020305"]],
  },
  { args: ['("ab")*3[1:4] (1 @^8)*2[6:10]'], size: 7, reads: [[0, "626162" + "00000100"]] },
  {
    args: [
      " ( 0x55 0xAA ) -> \\boot-signature\n ( @0x1fe \\boot-signature ) -> \\sector\n \\sector \\sector ",
    ],
    size: 1024,
    reads: [[0, "0000"], [0x1fc, "000055aa0000"], [0x3fe, "55aa"]],
  },
  {
    args: ["1 -> \\a \\a -> \\a (2 -> \\a \\a) \\a \\a*2 \\undefined*0 <missing*0 <missing[2:2]"],
    size: 4,
    reads: [[0, "02010101"]],
  },
  { args: ["$a $b*2", "a=1", "b=2 3"], size: 5, reads: [[0, "0102030203"]] },
  {
    // A variable is a scope of its own: @0 inside it is its own start.
    args: ["$pattern*4 $x", "pattern=0x55 0xAA", "x=@0 9"],
    size: 9,
    reads: [[0, "55aa55aa55aa55aa09"]],
  },
  { args: ["1 # comment ( ) \n2 #"], size: 2, reads: [[0, "0102"]] },
  { args: [""], size: 0, reads: [] },
  {
    args: ["@99999999999999999999"],
    size: 2n ** 63n - 1n,
    reads: [[2n ** 63n - 9n, "00".repeat(8)]],
  },
];

describe.each(servers)("data plugin expressions ($name)", (server) => {
  const named = CASES.map((c) => ({ ...c, title: c.args.join(" ").replace(/\s+/g, " ").trim() }));
  test.for(named)("data $title", async ({ args, size, reads }, context) => {
    requireClients(context, "nbdsh");
    const wanted = reads.map(([offset, bytes]) => [String(offset), bytes.length / 2]);
    const result = await libnbd(
      server,
      ["data", ...args],
      `
      h = connect()
      reads = [bytes(h.pread(count, int(offset))).hex() for offset, count in ${
        JSON.stringify(wanted)
      }]
      report(size=str(h.get_size()), reads=reads)
    `,
    );
    expect(result).toEqual({ size: String(size), reads: reads.map(([, bytes]) => bytes) });
  });
});
