/**
 * file plugin: `nbdinfo --map` of a sparse file shows its holes exactly as nbdkit's file plugin
 * does (SEEK_DATA/SEEK_HOLE), byte for byte of nbdinfo's output. Skipped, with the reason, on a
 * runtime that cannot seek for holes (Node 20): there the whole file is reported as data.
 */

import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { holesUnsupported, makeSparseFile } from "../helpers/sparse-files.ts";

const GiB = 1024 ** 3;

/** File layouts: a size for truncate and the bytes written into it. */
const LAYOUTS: Record<string, [string, [number, string][]]> = {
  "1 GiB with data at both ends and two places between": [
    "1G",
    [[0, "first"], [100_000, "x"], [500_000_000, "y"], [GiB - 1, "z"]],
  ],
  "a size that is not a multiple of the block size, data in its last block": [
    "5000001",
    [[4_999_990, "tail"]],
  ],
  "all hole": ["64M", []],
};

describe.each(servers)("file plugin map of a sparse file ($name)", (server) => {
  test.for(Object.entries(LAYOUTS))(
    "%s: nbdinfo --map is nbdkit's",
    async ([, layout], context) => {
      requireClients(context, "nbdinfo", "nbdkit", "truncate", "dd");
      const reason = holesUnsupported(server);
      if (reason) context.skip(reason);
      const disk = join(scratchDir(), "sparse.img");
      await makeSparseFile(disk, ...layout);
      const map = async (argv: readonly string[]) =>
        expectSuccess(
          await captive({ name: "", argv }, ["file", disk], 'nbdinfo --map "$uri"'),
        ).stdout;
      const expected = await map(["nbdkit"]);
      expect(expected).toContain("hole,zero"); // the file system keeps holes: the test means something
      expect(await map(server.argv)).toBe(expected);
    },
  );
});
