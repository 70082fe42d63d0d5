/**
 * file dir=DIR: NBD_OPT_LIST names the files in the order the directory gives them (readdir,
 * as `ls -U` shows), not sorted, as nbdkit's file plugin does. The names are made in a scrambled
 * order and the test first checks that this directory's order is not the sorted one.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const NAMES = ["m.img", "c.img", "x.img", "a.img", "q.img", "b.img", "z.img", "k.img", "f.img"];

describe.each(servers)("file plugin dir= order ($name)", (server) => {
  test("nbdinfo --list gives the exports in directory order", async (context) => {
    requireClients(context, "nbdinfo", "ls");
    const dir = join(scratchDir(), "disks");
    mkdirSync(dir);
    for (const name of NAMES) writeFileSync(join(dir, name), name);
    const listed = expectSuccess(await run(["ls", "-U", dir])).stdout.trim().split("\n");
    expect(listed.toSorted()).toEqual(NAMES.toSorted());
    expect(listed, "this file system lists these names sorted: pick others").not.toEqual(
      NAMES.toSorted(),
    );
    const { stdout } = expectSuccess(
      await captive(server, ["file", `dir=${dir}`], 'nbdinfo --list --json "$uri"'),
    );
    const info = JSON.parse(stdout) as { exports: Record<string, unknown>[] };
    expect(info.exports.map((entry) => entry["export-name"])).toEqual(listed);
  });
});
