/**
 * --filter=tar (man nbdkit-tar-filter) serves one member of a tar file made by tar(1): ustar,
 * GNU and pax archives, a member in a directory, writes landing in the archive, the map moved
 * into the member, and nbdkit's refusals. nbdkit 1.32.5 serves the GNU long-name record instead
 * of the member after it (it takes the block GNU tar lists for the member, which is the
 * record's), and has no tar-limit=: those two tests run against nbdts alone.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { sourceBytes, tool } from "../helpers/compressed-disks.ts";
import { mapOf, refusedExport, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const LONG = `${"d".repeat(60)}/${"e".repeat(70)}.img`;

/** An archive of `format` holding a.txt, dir/disk.img (100 000 bytes) and a long-named file. */
function archive(format: "gnu" | "pax" | "ustar") {
  const dir = scratchDir();
  const files = { "a.txt": sourceBytes(1000), "dir/disk.img": sourceBytes(100_000) };
  tool(dir, "mkdir", ["-p", "dir", LONG.split("/")[0]]);
  for (const [name, bytes] of Object.entries({ ...files, [LONG]: sourceBytes(5000) })) {
    writeFileSync(join(dir, name), bytes);
  }
  tool(dir, "tar", [`--format=${format}`, "-cf", "x.tar", "a.txt", "dir", LONG]);
  return { dir, tar: join(dir, "x.tar") };
}

/** What a client reads of `entry`: its size and whether its bytes are the file's. */
function served(server: Server, dir: string, entry: string) {
  return libnbd(
    server,
    ["--filter=tar", "file", join(dir, "x.tar"), `tar-entry=${entry}`],
    `
    h = connect()
    size = h.get_size()
    report(size=size, same=h.pread(size, 0) == open(${
      JSON.stringify(join(dir, entry))
    }, "rb").read())
  `,
  );
}

const nbdts = servers.filter((server) => server.name !== "nbdkit");

describe.each(servers)("tar filter ($name)", (server) => {
  test("members of ustar, GNU and pax archives read back as their files", async (context) => {
    requireClients(context, "nbdsh", "tar");
    for (const format of ["gnu", "pax", "ustar"] as const) {
      const { dir } = archive(format);
      expect(await served(server, dir, "dir/disk.img"), format).toEqual({
        size: 100_000,
        same: true,
      });
      expect(await served(server, dir, "a.txt"), format).toEqual({ size: 1000, same: true });
    }
    for (const format of ["pax", "ustar"] as const) {
      expect(await served(server, archive(format).dir, LONG), format).toEqual({
        size: 5000,
        same: true,
      });
    }
  });

  test("writes land in the archive, inside the member", async (context) => {
    requireClients(context, "nbdsh", "tar");
    const { dir, tar } = archive("gnu");
    const before = readFileSync(tar).length;
    const result = await libnbd(
      server,
      ["--filter=tar", "file", tar, "tar-entry=dir/disk.img"],
      `
      h = connect()
      h.pwrite(b"written!", 99_992)
      report(past_end=outcome(lambda: h.pwrite(b"x", 100_000)))
    `,
    );
    const member = tool(dir, "tar", ["-xOf", "x.tar", "dir/disk.img"]);
    expect(member.subarray(99_992).toString()).toBe("written!");
    expect(result).toEqual({ past_end: "ENOSPC" });
    expect(readFileSync(tar).length).toBe(before); // the archive keeps its size
    expect(tool(dir, "tar", ["-xOf", "x.tar", "a.txt"])).toEqual(
      Buffer.from(readFileSync(join(dir, "a.txt"))),
    );
  });

  test("the map is the member's part of the file's, all data", async (context) => {
    requireClients(context, "nbdinfo", "tar");
    const { tar } = archive("gnu");
    expect(await mapOf(server, ["--filter=tar", "file", tar, "tar-entry=dir/disk.img"])).toEqual([
      { offset: 0, length: 100_000, type: 0, description: "data" },
    ]);
  });

  test("a missing member refuses the export; tar-entry is required and given once", async (context) => {
    requireClients(context, "nbdinfo", "tar");
    const { tar } = archive("gnu");
    expect(await refusedExport(server, ["--filter=tar", "file", tar, "tar-entry=nope"]))
      .toContain("check that the file really exists in the tarball");
    expect(await refusedStart(server, ["--filter=tar", "file", tar])).toContain(
      "you must supply the tar-entry=<FILENAME> parameter",
    );
    expect(await refusedStart(server, ["--filter=tar", "file", tar, "tar-entry=a", "tar-entry=b"]))
      .toContain("only one tar-entry parameter can be given");
  });
});

describe.each(nbdts)("tar filter beyond nbdkit 1.32.5 ($name)", (server) => {
  test("a GNU long name is the member's, not its name record's", async (context) => {
    requireClients(context, "nbdsh", "tar");
    expect(await served(server, archive("gnu").dir, LONG)).toEqual({ size: 5000, same: true });
  });

  test("tar-limit= stops the search that far into the archive", async (context) => {
    requireClients(context, "nbdinfo", "tar");
    const { tar } = archive("gnu");
    // a.txt's header is at 0, dir/'s at 1536, dir/disk.img's at 2048 (tar -tv --block-number).
    expect(
      await refusedExport(server, [
        "--filter=tar",
        "file",
        tar,
        "tar-entry=dir/disk.img",
        "tar-limit=2048",
      ]),
    )
      .toContain("check that the file really exists in the tarball");
    expect(
      (await mapOf(server, [
        "--filter=tar",
        "file",
        tar,
        "tar-entry=dir/disk.img",
        "tar-limit=2049",
      ]))[0].length,
    )
      .toBe(100_000);
  });
});
