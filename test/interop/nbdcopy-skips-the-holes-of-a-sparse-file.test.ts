/**
 * nbdcopy of a 1 GiB file holding one byte reads only that byte's block from the server: the
 * file plugin reports the rest as holes, so the server reads next to nothing from its disk (its
 * rchar in /proc/PID/io, bytes passed to read calls) while the copy comes out equal. Skipped,
 * with the reason, on a runtime that cannot seek for holes (Node 20): there all 1 GiB is read.
 * How long it takes is the benchmark's business, not this test's.
 */

import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { holesUnsupported, makeSparseFile } from "../helpers/sparse-files.ts";

const MiB = 1024 * 1024;

describe.each(servers)("nbdcopy of a sparse file ($name)", (server) => {
  test("reads only the data, and the copy is equal", async (context) => {
    requireClients(context, "nbdcopy", "cmp", "truncate", "dd");
    const reason = holesUnsupported(server);
    if (reason) context.skip(reason);
    const dir = scratchDir();
    const disk = join(dir, "one-byte.img");
    const pidfile = join(dir, "server.pid");
    await makeSparseFile(disk, "1G", [[123_456_789, "z"]]);
    const rchar = `$(sed -n 's/^rchar: //p' /proc/$(cat ${pidfile})/io)`;
    const { stdout } = expectSuccess(
      await captive(
        server,
        ["file", disk],
        `before=${rchar}; nbdcopy "$uri" ${dir}/copy.img; after=${rchar}; ` +
          `cmp ${disk} ${dir}/copy.img && echo $((after - before))`,
        { serverOptions: ["-P", pidfile] },
      ),
    );
    const readByServer = Number(stdout.trim());
    expect(readByServer).toBeGreaterThan(0); // the server's /proc/PID/io was read
    // All data would be 1024 MiB; the one block of data and the requests are far below 16 MiB.
    expect(readByServer).toBeLessThan(16 * MiB);
  });
});
