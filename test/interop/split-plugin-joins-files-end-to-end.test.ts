/**
 * The split plugin (nbdkit-split-plugin(1)) joins its files end to end, in command-line order:
 * the disk reads as their concatenation (empty files included), writes land in the file that
 * holds each byte, and extents follow each file's holes. Checked against nbdkit 1.32.5 where it
 * works: reads, and writes within the first file. nbdkit 1.32.5 writes to any later file at the
 * disk's offset instead of the file's (the file grows, the disk does not change), and its block
 * status crashes it (signal 11 on this VM), so writes past the first file and extents are
 * checked against nbdts alone.
 */

import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

/** Three files of awkward sizes (and an empty one) in a scratch directory. */
function files() {
  const dir = scratchDir();
  const contents = [
    randomBytes(1 << 20),
    randomBytes(100_000),
    new Uint8Array(),
    randomBytes(300_001),
  ];
  const paths = contents.map((data, i) => {
    const path = join(dir, `part${i}.img`);
    writeFileSync(path, data);
    return path;
  });
  return { dir, paths, contents, joined: Buffer.concat(contents) };
}

const ours = (server: Server) => server.name !== "nbdkit";

describe.each(servers)("the split plugin joins files end to end ($name)", (server) => {
  test("the disk reads as the files joined, in command-line order", async (context) => {
    requireClients(context, "nbdcopy");
    const { dir, paths, joined } = files();
    const copy = join(dir, "copy.img");
    expectSuccess(
      await captive(
        server,
        ["split", paths[0], `file=${paths[1]}`, paths[2], paths[3]],
        `nbdinfo --size "$uri" > '${dir}/size' && nbdcopy --no-extents "$uri" '${copy}'`,
      ),
    );
    expect(Number(readFileSync(join(dir, "size"), "utf8"))).toBe(joined.length);
    expect(readFileSync(copy).equals(joined)).toBe(true);
  });

  test("a write within the first file lands there", async (context) => {
    requireClients(context, "nbdsh");
    const { paths, contents } = files();
    const result = await libnbd(
      server,
      ["split", ...paths],
      `
      h = connect()
      h.pwrite(b"Z" * 10, 1000)
      report(back=bytes(h.pread(10, 1000)).decode())
    `,
    );
    expect(result.back).toBe("Z".repeat(10));
    const expected = Buffer.from(contents[0]);
    expected.fill("Z", 1000, 1010);
    expect(readFileSync(paths[0]).equals(expected)).toBe(true);
  });

  test.runIf(ours(server))(
    "a write across files lands in each at its own offset",
    async (context) => {
      requireClients(context, "nbdsh");
      const { paths, contents } = files();
      const start = (1 << 20) + 100_000 - 5; // 5 bytes before the end of the second file
      await libnbd(
        server,
        ["split", ...paths],
        `h = connect()\nh.pwrite(b"Y" * 10, ${start})\nreport()`,
      );
      expect(readFileSync(paths[1]).subarray(-5).toString()).toBe("YYYYY");
      expect(readFileSync(paths[3]).subarray(0, 5).toString()).toBe("YYYYY");
      expect(readFileSync(paths[3]).length).toBe(contents[3].length);
    },
  );

  test.runIf(ours(server))(
    "extents: each file's holes where the runtime finds them, else data",
    async (context) => {
      requireClients(context, "nbdinfo");
      const { dir, paths } = files();
      const sparse = join(dir, "sparse.img");
      writeFileSync(sparse, new Uint8Array());
      const { truncateSync, openSync, writeSync, closeSync } = await import("node:fs");
      truncateSync(sparse, 2 << 20);
      const fd = openSync(sparse, "r+");
      writeSync(fd, Uint8Array.of(1), 0, 1, 1 << 20);
      closeSync(fd);
      const { stdout } = expectSuccess(
        await captive(server, ["split", paths[0], sparse], 'nbdinfo --map "$uri"'),
      );
      const lines = stdout.trim().split("\n").map((line) => line.trim().split(/\s+/));
      const total = lines.reduce((sum, [, length]) => sum + Number(length), 0);
      expect(total).toBe((1 << 20) + (2 << 20));
      expect(lines[0].slice(0, 2)).toEqual([
        "0",
        server.name === "nbdts-node" ? String(3 << 20) : String(1 << 20),
      ]);
      if (server.name !== "nbdts-node") {
        expect(lines.some((line) => line[3] === "hole,zero")).toBe(true);
      }
    },
  );

  test("no file is an empty disk; mistakes are one line in nbdkit's words", async (context) => {
    requireClients(context, "nbdinfo");
    const none = expectSuccess(await captive(server, ["split"], 'nbdinfo --size "$uri"'));
    expect(none.stdout.trim()).toBe("0");
    const bad = await captive(server, ["split", "/nonexistent/part"], "true");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/error: realpath: \/nonexistent\/part: No such file or directory/);
    const unknown = await captive(server, ["split", "colour=blue"], "true");
    expect(unknown.stderr).toMatch(/error: unknown parameter 'colour'/);
  });
});
