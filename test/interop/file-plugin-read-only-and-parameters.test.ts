/**
 * file: -r (or a file that cannot be opened for writing) gives a read-only export that leaves
 * the file alone, and the parameters are checked as nbdkit checks them.
 */

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, run, runServer, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const WRITE_CHECK = `
h = connect()
report(read_only=h.is_read_only(), write=outcome(lambda: h.pwrite(b"x", 0)), byte=h.pread(1, 0).decode())
`;

describe.each(servers)("file plugin read-only and parameters ($name)", (server) => {
  test("-r serves the file read-only and refuses writes", async (context) => {
    requireClients(context, "python3");
    const disk = join(scratchDir(), "disk.img");
    writeFileSync(disk, "original");
    const reported = await libnbd(server, ["file", disk], WRITE_CHECK, { serverOptions: ["-r"] });
    expect(reported).toEqual({ read_only: true, write: "EPERM", byte: "o" });
    expect(readFileSync(disk, "utf8")).toBe("original");
  });

  test("a file that cannot be opened for writing becomes a read-only export", async (context) => {
    requireClients(context, "python3");
    const disk = join(scratchDir(), "disk.img");
    writeFileSync(disk, "original");
    chmodSync(disk, 0o444);
    // Root may write any file whatever its mode; an immutable one it may not.
    const root = process.getuid?.() === 0;
    if (root) {
      requireClients(context, "chattr");
      const made = await run(["chattr", "+i", disk]);
      if (made.status !== 0) context.skip(`chattr +i failed: ${made.stderr.trim()}`);
    }
    try {
      const reported = await libnbd(server, ["file", disk], WRITE_CHECK);
      expect(reported).toEqual({ read_only: true, write: "EPERM", byte: "o" });
    } finally {
      if (root) await run(["chattr", "-i", disk]);
    }
    expect(readFileSync(disk, "utf8")).toBe("original");
  });

  test.each([
    ["no file or dir", () => [], /you must supply either \[file=\]<FILENAME> or dir=<DIRNAME>/],
    ["a missing file", (dir: string) => [join(dir, "nosuch")], /nosuch/],
    ["a directory as file=", (dir: string) => [dir], /use dir= to serve files within/],
    [
      "both file= and dir=",
      (dir: string) => [join(dir, "disk.img"), `dir=${dir}`],
      /cannot be used at the same time/,
    ],
    ["a file as dir=", (dir: string) => [`dir=${join(dir, "disk.img")}`], /expecting a directory/],
    [
      "an unknown fadvise",
      (dir: string) => [join(dir, "disk.img"), "fadvise=sometimes"],
      /unknown fadvise mode: sometimes/,
    ],
    [
      "an unknown cache",
      (dir: string) => [join(dir, "disk.img"), "cache=always"],
      /unknown cache mode: always/,
    ],
    ["rdelay", (dir: string) => [join(dir, "disk.img"), "rdelay=1"], /add --filter=delay/],
    [
      "an unknown key",
      (dir: string) => [join(dir, "disk.img"), "colour=red"],
      /unknown parameter 'colour'/,
    ],
  ])("%s is refused at startup", async (_what, args, message) => {
    const dir = scratchDir();
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "disk.img"), "x");
    const result = await runServer(server, ["-U", "-", "file", ...args(dir), "--run", "true"]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  test("accepted hints change nothing a client sees", async (context) => {
    requireClients(context, "nbdinfo");
    const disk = join(scratchDir(), "disk.img");
    writeFileSync(disk, new Uint8Array(4096));
    const hints = [
      "cache=none",
      "cache=default",
      "fadvise=normal",
      "fadvise=random",
      "fadvise=sequential",
    ];
    const result = await captive(
      server,
      ["file", `file=${disk}`, ...hints],
      'nbdinfo --size "$uri"',
    );
    expect(result.stdout.trim()).toBe("4096");
  });
});
