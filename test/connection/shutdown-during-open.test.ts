/**
 * A server shut down while a client's export is still opening: the handle that open() hands
 * back late is closed all the same (through every filter, so the limit filter gets its slot
 * back), and the client is sent nothing more.
 */

import { expect, test } from "vitest";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { createLimitFilter } from "../../src/filters/limit.ts";
import type { Plugin } from "../../src/api/plugin.ts";
import { OPT } from "../../src/protocol/constants.ts";
import { HANDSHAKE_FLAG } from "../../src/protocol/constants.ts";
import {
  connect,
  deferred,
  infoData,
  testServer,
  waitFor,
  wireClientFlags,
  wireOption,
} from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

test("a handle opened after shutdown began is closed, and its limit slot freed", async () => {
  const ram = ramPlugin();
  const gate = deferred();
  let opening = false;
  const slow: Plugin = {
    ...ram.plugin,
    async open(readonly, exportName) {
      opening = true;
      await gate.promise;
      return await ram.plugin.open(readonly, exportName);
    },
  };
  const limit = createLimitFilter();
  const { server } = testServer(stackFilters([limit], slow));
  const conn = connect(server);
  await conn.readGreeting();
  conn.send(wireClientFlags(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES));
  conn.send(wireOption(OPT.GO, infoData("")));
  await waitFor(() => opening, "open to start");
  const before = conn.channel.length;

  const stopped = server.shutdown();
  gate.resolve();
  await stopped;
  await waitFor(() => ram.closes === 1, "the late handle to be closed");
  expect(conn.channel.length).toBe(before); // no GO reply to a client already let go
  // The limit filter counts open connections: with none, a new one may open.
  await expect(limit.preconnect!(async () => {}, false, undefined)).resolves.toBeUndefined();
});
