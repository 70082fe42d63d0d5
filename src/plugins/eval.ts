/**
 * eval (man nbdkit-eval-plugin): the sh plugin's methods given as shell snippets on the command
 * line, `get_size='echo 64M' pread='dd …'`, each saved as a script in $tmpdir and run by
 * /bin/sh. A method not given runs `missing=` (default `exit 2`); a parameter that names no
 * method goes to the config snippet. As nbdkit's plugins/eval/eval.c, and unlike sh, a can_*
 * method left out answers true when its method was given (can_cache: native).
 */

import { ConfigError } from "../api/errors.ts";
import type { Plugin } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { EXIT, type ScriptHost, scriptHost, ScriptRunner } from "./sh/call.ts";
import { callMethod, type ScriptCalls, unexpectedFalse } from "./sh/answers.ts";
import { notLoaded, scriptMethods, unloadScripts } from "./sh/methods.ts";

/** The parameters that are methods (nbdkit's known_methods); any other key goes to config. */
const METHODS = new Set([
  "after_fork",
  "block_size",
  "cache",
  "can_cache",
  "can_extents",
  "can_fast_zero",
  "can_flush",
  "can_fua",
  "can_multi_conn",
  "can_trim",
  "can_write",
  "can_zero",
  "close",
  "config",
  "config_complete",
  "default_export",
  "dump_plugin",
  "export_description",
  "extents",
  "flush",
  "get_ready",
  "get_size",
  "is_rotational",
  "list_exports",
  "missing",
  "open",
  "pread",
  "preconnect",
  "pwrite",
  "thread_model",
  "trim",
  "unload",
  "zero",
]);

/** The can_* snippets made up when only their method was given, as nbdkit's core would answer. */
const CAN_WRAPPERS: readonly (readonly [string, string, string])[] = [
  ["pwrite", "can_write", "exit 0"],
  ["flush", "can_flush", "exit 0"],
  ["trim", "can_trim", "exit 0"],
  ["zero", "can_zero", "exit 0"],
  ["extents", "can_extents", "exit 0"],
  ["cache", "can_cache", "echo native"],
];

const encoder = new TextEncoder();

export function createEvalPlugin(host?: PluginHost): Plugin {
  let scripts: ScriptHost | undefined;
  let runner: ScriptRunner | undefined;
  /** The script run for any method not given: $tmpdir/missing. */
  let missing: string | undefined;
  const given = new Map<string, string>();
  const calls: ScriptCalls = {
    runner: () => runner ?? notLoaded(),
    scriptFor: (method) => given.get(method) ?? missing,
  };
  const shared = scriptMethods(calls);

  /** Saves a snippet as $tmpdir/METHOD, ending in a newline, runnable (nbdkit's create_script). */
  async function saveScript(method: string, text: string): Promise<string> {
    const path = `${calls.runner().tmpdir}/${method}`;
    if (path === missing) await scripts!.removePath(path); // `missing=`: mode 0500 refuses writes
    const body = text === "" || text.endsWith("\n") ? text : `${text}\n`;
    await scripts!.writeFile(path, encoder.encode(body), 0o500);
    return path;
  }

  async function addMethod(method: string, text: string): Promise<void> {
    if (given.has(method)) {
      throw new ConfigError(`method ${method} defined more than once on the command line`);
    }
    given.set(method, await saveScript(method, text));
  }

  return {
    ...shared,
    name: "eval",
    version: VERSION,
    configHelp: "get_size=' SCRIPT '\npread=' SCRIPT '\n[etc]",

    async load() {
      scripts = scriptHost(host, "eval");
      runner = await ScriptRunner.create(scripts);
      missing = await saveScript("missing", "exit 2");
    },

    async unload() {
      await unloadScripts(calls, runner);
      runner = undefined;
    },

    async config(key, value) {
      if (METHODS.has(key)) return addMethod(key, value);
      const { status } = await callMethod(calls, "config", [key, value]);
      if (status === EXIT.MISSING) {
        throw new ConfigError(
          `${calls.scriptFor("config")}: callback '${key}' is unknown, and there is no ` +
            "'config' callback to handle it",
        );
      }
      if (status === EXIT.FALSE) throw unexpectedFalse(calls, "config");
    },

    async configComplete() {
      for (const [method, question, answer] of CAN_WRAPPERS) {
        if (given.has(method) && calls.scriptFor(question) === missing) {
          given.set(question, await saveScript(question, answer));
        }
      }
      await shared.configComplete!();
    },
  };
}
