/**
 * -P writes the server's process id to a file once it is ready for connections.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

describe.each(servers)("-P pidfile names the server ($name)", (server) => {
  test("a background server's pid file holds its pid and a newline", async () => {
    const background = await startServer(server, ["memory", "1M"]);
    expect(readFileSync(background.pidFile, "utf8")).toBe(`${background.pid}\n`);
  });

  test("in captive mode the pid file names a live process while the command runs", async () => {
    // nbdkit writes the pid file just after starting the command, and the pid is that of
    // its serving child process, not the command's parent: wait for it, check it is alive.
    const pidFile = join(scratchDir(), "captive.pid");
    const script = [
      `for i in $(seq 100); do test -s '${pidFile}' && break; sleep 0.05; done`,
      `pid=$(cat '${pidFile}')`,
      'kill -0 "$pid" && echo "alive $pid"',
    ].join("; ");
    const result = expectSuccess(
      await captive(server, ["memory", "1M"], script, { serverOptions: ["-P", pidFile] }),
    );
    expect(result.stdout).toMatch(/^alive \d+\n$/);
  });
});
