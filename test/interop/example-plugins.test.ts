/**
 * The example plugins and filter in examples/ load from a module path and serve real clients.
 * They are our own, so these tests run against nbdts only: nbdkit cannot load a TypeScript
 * module (what they prove about NBD itself, the other interop tests prove against both).
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { REPO_ROOT, requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
const RAMDISK = `${REPO_ROOT}examples/ramdisk.ts`;
const MESSAGE = `${REPO_ROOT}examples/message.ts`;
const OFFSET_FILTER = `${REPO_ROOT}examples/offset-filter.ts`;

// With NBD_SERVERS naming only nbdkit there is nothing to run: say so rather than fail empty.
if (ours.length === 0) test.skip("example plugins: no nbdts server is selected", () => {});

describe.each(ours)("example plugins ($name)", (server) => {
  test("ramdisk keeps what is written and maps it as data among holes", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo");
    const script = `nbdsh -u "$uri" -c 'h.pwrite(b"x" * 5000, 8192)' &&
      nbdsh -u "$uri" -c 'print(h.pread(3, 8192).decode())' &&
      nbdinfo --map --json "$uri"`;
    const { stdout } = expectSuccess(await captive(server, [RAMDISK, "1M"], script));
    const newline = stdout.indexOf("\n");
    expect(stdout.slice(0, newline)).toBe("xxx");
    expect(JSON.parse(stdout.slice(newline + 1))).toEqual([
      { offset: 0, length: 8192, type: 3, description: "hole,zero" },
      { offset: 8192, length: 8192, type: 0, description: "data" },
      { offset: 16384, length: 1032192, type: 3, description: "hole,zero" },
    ]);
  });

  test("ramdisk refuses an unknown parameter by name", async () => {
    const result = await captive(server, [RAMDISK, "1M", "colour=blue"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/unknown parameter 'colour'/);
  });

  test("message serves its text, and a forbidden sector fails with EIO while the rest reads", async (context) => {
    requireClients(context, "nbdsh");
    const text = "a".repeat(700);
    const result = await libnbd(
      server,
      [MESSAGE, text, "forbidden=1"],
      `
      h = connect()
      first = bytes(h.pread(512, 0)).decode()
      failed = outcome(lambda: h.pread(1024, 0))
      again = bytes(h.pread(512, 0)).decode()[2:6]
      report(size=h.get_size(), first=first, failed=failed, again=again)
    `,
    );
    expect(result).toEqual({ size: 1024, first: "a".repeat(512), failed: "EIO", again: "aaaa" });
  });

  test("message names its default export and gives a description and block sizes", async (context) => {
    requireClients(context, "nbdinfo", "nbdsh");
    const info = JSON.parse(
      expectSuccess(await captive(server, [MESSAGE, "hello"], 'nbdinfo --json "$uri"')).stdout,
    );
    expect(info.exports[0]).toMatchObject({
      "export-name": "message",
      description: "5 bytes of text",
      block_size_minimum: 512,
      block_size_preferred: 4096,
      // The plugin says 0xffffffff ("no limit"); the server takes at most its 64 MiB maximum
      // payload, so that is advertised (limits.ts advertisedBlockSize; nbdkit 1.32.5 would
      // pass 0xffffffff on and then refuse larger requests with ENOMEM).
      block_size_maximum: 64 * 1024 * 1024,
      "export-size": 512,
    });
    const listed = await libnbd(
      server,
      [MESSAGE, "hello"],
      `
      found = []
      h = connect(setup=lambda h: h.set_opt_mode(True))
      h.opt_list(lambda name, description: found.append([name, description]) or 0)
      h.opt_abort()
      report(exports=found)
    `,
    );
    expect(listed).toEqual({
      exports: [["message", "the message given on the command line"]],
    });
  });

  test("the offset filter shifts reads, writes and extents by offset=", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M", "offset=4096"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      before = bytes(h.pread(1, 0)).hex()
      h.pwrite(b"\x2a" * 4096, 4096)
      report(size=h.get_size(), before=before, after=bytes(h.pread(2, 4095)).hex(),
             extents=extents(h, 12288, 0))
    `,
      { serverOptions: [`--filter=${OFFSET_FILTER}`] },
    );
    expect(result).toEqual({
      size: 1024 * 1024 - 4096,
      before: "00",
      after: "002a",
      // The memory plugin maps in nbdkit's 32 KiB pages: the write makes the page holding bytes
      // 4096..36863 of the plugin data, so the first 28672 bytes the client sees are data
      // (nbdkit's own offset filter over its memory plugin answers the same).
      extents: [[28672, 0]],
    });
  });

  test("the offset filter's parameter reaches it, the plugin's reach the plugin", async () => {
    const result = await captive(server, ["memory", "1M", "offset=2M"], 'nbdinfo "$uri"', {
      serverOptions: [`--filter=${OFFSET_FILTER}`],
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("offset 2097152 is past the disk's end (1048576)");
  });
});
