/**
 * PluginHost.spawn on Deno.Command, which starts a program faster than Deno's node:child_process
 * (its pipes are read as web streams, with no Node stream on top). Aborting kills the program
 * and everything it started (kill-tree.ts), and stops reading its pipes.
 */

import type { SpawnOptions, SpawnResult } from "../io.ts";
import { abortable, drain, outputsFor, spawnResult } from "./child-output.ts";
import type { DenoApi } from "./deno-api.ts";
import { killTree } from "./kill-tree.ts";
import { signalNumberOf } from "./node-spawn.ts";

/** Deno's spawner; `Deno` is the runtime's namespace. */
export function denoSpawn(Deno: DenoApi) {
  return async function spawn(
    argv: readonly string[],
    options: SpawnOptions = {},
  ): Promise<SpawnResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      ...(options.env && { env: { ...options.env } }), // added to Deno's own environment
    }).spawn();
    const outputs = outputsFor(options);
    let stdinRefused = false;
    const fed = options.stdin && feed(child.stdin, options.stdin).catch(() => {
      stdinRefused = true;
    });
    const finished = Promise.all([
      drain(child.stdout, outputs.stdout),
      drain(child.stderr, outputs.stderr),
      child.status,
      fed,
    ]);
    let status;
    if (signal) {
      const abort = abortable(signal, () => kill(child));
      try {
        [, , status] = await Promise.race([finished, abort.aborted]);
      } finally {
        abort.settled();
      }
    } else [, , status] = await finished;
    return spawnResult(outputs, status.code, signalNumberOf(status.signal), stdinRefused);
  };
}

async function feed(stdin: WritableStream<Uint8Array>, data: Uint8Array): Promise<void> {
  const writer = stdin.getWriter();
  try {
    await writer.write(data);
  } finally {
    await writer.close().catch(() => {});
  }
}

function kill(child: { pid: number; stdout: ReadableStream; stderr: ReadableStream }): void {
  killTree(child.pid);
  child.stdout.cancel().catch(() => {});
  child.stderr.cancel().catch(() => {});
}
