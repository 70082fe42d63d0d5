/**
 * PluginHost.spawn on node:child_process, Node's only way to start a program (libuv forks and
 * execs it; its execvp runs a file without `#!` under /bin/sh). Aborting kills the program and
 * everything it started (kill-tree.ts), and stops reading its pipes, so nothing it left behind
 * can hold the call open.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import process from "node:process";
import type { SpawnOptions, SpawnResult } from "../io.ts";
import { outputsFor, spawnResult } from "./child-output.ts";
import { killTree } from "./kill-tree.ts";

/** The server's environment plus each variable set, made once per set of extra variables. */
const environments = new WeakMap<object, NodeJS.ProcessEnv>();

export function environmentWith(extra: Readonly<Record<string, string>> | undefined) {
  if (extra === undefined) return undefined;
  let env = environments.get(extra);
  if (env === undefined) {
    env = { ...process.env, ...extra };
    environments.set(extra, env);
  }
  return env;
}

/** A signal's number from its name ("SIGKILL" is 9), as Node, Deno and Bun all name them. */
export function signalNumberOf(name: string | null | undefined): number | undefined {
  if (!name) return undefined;
  return (constants.signals as Record<string, number>)[name];
}

export function nodeSpawn(
  argv: readonly string[],
  options: SpawnOptions = {},
): Promise<SpawnResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(argv[0], argv.slice(1), {
        stdio: [options.stdin ? "pipe" : "ignore", "pipe", "pipe"],
        env: environmentWith(options.env),
      });
    } catch (error) {
      reject(error);
      return;
    }
    const outputs = outputsFor(options);
    let stdinRefused = false;
    const onAbort = () => {
      killTree(child.pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.stdin?.destroy();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout!.on("data", (chunk: Uint8Array) => outputs.stdout.add(chunk));
    child.stderr!.on("data", (chunk: Uint8Array) => outputs.stderr.add(chunk));
    if (child.stdin) {
      child.stdin.on("error", (error: { code?: string }) => {
        if (error.code === "EPIPE") stdinRefused = true;
      });
      child.stdin.end(options.stdin);
    }
    child.on("error", (error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.on("close", (status, killer) => {
      signal?.removeEventListener("abort", onAbort);
      resolve(spawnResult(outputs, status ?? 0, signalNumberOf(killer), stdinRefused));
    });
  });
}
