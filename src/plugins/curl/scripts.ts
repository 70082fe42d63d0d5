/**
 * header-script= and cookie-script= (man nbdkit-curl-plugin, "HEADER AND COOKIE SCRIPTS"): a
 * shell script prints the headers (one a line) or the cookie line; it runs before the first
 * request and again once its -renew= seconds have passed since it last ran, with $iteration
 * (0 the first time) and $url set. Every connection shares the answer, as in nbdkit.
 */

import { ConfigError, ERRNO, NbdError } from "../../api/errors.ts";
import { debug } from "../../api/debug.ts";
import type { PluginHost } from "../../io.ts";
import { shellWord } from "./shell-word.ts";

/** One script's latest output, rerun when stale. */
export interface ScriptOutput {
  /** The script's output lines; runs it first when it never ran or its answer is stale. */
  lines(): Promise<string[]>;
}

export function scriptOutput(
  kind: "header-script" | "cookie-script",
  script: string,
  renewSeconds: number,
  url: string,
  host: PluginHost | undefined,
): ScriptOutput {
  if (!host) throw new ConfigError(`${kind}: this server gives plugins no way to run commands`);
  let iteration = 0;
  let ranAt = -Infinity;
  let latest: Promise<string[]> | undefined;

  async function runOnce(): Promise<string[]> {
    const text = `iteration=${iteration++}\nurl=${shellWord(url)}\n${script}`;
    const { output, status } = await host!.runCommand(text, undefined);
    if (status !== 0) throw new NbdError(ERRNO.EIO, `${kind}: failed with exit status ${status}`);
    const lines = new TextDecoder().decode(output).split("\n").map((line) => line.trim());
    debug(`curl: ${kind}: ${lines.filter((line) => line !== "").join(" | ")}`);
    return lines.filter((line) => line !== "");
  }

  return {
    lines() {
      const stale = renewSeconds > 0 && Date.now() - ranAt > renewSeconds * 1000;
      if (latest === undefined || stale) {
        ranAt = Date.now();
        latest = runOnce();
        latest.catch(() => (latest = undefined)); // a failed run is tried again next time
      }
      return latest;
    },
  };
}
