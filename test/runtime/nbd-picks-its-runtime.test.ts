/**
 * nbd.ts picks the adapter of the runtime it runs on: `--dump-config` names it. Node runs the
 * bundle (nbd.js), Deno and Bun the TypeScript sources; each must get its own native adapter.
 * This checks the entry point itself, so it runs on every installed runtime whatever
 * NBD_SERVERS selects for the interop suite.
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, runServer } from "../helpers/captive.ts";
import { KNOWN_SERVERS } from "../helpers/servers.ts";

const ours = KNOWN_SERVERS.filter((server) => server.available && server.name.startsWith("nbdts-"));

describe.each(ours)("nbd.ts on $name", (server) => {
  test("--dump-config reports the runtime it runs on", async () => {
    const { stdout } = expectSuccess(await runServer(server, ["--dump-config"]));
    expect(stdout).toContain(`\nruntime=${server.name.slice("nbdts-".length)}\n`);
  });
});
