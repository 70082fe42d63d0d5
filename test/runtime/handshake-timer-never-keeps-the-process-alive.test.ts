/**
 * The handshake deadline's timer must never keep a process alive. On each runtime a small
 * program embeds a server, opens a Web Streams connection that stays in the handshake (its
 * 60 s deadline pending), reads the greeting and must then exit at once. A control program
 * hands the server timers that are not unref'd, with a 1.5 s deadline: it must stay alive until
 * the deadline closes the connection, which proves the check can fail. Node runs the edge
 * bundle (npm run build makes it), Deno and Bun the sources.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { run, scratchDir } from "../helpers/captive.ts";
import { KNOWN_SERVERS, REPO_ROOT } from "../helpers/servers.ts";

/** The program: greet one silent connection, print what happens, then have nothing to do. */
function program(entry: string): string {
  return `
import { createMemoryPlugin, createServer, serveStream } from ${JSON.stringify(entry)};
const env = globalThis.Deno ? globalThis.Deno.env.toObject() : globalThis.process.env;
const options = {
  params: { size: "1M" },
  log: (line) => console.log(line.includes("handshakeTimeoutMs") ? "deadline passed" : line),
};
if (env.TIMER_CONTROL) {
  options.handshakeTimeoutMs = 1500;
  options.timers = {
    after(ms, fire) {
      const timer = setTimeout(fire, ms);
      return () => clearTimeout(timer);
    },
  };
}
const server = await createServer(createMemoryPlugin(), options);
const toServer = new TransformStream();
const fromServer = new TransformStream();
void serveStream(server, { readable: toServer.readable, writable: fromServer.writable });
const { value } = await fromServer.readable.getReader().read();
console.log("greeted with " + value.length + " bytes");
`;
}

const RUNTIMES = [
  { name: "nbdts-node", entry: "build/nbdts-edge.js", args: [] },
  { name: "nbdts-deno", entry: "src/edge.ts", args: ["run", "-A", "--quiet"] },
  { name: "nbdts-bun", entry: "src/edge.ts", args: [] },
];

describe.each(RUNTIMES)("the handshake timer on $name", (runtime) => {
  const known = KNOWN_SERVERS.find((server) => server.name === runtime.name)!;

  async function runProgram(control: boolean) {
    const file = join(scratchDir(), "deadline.mjs");
    writeFileSync(file, program(join(REPO_ROOT, runtime.entry)));
    const env: Record<string, string> = control ? { TIMER_CONTROL: "1" } : {};
    return await run([known.argv[0], ...runtime.args, file], { env, timeoutMs: 20_000 });
  }

  test.skipIf(!known.available)(
    "a pending 60 s deadline lets the program exit at once",
    async () => {
      const result = await runProgram(false);
      expect(result.timedOut).toBe(false);
      expect(result.stdout).toBe("greeted with 18 bytes\n");
      expect(result.status).toBe(0);
    },
  );

  test.skipIf(!known.available)(
    "control: a deadline timer left referenced keeps it alive until it passes",
    async () => {
      const result = await runProgram(true);
      expect(result.stdout).toBe("greeted with 18 bytes\ndeadline passed\n");
    },
  );
});
