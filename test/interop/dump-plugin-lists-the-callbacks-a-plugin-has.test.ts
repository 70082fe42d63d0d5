/**
 * --dump-plugin lists each callback a plugin has as a `has_NAME=1` line, by nbdkit's names and
 * in nbdkit's order (server/plugins.c, plugin_dump_fields), which tools read to learn what a
 * plugin implements: the handle's callbacks too (get_size, can_*, pread, pwrite …), which nbdts
 * learns by opening one handle. The built-in null, pattern and full plugins have the same handle
 * callbacks as nbdkit's, so every server must print the same lines for them; a module plugin's
 * lines are checked against nbdts alone (nbdkit cannot load one).
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, runServer, scratchDir } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

/** nbdkit 1.32.5's order of the has_ lines. */
const ORDER = (
  "longname description load unload dump_plugin config config_complete config_help " +
  "thread_model get_ready after_fork cleanup preconnect list_exports default_export open close " +
  "export_description get_size block_size can_write can_flush is_rotational can_trim can_zero " +
  "can_fast_zero can_extents can_fua can_multi_conn can_cache pread pwrite flush trim zero " +
  "extents cache"
).split(" ");

/** The has_ lines from has_open on: the handle's callbacks, which nbdkit keeps on its plugin. */
const HANDLE_LINES: Record<string, string[]> = {
  null: [
    "open",
    "get_size",
    "can_fast_zero",
    "can_fua",
    "can_multi_conn",
    "can_cache",
    "pread",
    "pwrite",
    "flush",
    "trim",
    "zero",
    "extents",
  ],
  pattern: ["open", "get_size", "can_multi_conn", "can_cache", "pread"],
  full: ["open", "get_size", "can_multi_conn", "can_cache", "pread", "pwrite", "trim", "extents"],
};

/** The NAMEs of the has_NAME=1 lines in `stdout`. */
function hasLines(stdout: string): string[] {
  return stdout.split("\n").flatMap((line) => {
    const match = /^has_(\w+)=1$/.exec(line);
    return match ? [match[1]] : [];
  });
}

describe.each(servers)("--dump-plugin lists the callbacks a plugin has ($name)", (server) => {
  test.each(Object.keys(HANDLE_LINES))(
    "%s: the handle's callbacks, in nbdkit's order",
    async (plugin) => {
      const names = hasLines(
        expectSuccess(await runServer(server, [plugin, "--dump-plugin"])).stdout,
      );
      expect(names.slice(names.indexOf("open"))).toEqual(HANDLE_LINES[plugin]);
      const positions = names.map((name) => ORDER.indexOf(name));
      expect(positions).not.toContain(-1);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
    },
  );

  test.runIf(server.name.startsWith("nbdts"))(
    "a module plugin's own callbacks and its handle's, in nbdkit's names",
    async () => {
      const dir = scratchDir();
      const path = join(dir, "plugin.ts");
      writeFileSync(
        path,
        `export default {
  name: "listed",
  config() {},
  open: () => ({
    getSize: () => 512,
    readAt(buf: Uint8Array) { buf.fill(0); },
    writeAt() {},
    flush() {},
    canMultiConn: () => true,
    close() {},
  }),
};
`,
      );
      const { stdout } = expectSuccess(await runServer(server, [path, "--dump-plugin"]));
      expect(hasLines(stdout)).toEqual([
        "config",
        "open",
        "close",
        "get_size",
        "can_multi_conn",
        "pread",
        "pwrite",
        "flush",
      ]);
    },
  );
});
