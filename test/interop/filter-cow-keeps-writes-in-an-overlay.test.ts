/**
 * --filter=cow (man nbdkit-cow-filter) makes a writable copy-on-write overlay over a plugin,
 * which is opened read-only and never changed: writes, trims and partial writes read back, the
 * plugin's file keeps its bytes, every connection shares the overlay, and the map shows what
 * the overlay holds (written blocks data, blocks trimmed whole holes). cow-on-read and
 * cow-on-cache keep what is read or prefetched, so the plugin (the call-log plugin, nbdkit's
 * sh plugin for nbdkit) is asked once. Same bytes, map, flags and messages as nbdkit; the one
 * difference is the advertised block size maximum (nbdts caps it at its payload limit).
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir, shellQuote } from "../helpers/captive.ts";
import { callLogPlugin, numberedBlocks } from "../helpers/call-log-plugin.ts";
import {
  ALL_FLAGS,
  filterHelp,
  READ_ONLY_FLAGS,
  refusedStart,
  withFlags,
} from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const BLOCK = 65536;
/** 1 MiB of data runs on 32 KiB pages, so that both servers' data plugins map alike. */
const DISK = ["data", "@32768 (1)*32768 @131072 (2)*65536 @589824 (3)*196608", "size=1M"];
/** What the cow filter offers: everything but WRITE_ZEROES, which the read-only plugin lacks. */
const COW_FLAGS = { ...ALL_FLAGS, zero: false, fast_zero: false };

/** A 2 MiB image of numbered 4 KiB blocks in a private directory. */
function image(): { path: string; bytes: Uint8Array } {
  const bytes = numberedBlocks(2 * 1024 * 1024);
  const path = join(scratchDir(), "disk.img");
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe.each(servers)("cow filter ($name)", (server) => {
  test("writes, trims and partial writes read back, and the plugin's file keeps its bytes", async (context) => {
    requireClients(context, "nbdsh");
    const { path, bytes } = image();
    const result = await libnbd(
      server,
      ["--filter=cow", "file", path],
      withFlags(`
      h = connect()
      h.pwrite(b"A" * 100, 70000)
      h.pwrite(b"B" * (65536 * 2), 65536 * 4, nbd.CMD_FLAG_FUA)
      h.trim(65536 * 3 + 10, 65536 * 6 - 10)
      h.flush()
      report(flags=flags(h), bytes=[bytes(h.pread(4, at)).hex() for at in
                                    (69998, 70098, 65536 * 4 - 2, 65536 * 6 - 12, 65536 * 9 - 2)])
    `),
    );
    expect(result).toEqual({
      flags: COW_FLAGS,
      bytes: ["12124141", "41411212", "40404242", "42420000", "00009191"],
    });
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  test("the map shows written blocks as data and blocks trimmed whole as holes", async (context) => {
    requireClients(context, "nbdinfo");
    const script = [
      `nbdsh -u "$uri" -c 'h.pwrite(b"x", 300000)' -c 'h.trim(65536 * 2 + 200, 65536 * 3 - 100)'`,
      'nbdinfo --map --json "$uri"',
    ].join(" && ");
    const { stdout } = expectSuccess(await captive(server, ["--filter=cow", ...DISK], script));
    expect(JSON.parse(stdout)).toEqual([
      { offset: 0, length: 32768, type: 3, description: "hole,zero" },
      { offset: 32768, length: 32768, type: 0, description: "data" },
      { offset: 65536, length: 65536, type: 3, description: "hole,zero" },
      // The block of the trim's partial head (written zeroes), then the data plugin's.
      { offset: 131072, length: 65536, type: 0, description: "data" },
      { offset: 196608, length: 131072, type: 3, description: "hole,zero" }, // trimmed whole
      { offset: 327680, length: 65536, type: 0, description: "data" }, // the partial tail
      { offset: 393216, length: 196608, type: 3, description: "hole,zero" },
      { offset: 589824, length: 196608, type: 0, description: "data" },
      { offset: 786432, length: 262144, type: 3, description: "hole,zero" },
    ]);
  });

  test("every connection shares the overlay, which outlives them; -r takes writes away", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=cow", "pattern", "1M"],
      withFlags(`
      first = connect()
      first.pwrite(b"shared", 4096)
      first.shutdown()
      second = connect()
      report(flags=flags(second), read=second.pread(6, 4096).decode(),
             pattern=int.from_bytes(second.pread(8, 8192), "big"))
    `),
    );
    expect(result).toEqual({ flags: COW_FLAGS, read: "shared", pattern: 8192 });
    const readOnly = await libnbd(
      server,
      ["--filter=cow", "memory", "1M"],
      withFlags("report(flags=flags(connect()))"),
      { serverOptions: ["-r"] },
    );
    expect(readOnly).toEqual({ flags: READ_ONLY_FLAGS });
  });

  test("nbdcopy and qemu-img write through the overlay; the file is unchanged", async (context) => {
    requireClients(context, "nbdcopy", "qemu-img", "qemu-io");
    const { path, bytes } = image();
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const copied = join(dir, "copied.img");
    const replacement = numberedBlocks(2 * 1024 * 1024).map((byte) => byte ^ 0x5a);
    writeFileSync(source, replacement);
    const script = [
      `nbdcopy ${shellQuote(source)} "$uri"`,
      `qemu-io -f raw -c 'write -P 0x77 1000 3000' "$uri" >/dev/null`,
      `qemu-img convert -f raw -O raw "$uri" ${shellQuote(copied)}`,
    ].join(" && ");
    expectSuccess(await captive(server, ["--filter=cow", "file", path], script));
    const expected = replacement.slice();
    expected.fill(0x77, 1000, 4000);
    expect(readFileSync(copied).equals(expected)).toBe(true);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  test("cow-on-read keeps what it reads, so the plugin is asked once; =/PATH switches it", async (context) => {
    requireClients(context, "nbdsh");
    const asked = async (params: string[], body: string) => {
      const plugin = callLogPlugin(server, numberedBlocks(1024 * 1024));
      await libnbd(server, ["--filter=cow", ...plugin.argv, ...params], body);
      return plugin.calls().filter((call) => call.startsWith("pread"));
    };
    const twice = `
      h = connect()
      h.pread(4096, 0)
      h.pread(4096, 0)
      report()
    `;
    // Without cow-on-read the plugin is asked each time (nbdts asks for the bytes wanted,
    // nbdkit for the whole block), and once with it, for the whole block.
    expect(await asked([], twice)).toHaveLength(2);
    expect(await asked(["cow-on-read=true"], twice)).toEqual([`pread ${BLOCK} 0`]);
    const flag = join(scratchDir(), "on");
    const switched = `
      import os
      h = connect()
      h.pread(4096, 0)
      open(${JSON.stringify(flag)}, "w").close()
      h.pread(4096, 0)
      h.pread(4096, 0)
      os.remove(${JSON.stringify(flag)})
      h.pread(4096, 65536)
      h.pread(4096, 65536)
      report()
    `;
    const calls = await asked([`cow-on-read=${flag}`], switched);
    expect(calls).toHaveLength(4);
    expect(calls[1]).toBe(`pread ${BLOCK} 0`);
  });

  test("cow-on-cache=true reads a cache request into the overlay; without it nothing is read", async (context) => {
    requireClients(context, "nbdsh");
    const prefetch = `
      h = connect()
      h.cache(100000, 10000)
      with open(os.environ["log"], "a") as log:
          log.write("# cached\\n")
      h.pread(4096, 65536)
      report()
    `;
    /** Bytes read from the plugin before and after the mark, as "offset+count" ranges. */
    const reads = async (params: string[]) => {
      const plugin = callLogPlugin(server, numberedBlocks(1024 * 1024));
      await libnbd(server, ["--filter=cow", ...plugin.argv, ...params], prefetch, {
        env: { log: plugin.log },
      });
      const calls = plugin.calls();
      const mark = calls.indexOf("# cached");
      const bytes = (lines: string[]) =>
        lines.filter((call) => call.startsWith("pread"))
          .reduce((sum, call) => sum + Number(call.split(" ")[1]), 0);
      return [bytes(calls.slice(0, mark)), bytes(calls.slice(mark + 1))];
    };
    // The plugin cannot cache: without cow-on-cache nothing happens, and the read goes below.
    const [before, after] = await reads([]);
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
    // With it, blocks 0 and 1 are read into the overlay (nbdkit a block at a time, nbdts at
    // once), and the read finds them there.
    expect(await reads(["cow-on-cache=true"])).toEqual([2 * BLOCK, 0]);
  });

  test("bad parameters are refused with nbdkit's messages; --help shows nbdkit's", async () => {
    const start = (param: string) => refusedStart(server, ["--filter=cow", "memory", "1M", param]);
    expect(await start("cow-block-size=1000")).toContain(
      "cow-block-size is out of range (4096..2G) or not a power of 2",
    );
    expect(await start("cow-block-size=4G")).toContain("out of range (4096..2G)");
    expect(await start("cow-block-size=x")).toContain("could not parse size string (x)");
    expect(await start("cow-on-cache=maybe")).toContain("could not decipher boolean (maybe)");
    expect(await start("cow-on-read=relative")).toContain("could not decipher boolean (relative)");
    expect(await filterHelp(server, "cow")).toBe(
      "cow-block-size=<N>       Set COW block size.\n" +
        "cow-on-cache=<BOOL>      Copy cache (prefetch) requests to the overlay.\n" +
        "cow-on-read=<BOOL>|/PATH Copy read requests to the overlay.",
    );
  });
});
