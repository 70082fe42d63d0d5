/**
 * file plugin: TRIM punches a hole (fallocate PUNCH_HOLE), so the range reads as zeroes and the
 * file holds fewer blocks; WRITE_ZEROES punches too when the client allows holes, and zeroes in
 * place, keeping the blocks, when it says NO_HOLE; as nbdkit's file plugin does. Skipped, with
 * the reason, on a runtime that cannot punch (Node 20), where trim is not offered at all.
 */

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test, type TestContext } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";
import { allocatedBlocks, holesUnsupported } from "../helpers/sparse-files.ts";

const MiB = 1024 * 1024;
/** 512-byte blocks in one MiB, as stat counts them. */
const BLOCKS_PER_MiB = MiB / 512;

/**
 * Serves an 8 MiB file of random bytes, all allocated, to the libnbd script `body` (which may
 * name the file as `disk`); returns what it reported and the file's blocks before and after.
 */
async function onFullDisk(server: Server, context: TestContext, body: string) {
  requireClients(context, "python3", "stat");
  const reason = holesUnsupported(server);
  if (reason) context.skip(reason);
  const disk = join(scratchDir(), "disk.img");
  writeFileSync(disk, randomBytes(8 * MiB));
  const blocks = await allocatedBlocks(disk);
  expect(blocks).toBeGreaterThanOrEqual(8 * BLOCKS_PER_MiB);
  const reported = await libnbd(
    server,
    ["file", disk],
    `disk = ${JSON.stringify(disk)}\n${dedent(body)}`,
  );
  return { reported, blocks, blocksAfter: await allocatedBlocks(disk) };
}

describe.each(servers)("file plugin trim punches holes ($name)", (server) => {
  test("trimmed bytes read back as zeroes and their blocks are freed", async (context) => {
    const { reported, blocks, blocksAfter } = await onFullDisk(
      server,
      context,
      `
      h = connect()
      before = h.pread(4096, 3 * ${MiB})
      h.trim(4 * ${MiB}, 2 * ${MiB})
      h.flush()
      after = h.pread(4 * ${MiB}, 2 * ${MiB})
      around = h.pread(4096, 2 * ${MiB} - 4096) + h.pread(4096, 6 * ${MiB})
      report(can_trim=h.can_trim(), was_data=any(before), zeroes=not any(after),
             around_kept=all(any(around[i:i + 4096]) for i in (0, 4096)))
      `,
    );
    expect(reported).toEqual({ can_trim: true, was_data: true, zeroes: true, around_kept: true });
    expect(blocksAfter).toBe(blocks - 4 * BLOCKS_PER_MiB);
  });

  test("zero punches a hole unless the client says NO_HOLE", async (context) => {
    const { reported, blocks, blocksAfter } = await onFullDisk(
      server,
      context,
      `
      h = connect()
      h.zero(2 * ${MiB}, 0, nbd.CMD_FLAG_NO_HOLE)
      h.flush()
      kept = os.stat(disk).st_blocks
      h.zero(2 * ${MiB}, 4 * ${MiB}, nbd.CMD_FLAG_FUA)
      report(kept=kept, zeroes=not any(h.pread(2 * ${MiB}, 0)) and not any(h.pread(2 * ${MiB}, 4 * ${MiB})),
             fast_zero=h.can_fast_zero())
      `,
    );
    expect(reported).toEqual({ kept: blocks, zeroes: true, fast_zero: false });
    expect(blocksAfter).toBe(blocks - 2 * BLOCKS_PER_MiB);
  });
});
