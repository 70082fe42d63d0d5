/**
 * file dir=DIR: every regular file in the directory (links followed) is an export that
 * NBD_OPT_LIST names; the default export "", directories, fifos, dangling links and names
 * with "/" or ".." are refused by name.
 */

import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A directory holding two disks, a link to one, and things that are not disks. */
function populatedDir(): string {
  const dir = join(scratchDir(), "disks");
  mkdirSync(dir);
  writeFileSync(join(dir, "a.img"), "hello");
  writeFileSync(join(dir, "b.img"), new Uint8Array(1024 * 1024).fill(0x5a));
  symlinkSync("a.img", join(dir, "link"));
  symlinkSync("nowhere", join(dir, "dangle"));
  mkdirSync(join(dir, "sub"));
  return dir;
}

describe.each(servers)("file plugin dir= ($name)", (server) => {
  test("nbdinfo --list names each regular file and link to one", async (context) => {
    requireClients(context, "nbdinfo");
    const dir = populatedDir();
    expectSuccess(await run(["mkfifo", join(dir, "fifo")]));
    const { stdout } = expectSuccess(
      await captive(server, ["file", `dir=${dir}`], 'nbdinfo --list --json "$uri"'),
    );
    const info = JSON.parse(stdout) as { exports: Record<string, unknown>[] };
    const listed = info.exports.map((entry) => [entry["export-name"], entry["export-size"]]);
    expect(listed.sort()).toEqual([["a.img", 5], ["b.img", 1048576], ["link", 5]]);
  });

  test("each export serves its own file", async (context) => {
    requireClients(context, "python3");
    const dir = populatedDir();
    const reported = await libnbd(
      server,
      ["file", `dir=${dir}`],
      `
      a = connect(export="a.img")
      b = connect(export="b.img")
      report(a=a.pread(5, 0).decode(), b=list(set(b.pread(4096, 8192))), size=b.get_size())
      `,
    );
    expect(reported).toEqual({ a: "hello", b: [0x5a], size: 1048576 });
  });

  test("names that are not files in the directory are refused", async (context) => {
    requireClients(context, "python3");
    const dir = populatedDir();
    expectSuccess(await run(["mkfifo", join(dir, "fifo")]));
    const names = ["", "sub", "fifo", "dangle", "nosuch", ".", "..", "../disks/a.img", "x/a.img"];
    const reported = await libnbd(
      server,
      ["file", `dir=${dir}`],
      `
      names = ${JSON.stringify(names)}
      report(**{name: outcome(lambda: connect(export=name)) for name in names})
      `,
    );
    expect(reported).toEqual(Object.fromEntries(names.map((name) => [name, "ENOENT"])));
  });
});
