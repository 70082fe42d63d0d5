/**
 * The shapes of nbdkit's tests/test-eval-exports.sh and test-export-info.sh: what a script's
 * list_exports prints (NAMES, INTERLEAVED or NAMES+DESCRIPTIONS, or bare names) is the export
 * list NBD_OPT_LIST gives, read line by line as nbdkit reads it (a last line without its
 * newline is dropped); default_export names the export "" stands for, and open receives the
 * name the client asked for; export_description is what NBD_INFO_DESCRIPTION carries.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** [listed text, default export name, exports as [name, description, size]] */
const LISTS:
  readonly (readonly [string, string, readonly (readonly [string, string | null, number])[]])[] = [
    ["", "", []],
    ["NAMES\n", "", []],
    ["INTERLEAVED\n", "", []],
    ["NAMES+DESCRIPTIONS\n", "", []],
    ["\n", "", [["", null, 1]]],
    ["NAMES\n\n", "", [["", null, 1]]],
    ["INTERLEAVED\n\n", "", [["", null, 1]]],
    ["INTERLEAVED\n\n\n", "", [["", null, 1]]],
    ["NAMES+DESCRIPTIONS\n\n", "", [["", null, 1]]],
    ["NAMES+DESCRIPTIONS\n\n\n", "", [["", null, 1]]],
    ["name\n", "name", [["name", null, 5]]],
    ["NAMES\nname\n", "name", [["name", null, 5]]],
    ["name", "name", []],
    ["INTERLEAVED\nname\ndesc\n", "name", [["name", "desc", 5]]],
    ["NAMES+DESCRIPTIONS\nname\ndesc\n", "name", [["name", "desc", 5]]],
    [
      "INTERLEAVED\nname 1\ndesc 1\nname two\ndesc 2\n",
      "name 1",
      [["name 1", "desc 1", 7], ["name two", "desc 2", 9]],
    ],
    [
      "NAMES+DESCRIPTIONS\nname 1\nname two\ndesc 1\ndesc 2\n",
      "name 1",
      [["name 1", "desc 1", 7], ["name two", "desc 2", 9]],
    ],
    [
      "INTERLEAVED\nname 1\ndesc 1\nname two\n",
      "name 1",
      [["name 1", "desc 1", 7], ["name two", null, 9]],
    ],
    [
      "NAMES+DESCRIPTIONS\nname 1\nname two\ndesc 1\n",
      "name 1",
      [["name 1", "desc 1", 7], ["name two", null, 9]],
    ],
    ["INTERLEAVED\nname\ndesc", "name", [["name", null, 5]]],
  ];

interface Listed {
  exports: { "export-name": string; description?: string; "export-size": number }[];
}

describe.each(servers)(
  "the sh plugin lists exports with names and descriptions ($name)",
  (server) => {
    test("each form of list_exports and default_export, read as nbdkit reads it", async (context) => {
      requireClients(context, "nbdinfo");
      const dir = scratchDir();
      const list = join(dir, "list");
      // get_size is the length of the handle (the export name) plus a newline, as in nbdkit's test.
      const background = await startServer(server, [
        "eval",
        `get_size=echo "$2" | wc -c`,
        `open=echo "$3"`,
        `list_exports=cat '${list}'`,
        `default_export=cat '${list}'`,
      ]);
      const uri = `nbd+unix:///?socket=${background.socket}`;
      for (const [text, defaultName, expected] of LISTS) {
        writeFileSync(list, text);
        const listed = await run(["nbdinfo", "--list", "--json", uri]);
        expect(listed.status, listed.stderr).toBe(0);
        const exports = (JSON.parse(listed.stdout) as Listed).exports.map((e) => [
          e["export-name"],
          e.description ?? null,
          e["export-size"],
        ]);
        expect([text, exports]).toEqual([text, expected]);
        const one = await run(["nbdinfo", "--no-content", uri]);
        expect([text, /^export="(.*)":$/m.exec(one.stdout)?.[1]]).toEqual([text, defaultName]);
      }
    });

    test("without list_exports the default export alone is listed, or none when it fails", async (context) => {
      requireClients(context, "nbdinfo");
      const hello = expectSuccess(
        await captive(
          server,
          ["eval", "default_export=echo hello", "get_size=echo 0"],
          'nbdinfo --list "$uri"',
        ),
      );
      expect(hello.stdout.split("\n").filter((l) => l.startsWith("export="))).toEqual([
        'export="hello":',
      ]);
      const none = expectSuccess(
        await captive(
          server,
          ["eval", "default_export=echo ENOENT >&2; exit 1", "get_size=echo 0"],
          'nbdinfo --list "$uri"',
        ),
      );
      expect(none.stdout.split("\n").filter((l) => l.startsWith("export="))).toEqual([]);
    });

    test("export_description and the canonical name reach a client that asks (NBD_OPT_INFO, GO)", async (context) => {
      requireClients(context, "nbdsh");
      const script = writeScript(`case "$1" in
  default_export) echo hello ;;
  open) echo "$3" ;;
  export_description) echo "$2 world" ;;
  get_size) echo 0 ;;
  *) exit 2 ;;
esac
`);
      const { stdout } = expectSuccess(
        await captive(
          server,
          ["sh", script],
          `unixsocket="$unixsocket" nbdsh -c '
import os
h.set_opt_mode(True)
h.set_full_info(True)
h.connect_unix(os.environ["unixsocket"])
h.set_export_name("a")
h.opt_info()
print(h.get_canonical_export_name(), "|", h.get_export_description())
h.set_export_name("")
h.opt_info()
print(h.get_canonical_export_name(), "|", h.get_export_description())
h.opt_go()
print(h.get_canonical_export_name(), "|", h.get_export_description())
h.shutdown()
'`,
        ),
      );
      expect(stdout.trim().split("\n")).toEqual([
        "a | a world",
        "hello | hello world",
        "hello | hello world",
      ]);
    });
  },
);
