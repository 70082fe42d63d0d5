/**
 * <FILE, <(SCRIPT) and $VAR from the environment: the data plugin's ways of reaching outside
 * the command line. nbdts's core reaches them only through hooks its runtime adapter gives
 * createDataPlugin (src/plugins/data/hooks.ts); on a server whose adapter gives none yet these
 * tests are skipped, saying so, rather than failing.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, type CaptiveOptions, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers, type SkippableContext } from "../helpers/servers.ts";

/** Skips the test when this server's data plugin cannot read files, run scripts or see $VARs. */
async function requireDataHooks(context: SkippableContext, server: Server): Promise<void> {
  const probe = await captive(server, ["data", "<(true) </dev/null $DATA_PROBE"], "true", {
    env: { DATA_PROBE: "" },
  });
  if (/not available here|DATA_PROBE: variable not found/.test(probe.stderr)) {
    context.skip("this server's data plugin has no file, command or environment hooks yet");
  }
}

/** A scratch directory holding `files`, for the server to run in. */
function directoryWith(files: Record<string, string | Uint8Array>): string {
  const dir = scratchDir();
  for (const [name, contents] of Object.entries(files)) writeFileSync(join(dir, name), contents);
  return dir;
}

/** Serves `args` and reports the size and the bytes at each [offset, count] as hex. */
function readBack(
  server: Server,
  args: readonly string[],
  reads: readonly (readonly [number, number])[],
  options: CaptiveOptions = {},
) {
  return libnbd(
    server,
    ["data", ...args],
    `
    h = connect()
    report(size=h.get_size(),
           reads=[bytes(h.pread(count, offset)).hex() for offset, count in ${
      JSON.stringify(reads)
    }])
  `,
    options,
  );
}

const hex = (text: string) => Buffer.from(text, "latin1").toString("hex");

describe.each(servers)("data plugin files and scripts ($name)", (server) => {
  test("<FILE copies a file in; slices read only part of it", async (context) => {
    requireClients(context, "nbdsh");
    await requireDataHooks(context, server);
    const cwd = directoryWith({ hello: "hello" });
    const whole = '<hello <hello[1:3] <hello[1:100] <hello[10:] (<hello "")[1:100] <hello*2';
    expect(await readBack(server, [whole], [[0, 25]], { cwd })).toEqual({
      size: 25,
      reads: [hex("hello" + "el" + "ello" + "ello" + "hellohello")],
    });
  });

  test("files aligned to sectors with @^512 (man page)", async (context) => {
    requireClients(context, "nbdsh");
    await requireDataHooks(context, server);
    const cwd = directoryWith({ file1: "abc", file2: "x".repeat(600), file3: "" });
    const result = await readBack(
      server,
      [" <file1 @^512 <file2 @^512 <file3 @^512 "],
      [[0, 4], [512, 1], [1111, 2]],
      { cwd },
    );
    expect(result).toEqual({ size: 1536, reads: ["61626300", "78", "7800"] });
  });

  test("</dev/urandom[:512]*16 repeats one random sector (man page)", async (context) => {
    requireClients(context, "nbdsh");
    await requireDataHooks(context, server);
    const result = await libnbd(
      server,
      ["data", " </dev/urandom[:512]*16 "],
      `
      h = connect()
      first = bytes(h.pread(512, 0))
      report(size=h.get_size(), same=all(bytes(h.pread(512, n * 512)) == first for n in range(16)),
             random=first != bytes(512))
    `,
    );
    expect(result).toEqual({ size: 8192, same: true, random: true });
  });

  test("<(SCRIPT) with endless output cut by [:LEN] (man page)", async (context) => {
    requireClients(context, "nbdsh");
    await requireDataHooks(context, server);
    const script = ' <( i=0\n while :; do\n printf "%04d" $i; i=$((i+1))\n done )[:32768] ';
    expect(await readBack(server, [script], [[0, 12], [32764, 4]])).toEqual({
      size: 32768,
      reads: [hex("000000010002"), hex("8191")],
    });
  });

  test("<(SCRIPT) output, parentheses inside, and nbdkit's slice edges", async (context) => {
    requireClients(context, "nbdsh");
    await requireDataHooks(context, server);
    const args = [
      '<(echo "(a)") <(echo hi)[:] <(echo hi)[0:] <(echo hi; exit 1)[:2] <(echo hi)[1:2]',
    ];
    expect(await readBack(server, args, [[0, 7]])).toEqual({
      size: 7,
      reads: [hex("(a)\nhii")],
    });
  });

  test("$VAR comes from the environment when no parameter has its name", async (context) => {
    requireClients(context, "nbdsh");
    await requireDataHooks(context, server);
    const env = { pattern: "0x55 0xAA" };
    expect(await readBack(server, ["$pattern*4"], [[0, 8]], { env })).toEqual({
      size: 8,
      reads: ["55aa".repeat(4)],
    });
    expect(await readBack(server, ["$pattern", "pattern=7"], [[0, 1]], { env })).toEqual({
      size: 1,
      reads: ["07"],
    });
  });

  test("a missing file or a failing script stops the server", async (context) => {
    await requireDataHooks(context, server);
    const cwd = scratchDir();
    const missing = await captive(server, ["data", "<missing"], "echo ran", { cwd });
    expect([missing.status, missing.stdout]).toEqual([1, ""]);
    expect(missing.stderr).toMatch(/missing/);
    const failing = await captive(server, ["data", "<(echo hi; exit 1)"], "echo ran");
    expect([failing.status, failing.stdout]).toEqual([1, ""]);
    expect(failing.stderr).toMatch(/external command failed/);
  });
});
