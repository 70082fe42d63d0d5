/**
 * A filter's finalize failing disconnects the client, as nbdkit's .finalize promises: after
 * NBD_OPT_INFO the client gets its replies, then the connection closes instead of taking more
 * options. A prepare failing only fails that option (ERR_UNKNOWN) and negotiation goes on.
 */

import { expect, test } from "vitest";
import type { Filter } from "../../src/api/filter.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { HANDSHAKE_FLAG, OPT, REP } from "../../src/protocol/constants.ts";
import { connect, infoData, testServer, wireClientFlags } from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

async function negotiating(filter: Filter) {
  const { server, logs } = testServer(stackFilters([filter], ramPlugin().plugin));
  const conn = connect(server);
  await conn.readGreeting();
  conn.send(wireClientFlags(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES));
  return { conn, logs };
}

test("a finalize failing after NBD_OPT_INFO sends the replies, then closes the connection", async () => {
  const { conn, logs } = await negotiating({
    name: "stubborn",
    open: async (next, readonly, name) => (await next(readonly, name), {
      finalize: () => {
        throw new Error("cannot write back");
      },
    }),
  });
  const replies = await conn.option(OPT.INFO, infoData(""));
  expect(replies.map((reply) => reply.type)).toEqual([REP.INFO, REP.ACK]);
  await conn.closed();
  expect(logs.join("")).toContain("finalize: cannot write back");
});

test("a prepare failing answers ERR_UNKNOWN and negotiation goes on", async () => {
  let attempts = 0;
  const { conn } = await negotiating({
    name: "picky",
    open: async (next, readonly, name) => (await next(readonly, name), {
      prepare: () => {
        if (attempts++ === 0) throw new Error("not yet");
      },
    }),
  });
  expect((await conn.option(OPT.GO, infoData(""))).map((reply) => reply.type)).toEqual([
    REP.ERR_UNKNOWN,
  ]);
  expect((await conn.option(OPT.GO, infoData(""))).at(-1)?.type).toBe(REP.ACK);
});
