/**
 * --filter=xz (man nbdkit-xz-filter) serves the expansion of an .xz file made by xz(1) with
 * several blocks (--block-size), read-only: the same bytes, size and flags as nbdkit, reads
 * across block boundaries and across streams, the blocks decoded for a sequence of reads with
 * a cache of xz-max-depth blocks (the -v log's "seek:" line for each block decoded), stacks with
 * the offset filter, and nbdkit's refusals. Checks: the CRC64 default, CRC32, none, SHA-256.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer, shellQuote } from "../helpers/captive.ts";
import { sourceBytes, sourceFile, tool } from "../helpers/compressed-disks.ts";
import { logLines } from "../helpers/debug-log.ts";
import { PATTERN_FLAGS, refusedExport, refusedStart, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const BLOCK = 65536;
const SIZE = 200_000; // four blocks, the last one short

/** The source image and its .xz, compressed with `args` besides --block-size. */
function xzImage(args: readonly string[] = []) {
  const bytes = sourceBytes(SIZE);
  const { dir, path } = sourceFile("disk.img", bytes);
  writeFileSync(
    join(dir, "disk.img.xz"),
    tool(dir, "xz", ["-c", "-T1", `--block-size=${BLOCK}`, ...args, path]),
  );
  return { dir, source: path, xz: join(dir, "disk.img.xz") };
}

/** What a client reads of the export: its size, every byte equal, flags, reads across blocks. */
const READ_ALL = withFlags(`
  import sys
  h = connect()
  size = h.get_size()
  source = open(sys.argv[1], "rb").read()
  whole = h.pread(size, 0)
  across = [h.pread(100, ${BLOCK} * n - 50) == source[${BLOCK} * n - 50:${BLOCK} * n + 50]
            for n in (1, 2, 3)]
  report(size=size, same=whole == source, across=across, flags=flags(h),
         past_end=outcome(lambda: h.pread(1, size)), write=outcome(lambda: h.pwrite(b"x", 0)))
`);

const EXPECTED = {
  size: SIZE,
  same: true,
  across: [true, true, true],
  flags: { ...PATTERN_FLAGS, flush: true }, // the file plugin can flush, and says so
  past_end: "EINVAL",
  write: "EPERM",
};

describe.each(servers)("xz filter ($name)", (server) => {
  test("an xz file of several blocks reads back as its source, with each check type", async (context) => {
    requireClients(context, "nbdsh", "xz");
    for (const check of ["crc64", "crc32", "none", "sha256"]) {
      const { source, xz } = xzImage([`--check=${check}`]);
      const script = READ_ALL.replace(
        "import sys",
        `import sys; sys.argv = ["", ${JSON.stringify(source)}]`,
      );
      expect(await libnbd(server, ["--filter=xz", "file", xz], script), check).toEqual(EXPECTED);
    }
  });

  test("streams joined with stream padding read back as the sources joined", async (context) => {
    requireClients(context, "nbdsh", "xz");
    const first = xzImage();
    const second = xzImage();
    const joined = join(first.dir, "joined.xz");
    const padding = Buffer.alloc(8);
    writeFileSync(
      joined,
      Buffer.concat([
        tool(first.dir, "cat", [first.xz]),
        padding,
        tool(first.dir, "cat", [second.xz]),
      ]),
    );
    const result = await libnbd(
      server,
      ["--filter=xz", "file", joined],
      `
      h = connect()
      a = open(${JSON.stringify(first.source)}, "rb").read()
      b = open(${JSON.stringify(second.source)}, "rb").read()
      report(size=h.get_size(), same=h.pread(h.get_size(), 0) == a + b,
             seam=h.pread(20, len(a) - 10) == (a + b)[len(a) - 10:len(a) + 10])
    `,
    );
    expect(result).toEqual({ size: 2 * SIZE, same: true, seam: true });
  });

  test("reads decode the blocks they touch, and xz-max-depth blocks are kept", async (context) => {
    requireClients(context, "python3", "xz");
    const { xz } = xzImage();
    const script = `uri="$uri" exec python3 -c ${
      shellQuote(`
import nbd, os
h = nbd.NBD()
h.connect_uri(os.environ["uri"])
for offset in (0, ${BLOCK + 10}, 5, ${BLOCK}, ${3 * BLOCK + 1}, 0):
    h.pread(10, offset)
h.shutdown()
`)
    }`;
    const decoded = async (depth: number) => {
      const result = expectSuccess(
        await captive(server, ["--filter=xz", "file", xz, `xz-max-depth=${depth}`], script, {
          serverOptions: ["-v"],
        }),
      );
      return logLines(result.stderr).map((line) => line.message).filter((message) =>
        message.startsWith("seek: block number")
      ).map((message) => message.replace(/ at file offset \d+/, ""));
    };
    expect(await decoded(1)).toEqual([
      "seek: block number 1",
      "seek: block number 2",
      "seek: block number 1",
      "seek: block number 2",
      "seek: block number 4",
      "seek: block number 1",
    ]);
    expect(await decoded(2)).toEqual([
      "seek: block number 1",
      "seek: block number 2",
      "seek: block number 4",
      "seek: block number 1",
    ]);
  });

  test("stacked under the offset filter, a window of the expansion is served", async (context) => {
    requireClients(context, "nbdsh", "xz");
    const { source, xz } = xzImage();
    const result = await libnbd(
      server,
      ["--filter=offset", "--filter=xz", "file", xz, `offset=${BLOCK - 7}`, "range=100000"],
      `
      h = connect()
      source = open(${JSON.stringify(source)}, "rb").read()
      report(size=h.get_size(), same=h.pread(100000, 0) == source[${BLOCK - 7}:${
        BLOCK - 7
      } + 100000])
    `,
    );
    expect(result).toEqual({ size: 100000, same: true });
  });

  test("a block over xz-max-block, and a file that is not xz, refuse the export", async (context) => {
    requireClients(context, "nbdinfo", "xz");
    const { source, xz } = xzImage();
    expect(await refusedExport(server, ["--filter=xz", "file", xz, "xz-max-block=60000"]))
      .toContain("xz file largest block is bigger than maxblock");
    expect(await refusedExport(server, ["--filter=xz", "file", source])).toContain(
      "xz: not an xz file",
    );
  });

  test("xz-max-depth=0 is refused at start-up; requests are serialized", async () => {
    expect(await refusedStart(server, ["--filter=xz", "null", "xz-max-depth=0"])).toContain(
      "'xz-max-depth' parameter must be >= 1",
    );
    const { stdout } = expectSuccess(
      await runServer(server, ["--filter=xz", "null", "--dump-plugin"]),
    );
    expect(stdout).toContain("thread_model=serialize_requests");
  });
});
