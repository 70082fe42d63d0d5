/**
 * LISTEN_PID and LISTEN_FDS are read as nbdkit 1.32.5 reads them, and the lines it prints are
 * the same: a LISTEN_PID for another process, or a value that is not a number, is ignored with
 * a line on stderr and the server listens as told; LISTEN_FDS=0 (or over 16) stops it with
 * status 1. Once taken, the two variables are gone from child processes' environment, and
 * LISTEN_FDNAMES is left there, as nbdkit leaves it.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, run, runServer, scratchDir, shellQuote } from "../helpers/captive.ts";
import { startActivated } from "../helpers/socket-activation.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

/** stderr's lines with the program name taken out. */
const lines = (stderr: string) =>
  stderr.split("\n").filter(Boolean).map((line) => line.replace(/^(nbdkit|nbdts): /, ""));

/**
 * Runs a captive server whose LISTEN_PID is its own pid (the shell execs it), so that only
 * LISTEN_FDS decides; `$uri` is printed by nbdinfo when the server listens as told.
 */
function withOwnPid(server: Server, listenFds: string) {
  const command = [...server.argv, "-U", "-", "memory", "1M", "--run", 'nbdinfo --size "$uri"'];
  const script = `export LISTEN_PID=$$ LISTEN_FDS=${shellQuote(listenFds)}; exec ${
    command.map(shellQuote).join(" ")
  }`;
  return run(["sh", "-c", script]);
}

describe.each(servers)("socket activation's variables ($name)", (server) => {
  test("a LISTEN_PID for another process is ignored, saying so", async (context) => {
    requireClients(context, "nbdinfo");
    const result = expectSuccess(
      await runServer(server, ["-U", "-", "memory", "1M", "--run", 'nbdinfo --size "$uri"'], {
        env: { LISTEN_PID: "1", LISTEN_FDS: "1" },
      }),
    );
    expect(result.stdout).toBe("1048576\n");
    expect(lines(result.stderr)).toEqual(["LISTEN_PID was not for us (ignored)"]);
  });

  test.for([
    ["abc", "error: LISTEN_FDS: empty string where we expected a number"],
    ["-1", "error: LISTEN_FDS: negative numbers are not allowed"],
    ["1x", 'error: LISTEN_FDS: could not parse number: "1x": trailing garbage'],
  ])("LISTEN_FDS=%s is ignored with nbdkit's error line", async ([value, line], context) => {
    requireClients(context, "nbdinfo");
    const result = expectSuccess(await withOwnPid(server, value));
    expect(result.stdout).toBe("1048576\n");
    expect(lines(result.stderr)).toEqual([line]);
  });

  test.each(["0", "17"])("LISTEN_FDS=%s is out of range: status 1", async (value) => {
    const result = await withOwnPid(server, value);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(lines(result.stderr)).toEqual([`socket activation: LISTEN_FDS=${value} out of range`]);
  });

  test("child processes see LISTEN_FDNAMES but not LISTEN_PID or LISTEN_FDS", async (context) => {
    requireClients(context, "python3", "nbdinfo");
    const seen = join(scratchDir(), "env");
    // The data plugin runs <(SCRIPT) while it is configured, before it serves.
    const script = `<(env | grep ^LISTEN_ | sort > ${shellQuote(seen)}; printf x)`;
    const activated = await startActivated(server, ["data", script], ["unix"], {
      LISTEN_FDNAMES: "nbd",
    });
    const result = expectSuccess(await run(["nbdinfo", "--size", activated.uris[0]!]));
    expect(result.stdout).toBe("1\n");
    expect(readFileSync(seen, "utf8")).toBe("LISTEN_FDNAMES=nbd\n");
  });
});
