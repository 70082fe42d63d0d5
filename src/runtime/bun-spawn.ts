/**
 * PluginHost.spawn on Bun.spawn, which starts a program faster than Bun's node:child_process.
 * Bun starts programs with posix_spawn, which refuses a file without `#!`: such a file is run
 * again under /bin/sh, as glibc's execvp would. Aborting kills the program and everything it
 * started (kill-tree.ts).
 */

import type { SpawnOptions, SpawnResult } from "../io.ts";
import type { BunSpawn } from "./bun-api.ts";
import { abortable, drain, outputsFor, spawnResult, withShellFallback } from "./child-output.ts";
import { killTree } from "./kill-tree.ts";
import { environmentWith, signalNumberOf } from "./node-spawn.ts";

/** Bun's spawner; `spawn` is Bun.spawn. */
export function bunSpawn(spawn: BunSpawn) {
  return async function run(
    argv: readonly string[],
    options: SpawnOptions = {},
  ): Promise<SpawnResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const env = environmentWith(options.env);
    const child = withShellFallback(argv, (cmd) =>
      spawn({
        cmd,
        stdin: options.stdin ?? "ignore",
        stdout: "pipe",
        stderr: "pipe",
        ...(env && { env }),
      }));
    const outputs = outputsFor(options);
    const finished = Promise.all([
      drain(child.stdout, outputs.stdout),
      drain(child.stderr, outputs.stderr),
      child.exited,
    ]);
    let status;
    if (signal) {
      const abort = abortable(signal, () => {
        killTree(child.pid);
        child.stdout.cancel().catch(() => {});
        child.stderr.cancel().catch(() => {});
      });
      try {
        [, , status] = await Promise.race([finished, abort.aborted]);
      } finally {
        abort.settled();
      }
    } else [, , status] = await finished;
    // Bun does not say whether the program read all of its stdin.
    return spawnResult(outputs, status, signalNumberOf(child.signalCode), false);
  };
}
