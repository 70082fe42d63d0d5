/**
 * nbdinfo --list (NBD_OPT_LIST) shows exactly one export, the default one with the empty
 * name, for plugins that do not list exports themselves.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("nbdinfo --list shows one export ($name)", (server) => {
  test("a memory disk lists one export with an empty name", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["memory", "1M"], 'nbdinfo --list --json "$uri"'),
    );
    const info = JSON.parse(stdout) as { protocol: string; exports: Record<string, unknown>[] };
    expect(info.protocol).toBe("newstyle-fixed");
    expect(info.exports).toHaveLength(1);
    expect(info.exports[0]).toMatchObject({ "export-name": "", "export-size": 1048576 });
    expect(info.exports[0]).not.toHaveProperty("description");
  });

  test("the text listing names the empty export", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["null", "1M"], 'nbdinfo --list "$uri"'),
    );
    expect(stdout.match(/^export=/gm)).toEqual(["export="]);
    expect(stdout).toMatch(/^export="":$/m);
  });
});
