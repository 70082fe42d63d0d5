/**
 * A plugin callback that throws is logged as an error, and with -v the log names the request it
 * failed (its callback, count and offset), then the error reply sent, as nbdkit logs it. nbdkit
 * runs the sh twin of the fault plugin (test/fixtures/fault-plugin.sh), whose error line names
 * only the script: there the request is named by the debug line just before it, while nbdts
 * names it on the error line itself, -v or not (its stack under -v is a unit test's business:
 * test/connection/debug-lines.test.ts).
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run } from "../helpers/captive.ts";
import { logLines } from "../helpers/debug-log.ts";
import { eventually, faultPlugin } from "../helpers/fault-plugin.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

/**
 * Reads 512 bytes at 4096 from the export "pread-throws", where the plugin's pread throws;
 * returns the server's stderr once `until` shows in it.
 */
async function failingRead(server: Server, options: readonly string[], until: RegExp) {
  const background = await startServer(server, faultPlugin(server).argv, {
    serverOptions: options,
  });
  try {
    const script = `
import nbd, sys
h = nbd.NBD()
h.set_export_name("pread-throws")
h.connect_unix(sys.argv[1])
try:
    h.pread(512, 4096)
    print("ok")
except nbd.Error as e:
    print(e.errno)
`;
    const result = expectSuccess(await run(["python3", "-c", script, background.socket]));
    expect(result.stdout.trim()).toBe("EIO");
    await eventually(() => until.test(background.stderr()));
    return background.stderr();
  } finally {
    await background.stop("SIGKILL");
  }
}

const REQUEST = "pread count=512 offset=4096";

describe.each(servers)("the log names a failing callback ($name)", (server) => {
  test("a throwing pread is an error line with what it threw", async (context) => {
    requireClients(context, "python3");
    const stderr = await failingRead(server, [], /disk on fire/);
    const errors = logLines(stderr).filter((line) => line.level === "error");
    expect(errors.map((line) => line.message)).toEqual([expect.stringMatching(/disk on fire$/)]);
  });

  test("with -v the failed request is named with its count and offset, then the error reply", async (context) => {
    requireClients(context, "python3");
    const stderr = await failingRead(server, ["-v"], /sending error reply/);
    const lines = logLines(stderr);
    const failed = lines.findIndex((line) => line.level === "error");
    expect(lines[failed].message).toMatch(/disk on fire$/);
    const named = lines.slice(0, failed + 1).findLast((line) => line.message.includes(REQUEST));
    expect(named?.message).toMatch(new RegExp(`^[\\w-]+: ${REQUEST}\\b`));
    expect(lines.slice(failed + 1).map((line) => line.message)).toContain(
      "sending error reply: Input/output error",
    );
  });
});
