/**
 * --filter=exportname (man nbdkit-exportname-filter) over the file plugin serving a directory:
 * `exportname-list=` decides what NBD_OPT_LIST reports (the plugin's names, an error, nothing,
 * the default export alone, or the `exportname=` names), `default-export=` what "" opens,
 * `exportname-strict=true` refuses names not given by `exportname=`, and `exportdesc=` sets the
 * descriptions (none, fixed, or a script's output with $name set) both in the list and in
 * NBD_INFO_DESCRIPTION. Same names, descriptions, contents and refusals as nbdkit.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A directory of two files, "file1" ("one") and "file2" ("second"), as the file plugin serves it. */
function directory(): string[] {
  const dir = scratchDir();
  writeFileSync(join(dir, "file1"), "one");
  writeFileSync(join(dir, "file2"), "second");
  return ["file", `dir=${dir}`];
}

/**
 * Python: `listed()` is NBD_OPT_LIST's [name, description] pairs (or its errno name), sorted;
 * `opened(name)` is [size, description] of the export, or the errno name of the refusal.
 */
const HELPERS = `
def listed():
    h = nbd.NBD()
    h.set_opt_mode(True)
    h.connect_unix(unixsocket)
    found = []
    try:
        h.opt_list(lambda name, desc: found.append([name, desc]) or 0)
    except nbd.Error as e:
        return e.errno
    finally:
        h.opt_abort()
    return sorted(found)

def opened(name):
    h = nbd.NBD()
    h.set_full_info(True)
    h.set_export_name(name)
    try:
        h.connect_unix(unixsocket)
    except nbd.Error as e:
        return e.errno
    try:
        desc = h.get_export_description()
    except nbd.Error:
        desc = None
    result = [h.get_size(), desc]
    h.shutdown()
    return result
`;

function names(server: (typeof servers)[number], params: readonly string[], body: string) {
  return libnbd(server, ["--filter=exportname", ...directory(), ...params], HELPERS + body);
}

describe.each(servers)("exportname filter ($name)", (server) => {
  test("exportname-list= decides what NBD_OPT_LIST reports", async (context) => {
    requireClients(context, "nbdsh");
    const list = (params: string[]) => names(server, params, "report(list=listed())");
    expect(await list([])).toEqual({ list: [["file1", ""], ["file2", ""]] });
    expect(await list(["exportname-list=keep"])).toEqual({ list: [["file1", ""], ["file2", ""]] });
    expect(await list(["exportname-list=error"])).toEqual({ list: "ENOTSUP" });
    expect(await list(["exportname-list=empty"])).toEqual({ list: [] });
    expect(await list(["exportname-list=defaultonly", "default-export=file2"]))
      .toEqual({ list: [["file2", ""]] });
    expect(await list(["exportname_list=default-only"])).toEqual({ list: [["", ""]] });
    expect(await list(["exportname-list=explicit", "exportname=b", "exportname=a"]))
      .toEqual({ list: [["a", ""], ["b", ""]] });
  });

  test("default-export= is what the default export opens; other names pass through", async (context) => {
    requireClients(context, "nbdsh");
    expect(
      await names(
        server,
        ["default-export=file2"],
        `report(default=opened(""), one=opened("file1"), missing=opened("nope"))`,
      ),
    ).toEqual({ default: [6, null], one: [3, null], missing: "ENOENT" });
  });

  test("exportname-strict=true serves only the exportname= names", async (context) => {
    requireClients(context, "nbdsh");
    const strict = ["exportname-strict=true", "exportname=file1"];
    expect(
      await names(
        server,
        strict,
        `report(one=opened("file1"), two=opened("file2"), default=opened(""))`,
      ),
    ).toEqual({ one: [3, null], two: "ENOENT", default: "ENOENT" });
    expect(
      await names(
        server,
        [...strict, "exportname=", "default-export=file1"],
        `report(default=opened(""), list=listed())`,
      ),
    ).toEqual({ default: [3, null], list: [["file1", ""], ["file2", ""]] });
  });

  test("exportdesc= sets descriptions in the list and in the export's information", async (context) => {
    requireClients(context, "nbdsh");
    const described = (params: string[]) =>
      names(server, params, `report(list=listed(), info=opened("file2"))`);
    expect(await described(["exportdesc=fixed:a disk"])).toEqual({
      list: [["file1", "a disk"], ["file2", "a disk"]],
      info: [6, "a disk"],
    });
    expect(await described(["exportdesc=none"])).toEqual({
      list: [["file1", ""], ["file2", ""]],
      info: [6, null],
    });
    expect(await described(['exportdesc=script:echo "the $name file"'])).toEqual({
      list: [["file1", "the file1 file"], ["file2", "the file2 file"]],
      info: [6, "the file2 file"],
    });
  });

  test("bad modes are refused at start-up, and --help shows nbdkit's parameters", async () => {
    expect(await refusedStart(server, ["--filter=exportname", "null", "exportname-list=x"]))
      .toContain("unrecognized exportname-list mode: x");
    expect(await refusedStart(server, ["--filter=exportname", "null", "exportdesc=x"]))
      .toContain("unrecognized exportdesc mode: x");
    expect(await refusedStart(server, ["--filter=exportname", "null", "exportname-strict=x"]))
      .toContain("could not decipher boolean (x)");
    expect(await filterHelp(server, "exportname")).toBe(
      'default-export=<NAME>     Canonical name for the "" default export.\n' +
        "exportname-list=<MODE>    Which exports to advertise: keep (default), error,\n" +
        "                          empty, defaultonly, explicit.\n" +
        "exportname-strict=<BOOL>  Limit clients to explicit exports (default false).\n" +
        "exportname=<NAME>         Add an explicit export name, may be repeated.\n" +
        "exportdesc=<MODE>         Set descriptions according to mode: keep (default),\n" +
        "                          none, fixed:STRING, script:SCRIPT.",
    );
  });
});
