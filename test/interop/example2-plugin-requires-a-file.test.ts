/**
 * The example2 plugin's command line: file=<FILENAME> is required, nothing else is accepted,
 * and --dump-plugin shows its extra line. (Serving the file is not tested here: the nbdts core
 * does not give built-in plugins file access yet, so only nbdkit could pass; the unit tests in
 * test/plugins/example2.test.ts serve one through a stand-in file system.)
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

describe.each(servers)("example2 plugin requires a file ($name)", (server) => {
  test("example2 without file= refuses to start and says what it needs", async () => {
    const result = await captive(server, ["example2"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /you must supply the file=<FILENAME> parameter after the plugin name on the command line/,
    );
  });

  test("example2 refuses an unknown parameter by name", async () => {
    const result = await captive(server, ["example2", "colour=blue"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/unknown parameter 'colour'/);
  });

  test("example2 names its extra in --dump-plugin", async () => {
    const result = expectSuccess(await runServer(server, ["example2", "--dump-plugin"]));
    expect(result.stdout).toMatch(/^example2_extra=hello$/m);
  });
});
