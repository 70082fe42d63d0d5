/**
 * Starting `SERVER -f --websocket -i 127.0.0.1 -p 0 --print-uri ...` for a test: the nbd+ws://
 * URI it printed, the ws:// URL a WebSocket opens for it, and everything it wrote to stderr so far (the log).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { clientEnv } from "./captive.ts";

export interface WebSocketServer {
  /** The ws:// URL of what --print-uri gave, with 127.0.0.1 for localhost (no name lookup). */
  readonly url: string;
  /** What --print-uri gave: nbd+ws://localhost:PORT/. */
  readonly printed: string;
  /** What the server has written to stderr until now. */
  stderr(): string;
  /** Waits (up to 10 s) until stderr matches `pattern`, and returns it; the log may lag a reply. */
  logged(pattern: RegExp): Promise<string>;
  stop(): void;
}

export async function startWebSocketServer(
  argv: readonly string[],
  args: readonly string[],
): Promise<WebSocketServer> {
  const [program, ...before] = argv;
  const child: ChildProcess = spawn(
    program,
    [...before, "-f", "--websocket", "-i", "127.0.0.1", "-p", "0", "--print-uri", ...args],
    { env: clientEnv(), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(chunk);
  });
  const stop = () => void child.kill("SIGTERM");
  const printed = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0].trim());
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code} before listening`)));
  }).catch((error) => {
    stop();
    throw error;
  });
  const logged = async (pattern: RegExp) => {
    for (let waited = 0; !pattern.test(stderr) && waited < 10_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return stderr;
  };
  const url = printed.replace(/^nbd\+ws:/, "ws:").replace("localhost", "127.0.0.1");
  return { url, printed, stderr: () => stderr, logged, stop };
}
