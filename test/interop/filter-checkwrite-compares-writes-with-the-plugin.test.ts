/**
 * --filter=checkwrite (man nbdkit-checkwrite-filter) checks a copy: the plugin is opened
 * read-only, every write is compared with what it holds, every trim and zero must cover
 * zeroes, and a difference fails with EIO; a fast zero that would need a read fails with
 * ENOTSUP. Real copiers (nbdcopy, qemu-img) succeed copying the same image and fail copying
 * another. Same outcomes and flags as nbdkit.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, scratchDir, shellQuote } from "../helpers/captive.ts";
import { ALL_FLAGS, filterHelp, READ_ONLY_FLAGS, withFlags } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A 4 MiB image: "hello" at 0, 64 KiB of 0xff at 1 MiB, zeroes elsewhere. */
function image(dir: string, name: string, change = false): string {
  const bytes = new Uint8Array(4 * 1024 * 1024);
  bytes.set(new TextEncoder().encode("hello"));
  bytes.fill(0xff, 1024 * 1024, 1024 * 1024 + 65536);
  if (change) bytes[3 * 1024 * 1024] = 1;
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe.each(servers)("checkwrite filter ($name)", (server) => {
  test("writes must match the plugin, trims and zeroes must cover zeroes, else EIO", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=checkwrite", "data", "1 2 3 @4096 (9)*10", "size=1M"],
      withFlags(`
      h = connect()
      report(flags=flags(h), outcomes=[
        outcome(lambda: h.pwrite(bytes([1, 2, 3]), 0)),
        outcome(lambda: h.pwrite(bytes([1, 2, 3]), 0, nbd.CMD_FLAG_FUA)),
        outcome(lambda: h.pwrite(b"x", 0)),
        outcome(lambda: h.zero(100, 5000)),
        outcome(lambda: h.zero(100, 4000)),
        outcome(lambda: h.zero(100, 4000, nbd.CMD_FLAG_FAST_ZERO)),
        outcome(lambda: h.zero(100, 8192, nbd.CMD_FLAG_FAST_ZERO)),
        outcome(lambda: h.trim(100, 8192)),
        outcome(lambda: h.trim(8, 0)),
        outcome(lambda: h.flush())],
        unchanged=bytes(h.pread(4, 0)).hex())
    `),
    );
    expect(result).toEqual({
      flags: ALL_FLAGS,
      outcomes: ["ok", "ok", "EIO", "ok", "EIO", "ENOTSUP", "ok", "ok", "EIO", "ok"],
      unchanged: "01020300",
    });
  });

  test("every write-like command is offered on a read-only plugin; -r takes them away", async (context) => {
    requireClients(context, "nbdsh");
    const report = withFlags("report(flags=flags(connect()))");
    const readOnly = await libnbd(server, ["--filter=checkwrite", "pattern", "1M"], report);
    expect(readOnly).toEqual({ flags: ALL_FLAGS });
    const refused = await libnbd(server, ["--filter=checkwrite", "memory", "1M"], report, {
      serverOptions: ["-r"],
    });
    expect(refused).toEqual({ flags: READ_ONLY_FLAGS });
  });

  test("nbdcopy and qemu-img copying the same image succeed, and another image fails", async (context) => {
    requireClients(context, "nbdcopy", "qemu-img");
    const dir = scratchDir();
    const source = image(dir, "source.img");
    const same = image(dir, "same.img");
    const other = image(dir, "other.img", true);
    const script = [
      `nbdcopy ${shellQuote(same)} "$uri" && echo nbdcopy-same`,
      `qemu-img convert -n -f raw -O raw ${shellQuote(same)} "$uri" && echo qemu-img-same`,
      `nbdcopy ${shellQuote(other)} "$uri" 2>/dev/null || echo nbdcopy-other-refused`,
      `qemu-img convert -n -f raw -O raw ${shellQuote(other)} "$uri" 2>/dev/null` +
      " || echo qemu-img-other-refused",
    ].join("; ");
    const result = await captive(server, ["--filter=checkwrite", "file", source], script);
    expect(result.stdout.trim().split("\n")).toEqual([
      "nbdcopy-same",
      "qemu-img-same",
      "nbdcopy-other-refused",
      "qemu-img-other-refused",
    ]);
  });

  test("--help shows no parameters, as nbdkit", async () => {
    expect(await filterHelp(server, "checkwrite")).toBe("");
  });
});
