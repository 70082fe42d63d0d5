/**
 * sh (man nbdkit-sh-plugin): a plugin written as a script, or any program, run once per
 * callback as `SCRIPT METHOD ARGS…` (src/plugins/sh/). The first parameter names the script
 * (`-` reads it from stdin); every later one goes to its config method, a bare value under the
 * key its magic_config_key method prints. nbdkit's plugins/sh/sh.c does the same.
 */

import { ConfigError, messageOf } from "../api/errors.ts";
import type { Plugin } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { EXIT, type ScriptHost, scriptHost, ScriptRunner } from "./sh/call.ts";
import {
  callForEffect,
  callForText,
  callMethod,
  type ScriptCalls,
  unexpectedFalse,
} from "./sh/answers.ts";
import { notLoaded, scriptMethods, unloadScripts } from "./sh/methods.ts";

export function createShPlugin(host?: PluginHost): Plugin {
  let scripts: ScriptHost | undefined;
  let runner: ScriptRunner | undefined;
  let script: string | undefined;
  /** What the script's magic_config_key printed, if it has that method. */
  let magicKey: string | undefined;
  const calls: ScriptCalls = {
    runner: () => runner ?? notLoaded(),
    scriptFor: () => script,
  };
  const shared = scriptMethods(calls);

  /** `sh -`: stdin copied into $tmpdir, as nbdkit copies it, and made runnable. */
  async function inlineScript(): Promise<string> {
    if (!scripts!.readStdin) throw new ConfigError("inline script is incompatible with -s");
    const path = `${calls.runner().tmpdir}/inline-script.sh`;
    try {
      await scripts!.writeFile(path, await scripts!.readStdin(), 0o500);
    } catch (error) {
      throw new ConfigError(`failed to copy inline script to temporary file: ${messageOf(error)}`);
    }
    return path;
  }

  async function realpath(path: string): Promise<string> {
    try {
      return await scripts!.realpath(path);
    } catch (error) {
      throw new ConfigError(`realpath: ${path}: ${messageOf(error)}`);
    }
  }

  return {
    ...shared,
    name: "sh",
    version: VERSION,
    configHelp: "script=<FILENAME>     (required) The shell script to run.\n" +
      "[other arguments may be used by the plugin that you load]",
    magicConfigKey: "script",

    async load() {
      scripts = scriptHost(host, "sh");
      runner = await ScriptRunner.create(scripts);
    },

    async unload() {
      await unloadScripts(calls, runner);
      runner = undefined;
    },

    async config(key, value) {
      if (script === undefined) {
        if (key !== "script") {
          throw new ConfigError("the first parameter must be script=/path/to/script");
        }
        script = value === "-" ? await inlineScript() : await realpath(value);
        await callForEffect(calls, "load");
        magicKey = await callForText(calls, "magic_config_key");
        return;
      }
      // A bare value comes as script=…: it is the script's own magic config key's.
      if (key === "script") {
        if (magicKey === undefined) {
          throw new ConfigError(
            `${script}: expecting key=value on the command line but got: ${value}`,
          );
        }
        key = magicKey;
      }
      const { status } = await callMethod(calls, "config", [key, value]);
      if (status === EXIT.MISSING) {
        throw new ConfigError(`${script}: this plugin does not need command line configuration`);
      }
      if (status === EXIT.FALSE) throw unexpectedFalse(calls, "config");
    },

    async configComplete() {
      if (script === undefined) throw new ConfigError("missing script parameter");
      await shared.configComplete!();
    },
  };
}
