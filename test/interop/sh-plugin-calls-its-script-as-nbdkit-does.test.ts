/**
 * The sh plugin runs its script once per callback, `SCRIPT METHOD ARGS…`, and a script that
 * logs its arguments sees the same calls, with the same arguments, in the same order, whichever
 * server runs it (nbdkit-sh-plugin(3), "Methods"): load and magic_config_key first, config for
 * each parameter, thread_model between config_complete and get_ready, the handle `open` printed
 * on every later call, the capability questions in nbdkit's order (none about writes for a
 * read-only export), FUA emulated by flush when can_fua is missing, a missing zero turned into
 * pwrite, the default export asked once per connection, and unload last.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer } from "../helpers/captive.ts";
import { callLog, readOnlyQuestions, UNTIL_OPEN, writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A script that logs every call and answers `cases` (shell case arms), else exits 2. */
function loggingScript(cases: string) {
  const log = callLog();
  const script = writeScript(`${log.line}\ncase "$1" in\n${cases}\n  *) exit 2 ;;\nesac\n`);
  return { script, calls: log.calls };
}

const READS = `
  get_size) echo 1M ;;
  pread) dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
  config) exit 0 ;;
  open) echo myhandle ;;`;

const WRITES = `
  get_size) echo 1M ;;
  pread) dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
  can_write|can_zero|can_trim|can_flush|can_extents) exit 0 ;;
  pwrite) cat >/dev/null ;;
  extents) echo 0 1M ;;`;

describe.each(servers)("the sh plugin calls its script as nbdkit does ($name)", (server) => {
  test("a read: parameters go to config, and the handle open printed to every later call", async (context) => {
    requireClients(context, "nbdsh");
    const { script, calls } = loggingScript(READS);
    expectSuccess(
      await captive(
        server,
        ["sh", script, "a=1"],
        `nbdsh -u "$uri" -c 'h.pread(512, 0)' -c 'h.shutdown()'`,
      ),
    );
    expect(calls()).toEqual([
      "load",
      "magic_config_key",
      "config a 1",
      ...UNTIL_OPEN,
      "open false  false",
      "get_size myhandle",
      "can_write myhandle",
      ...readOnlyQuestions("myhandle"),
      "pread myhandle 512 0",
      "close myhandle",
      "unload",
    ]);
  });

  test("writes: FUA by flush, zero missing becomes pwrite, flags as words", async (context) => {
    requireClients(context, "nbdsh");
    const { script, calls } = loggingScript(WRITES);
    const commands = [
      "h.pwrite(bytearray(512), 0, nbd.CMD_FLAG_FUA)",
      "h.zero(512, 4096)",
      "h.flush()",
      "h.trim(512, 0)",
      "h.block_status(4096, 0, lambda *args: 0)",
      "h.shutdown()",
    ];
    const run = `nbdsh --base-allocation -u "$uri" ${commands.map((c) => `-c '${c}'`).join(" ")}`;
    expectSuccess(await captive(server, ["sh", script], run));
    expect(calls()).toEqual([
      "load",
      "magic_config_key",
      ...UNTIL_OPEN,
      "open false  false",
      "get_size ",
      "can_write ",
      "can_zero ",
      "can_fast_zero ",
      "can_trim ",
      "can_fua ",
      "can_flush ",
      "is_rotational ",
      "can_multi_conn ",
      "can_cache ",
      "can_extents ",
      "block_size ",
      "pwrite  512 0 ",
      "flush ",
      "zero  512 4096 may_trim",
      "pwrite  512 4096 ",
      "flush ",
      "trim  512 0 ",
      "extents  4096 0 ",
      "close ",
      "unload",
    ]);
  });

  test("-r and a listing: list_exports, the default export asked once, no write questions", async (context) => {
    requireClients(context, "nbdinfo");
    const { script, calls } = loggingScript(READS);
    expectSuccess(
      await captive(server, ["sh", script], 'nbdinfo --list "$uri"', { serverOptions: ["-r"] }),
    );
    expect(calls()).toEqual([
      "load",
      "magic_config_key",
      ...UNTIL_OPEN.slice(0, 4),
      "preconnect true",
      "list_exports true false",
      "default_export true false",
      "open true  false",
      "get_size myhandle",
      ...readOnlyQuestions("myhandle"),
      "export_description myhandle",
      "close myhandle",
      "unload",
    ]);
  });

  test("--dump-plugin: thread_model and dump_plugin, and nothing that needs a client", async () => {
    const { script, calls } = loggingScript(`  dump_plugin) echo mine=1 ;;`);
    const { stdout } = expectSuccess(await runServer(server, ["--dump-plugin", "sh", script]));
    expect(stdout).toMatch(/^name=sh$/m);
    expect(stdout).toMatch(/^thread_model=serialize_all_requests$/m);
    expect(stdout.trimEnd().split("\n").slice(-2)).toEqual(["max_known_status=3", "mine=1"]);
    expect(calls()).toEqual(["load", "magic_config_key", "thread_model", "dump_plugin", "unload"]);
  });
});
