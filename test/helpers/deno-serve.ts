/**
 * Worker-style examples under `deno serve` for the edge tests: start one on a free port, its
 * environment given; it is stopped when the test finishes. Reach it with websocket-bridge.ts.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { onTestFinished } from "vitest";
import { clientEnv } from "./captive.ts";
import { REPO_ROOT } from "./servers.ts";

const DENO = `${REPO_ROOT}node_modules/.bin/deno`;

/** Starts `deno serve -A` on `example` (a path from the repository root); its ws:// URL. */
export async function startDenoServe(
  example: string,
  env: Record<string, string> = {},
): Promise<string> {
  const child: ChildProcess = spawn(
    DENO,
    ["serve", "-A", "--port", "0", `${REPO_ROOT}${example}`],
    { env: clientEnv(env), stdio: ["ignore", "pipe", "pipe"] },
  );
  onTestFinished(() => void child.kill("SIGTERM"));
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    const look = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Listening on https?:\/\/[^:]+:(\d+)/.exec(out);
      if (match) resolve(match[1]);
    };
    child.stdout!.on("data", look);
    child.stderr!.on("data", look);
    child.on("exit", (code) => reject(new Error(`deno serve exited with ${code}: ${out}`)));
  });
  return `ws://127.0.0.1:${port}/`;
}
