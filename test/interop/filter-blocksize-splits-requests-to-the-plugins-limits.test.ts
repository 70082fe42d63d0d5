/**
 * --filter=blocksize (man nbdkit-blocksize-filter) lets clients send any request to a plugin
 * with block limits: the plugin (a logging plugin, the same calls logged on either server) is
 * asked only for whole `minblock=` blocks, at most `maxdata=` bytes per read or write and
 * `maxlen=` per trim or zero, with read-modify-write for partial blocks: the same calls, bytes,
 * size, map and refusals as nbdkit. One difference: the maximum block size advertised is capped
 * at the payload limit (64 MiB) where nbdkit says 4294967295 (README, Limits).
 */

import { describe, expect, test } from "vitest";
import { filterHelp, mapOf, refusedStart } from "../helpers/filters.ts";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { logEnv, logPlugin, WATCH_LOG } from "../helpers/log-plugin.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

/** What the server advertises as the maximum when it says "no limit". */
const noLimit = (server: Server) => server.name === "nbdkit" ? 0xffffffff : 64 * 1024 * 1024;

/** 1 MiB of bytes 0..255 over and over. */
const PATTERN = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => i % 256);

describe.each(servers)("blocksize filter ($name)", (server) => {
  test("unaligned requests reach the plugin as whole blocks, split at maxdata and maxlen", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { disk: PATTERN });
    const args = ["--filter=blocksize", ...plugin.argv, "minblock=512", "maxdata=4k", "maxlen=8k"];
    const result = await libnbd(
      server,
      args,
      `
      h = connect()
      read = bytes(h.pread(1000, 100))
      h.pwrite(b"\\xee" * 10000, 700, nbd.CMD_FLAG_FUA)
      h.zero(20000, 512)
      h.trim(5000, 100)
      h.cache(100, 700)
      h.flush()
      report(read=read == bytes(i % 256 for i in range(100, 1100)),
             after=bytes(h.pread(20700, 0)).hex())
    `,
    );
    const after = new Uint8Array(20700);
    after.set(PATTERN.subarray(0, 512)); // before the zeroes, which start at 512
    after.set(PATTERN.subarray(20512, 20700), 20512);
    expect(result).toEqual({ read: true, after: Buffer.from(after).toString("hex") });
    const lines = plugin.lines();
    expect(lines.slice(0, lines.indexOf("flush") + 1)).toEqual([
      // pread(1000, 100): the partial head block, one whole block, the partial tail block.
      "pread 512 0",
      "pread 512 512",
      "pread 512 1024",
      // pwrite(10000, 700, FUA): head block read-modify-write, 9216 bytes in maxdata pieces,
      // tail block read-modify-write.
      "pread 512 512",
      "pwrite 512 512 fua",
      "pwrite 4096 1024 fua",
      "pwrite 4096 5120 fua",
      "pwrite 1024 9216 fua",
      "pread 512 10240",
      "pwrite 512 10240 fua",
      // zero(20000, 512): maxlen pieces, then the partial tail written as a block.
      "zero 8192 512 may_trim",
      "zero 8192 8704 may_trim",
      "zero 3584 16896 may_trim",
      "pread 512 20480",
      "pwrite 512 20480",
      // trim(5000, 100): only the whole blocks inside.
      "trim 4096 512",
      // cache(100, 700): the block around it.
      "cache 512 512",
      "flush",
    ]);
  });

  test("minblock comes from the plugin, the size rounds down to it, and any size is advertised", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, {
      disk: new Uint8Array(1024 * 1024 + 1000),
      params: ["block-size=4096,16384,65536"],
    });
    const result = await libnbd(
      server,
      ["--filter=blocksize", ...plugin.argv],
      `
      h = connect()
      h.pread(200000, 0)
      report(size=h.get_size(), minimum=h.get_block_size(nbd.SIZE_MINIMUM),
             preferred=h.get_block_size(nbd.SIZE_PREFERRED),
             maximum=h.get_block_size(nbd.SIZE_MAXIMUM))
    `,
    );
    expect(result).toEqual({
      size: 1024 * 1024,
      minimum: 1,
      preferred: 16384,
      maximum: noLimit(server),
    });
    expect(plugin.calls("pread")).toEqual([
      "pread 65536 0",
      "pread 65536 65536",
      "pread 65536 131072",
      "pread 4096 196608",
    ]);
  });

  test("the map is the plugin's in whole blocks, the first block the bits its pieces share", async (context) => {
    requireClients(context, "nbdinfo");
    const disk = ["data", "@32768 (1)*32768 @131072 (2)*65536 @204800 (3)*4096", "size=1M"];
    expect(await mapOf(server, ["--filter=blocksize", ...disk, "minblock=64k"])).toEqual([
      { offset: 0, length: 65536, type: 0, description: "data" },
      { offset: 65536, length: 65536, type: 3, description: "hole,zero" },
      { offset: 131072, length: 131072, type: 0, description: "data" },
      { offset: 262144, length: 786432, type: 3, description: "hole,zero" },
    ]);
  });

  test("blocksize-policy in front advertises 64K blocks and the plugin sees only whole ones", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    const result = await libnbd(
      server,
      [
        "--filter=blocksize-policy",
        "--filter=blocksize",
        ...plugin.argv,
        "blocksize-error-policy=allow",
        "blocksize-minimum=64K",
        "minblock=64K",
      ],
      `
      h = nbd.NBD()
      h.set_strict_mode(0)  # send what a badly behaved client would
      h.connect_uri(uri)
      h.pwrite(b"x", 70000)
      report(minimum=h.get_block_size(nbd.SIZE_MINIMUM), byte=bytes(h.pread(1, 70000)).decode())
    `,
    );
    expect(result).toEqual({ minimum: 65536, byte: "x" });
    expect(plugin.lines()).toEqual([
      "pread 65536 65536",
      "pwrite 65536 65536",
      "pread 65536 65536",
    ]);
  });

  test("scan in front: each of its cache calls reaches the plugin in maxdata pieces", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { disk: new Uint8Array(2 * 1024 * 1024) });
    await libnbd(
      server,
      ["--filter=scan", "--filter=blocksize", ...plugin.argv, "scan-size=1M", "maxdata=256k"],
      WATCH_LOG + dedent(`
        h = connect()
        wait_for(lambda: ["262144", "1835008"] in logged("cache"), "the last piece")
        report(done=True)
      `),
      { env: logEnv(plugin) },
    );
    const pieces = Array.from({ length: 8 }, (_, i) => `cache 262144 ${i * 262144}`);
    expect(plugin.calls("cache")).toEqual(pieces);
  });

  test("bad parameters are refused with nbdkit's messages, and --help shows its parameters", async () => {
    const args = ["--filter=blocksize", "memory", "1M"];
    expect(await refusedStart(server, [...args, "minblock=3"])).toContain(
      "minblock must be a power of 2",
    );
    expect(await refusedStart(server, [...args, "minblock=128k"])).toContain(
      "minblock must not exceed 65536",
    );
    expect(await refusedStart(server, [...args, "minblock=512", "maxdata=1000"])).toContain(
      "maxdata must be a multiple of 512",
    );
    expect(await refusedStart(server, [...args, "minblock=512", "maxlen=1000"])).toContain(
      "maxlen must be a multiple of 512",
    );
    expect(await refusedStart(server, [...args, "minblock=0"])).toContain(
      "parameter 'minblock' must be non-zero if specified",
    );
    expect(await refusedStart(server, [...args, "maxlen=8G"])).toContain(
      "parameter 'maxlen' too large",
    );
    expect(await filterHelp(server, "blocksize")).toBe(
      "minblock=<SIZE>      Minimum block size, power of 2 <= 64k (default 1).\n" +
        "maxdata=<SIZE>       Maximum size for read/write (default 64M).\n" +
        "maxlen=<SIZE>        Maximum size for trim/zero (default 4G-minblock).",
    );
  });
});
