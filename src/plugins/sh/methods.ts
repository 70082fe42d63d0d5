/**
 * nbdkit's callbacks as calls of a script, shared by the sh and eval plugins as nbdkit shares
 * plugins/sh/methods.c: each callback runs `SCRIPT METHOD ARGS…` with nbdkit's arguments, reads
 * what it prints as nbdkit reads it, and does what nbdkit does when the method is missing
 * (exit status 2): a default, an error, or the core server's emulation. The plugins differ in
 * which script runs a method (`scriptFor`) and in how they are configured.
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import { debug } from "../../api/debug.ts";
import { logError } from "../../api/error-log.ts";
import type { ExportEntry, Handle, Plugin, ThreadModel } from "../../api/plugin.ts";
import { EXIT, type ScriptRunner, textOf } from "./call.ts";
import {
  askThreadModel,
  callForEffect,
  callForText,
  callMethod,
  type ScriptCalls,
  unexpectedFalse,
  word,
} from "./answers.ts";
import { parseDefaultExport, parseExports } from "./exports.ts";
import { scriptHandle } from "./handle.ts";

/**
 * unload: the script's unload method, whose errors nbdkit ignores (they are logged), then
 * $tmpdir and all in it removed. Skipped when there is no script yet.
 */
export async function unloadScripts(calls: ScriptCalls, runner: ScriptRunner | undefined) {
  if (runner === undefined) return;
  if (calls.scriptFor("unload") !== undefined) {
    try {
      await callMethod(calls, "unload", [], { logFailure: true });
    } catch {
      // ignored, as in nbdkit
    }
  }
  await runner.dispose();
}

/** What a script plugin says when it is used before load() made its $tmpdir. */
export function notLoaded(): never {
  throw new ConfigError("the plugin was configured before it was loaded");
}

/**
 * The callbacks both plugins share; load, unload and config are each plugin's own, and each
 * checks its own configuration before calling the shared configComplete.
 */
export function scriptMethods(
  calls: ScriptCalls,
): Pick<
  Plugin,
  | "configComplete"
  | "threadModel"
  | "getReady"
  | "afterFork"
  | "dumpPlugin"
  | "preconnect"
  | "listExports"
  | "defaultExport"
  | "open"
> {
  /** Asked right after config_complete, where nbdkit asks (before get_ready), then kept. */
  let threadModel: ThreadModel | undefined;
  let configured = false;
  const timed = { timed: true } as const;
  async function defaultExport(readonly: boolean, tls = false): Promise<string> {
    const args = [word(readonly), word(tls)];
    const answer = await callMethod(calls, "default_export", args, timed);
    if (answer.status === EXIT.FALSE) throw unexpectedFalse(calls, "default_export");
    if (answer.status === EXIT.MISSING) return "";
    return parseDefaultExport(textOf(answer.stdout));
  }
  return {
    async configComplete() {
      await callForEffect(calls, "config_complete");
      threadModel = await askThreadModel(calls);
      configured = true;
    },
    threadModel: () => threadModel ?? askThreadModel(calls),
    getReady: () => callForEffect(calls, "get_ready"),
    afterFork: () => callForEffect(calls, "after_fork"),

    async dumpPlugin() {
      const lines = ["max_known_status=3"];
      if (calls.scriptFor("dump_plugin") === undefined) return lines;
      try {
        const text = await callForText(calls, "dump_plugin");
        if (text !== undefined) lines.push(...text.split("\n"));
      } catch (error) {
        logError(messageOf(error)); // nbdkit prints the error and the rest of the dump
      }
      return lines;
    },

    preconnect: (readonly) => callForEffect(calls, "preconnect", [word(readonly)], timed),

    async listExports(readonly, tls = false): Promise<ExportEntry[] | undefined> {
      const args = [word(readonly), word(tls)];
      const answer = await callMethod(calls, "list_exports", args, timed);
      if (answer.status === EXIT.FALSE) throw unexpectedFalse(calls, "list_exports");
      if (answer.status === EXIT.OK) return parseExports(textOf(answer.stdout));
      return undefined; // missing: the default export alone (nbdkit_use_default_export)
    },

    defaultExport,

    async open(readonly, exportName, tls = false): Promise<Handle> {
      // Before configComplete the server is only looking at a handle's callbacks
      // (--dump-plugin), where nbdkit reads them from its plugin struct: run nothing.
      if (!configured) return { ...scriptHandle(calls, ""), close() {} };
      const args = [word(readonly), exportName, word(tls)];
      const text = await callForText(calls, "open", args, timed);
      const handle = text ?? ""; // unlike C plugins, open may be missing: the handle is ""
      if (handle !== "") debug(`sh: handle: ${handle}`);
      return scriptHandle(calls, handle);
    },
  };
}
