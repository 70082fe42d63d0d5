/**
 * One connection's -v lines, end to end through an in-memory Session: the handshake, the
 * plugin's calls at GO, each request and the close, each named "ram[1]" as nbdkit names a
 * connection; -D nbdkit.backend.datapath=0 and controlpath=0 each take out their own lines; a
 * failed request names itself, with the stack under -v.
 */

import { expect, test } from "vitest";
import type { Plugin } from "../../src/api/plugin.ts";
import { CMD } from "../../src/protocol/constants.ts";
import { connect, testServer, type TestServerOptions } from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

/** A session reading, writing and flushing, then closing; the lines it logged. */
async function session(options: TestServerOptions, plugin: Plugin = ramPlugin().plugin) {
  const { server, logs } = testServer(plugin, options);
  const conn = connect(server);
  await conn.handshake({ structuredReplies: true });
  await conn.roundTrip({ type: CMD.READ, cookie: 1, offset: 4096, length: 512 });
  await conn.roundTrip({ type: CMD.WRITE, cookie: 2, payload: new Uint8Array(512) });
  await conn.roundTrip({ type: CMD.FLUSH, cookie: 3 });
  conn.end();
  await conn.closed();
  await conn.settle(); // the plugin's close, then the last line
  return logs.map((line) => line.replace(/\n$/, ""));
}

const CONTROL = [
  'nbdts: ram[1]: debug: ram: open readonly=0 exportname="" tls=0',
  "nbdts: ram[1]: debug: ram: default_export readonly=0 tls=0",
  ...[
    "get_size",
    "can_write",
    "can_zero",
    "can_fast_zero",
    "can_trim",
    "can_fua",
    "can_flush",
    "is_rotational",
    "can_multi_conn",
    "can_cache",
    "can_extents",
    "block_size",
  ].map((call) => `nbdts: ram[1]: debug: ram: ${call}`),
];

const REQUESTS = [
  "nbdts: ram[1]: debug: ram: pread count=512 offset=4096",
  "nbdts: ram[1]: debug: ram: pwrite count=512 offset=0 fua=0",
  "nbdts: ram[1]: debug: ram: flush",
];

test("with -v a connection logs its handshake, the plugin's calls, each request and its close", async () => {
  expect(await session({ verbose: true })).toEqual([
    "nbdts: ram[1]: debug: new connection from test",
    "nbdts: ram[1]: debug: ram: preconnect",
    "nbdts: ram[1]: debug: newstyle negotiation: flags: global 0x3",
    "nbdts: ram[1]: debug: newstyle negotiation: client flags: 0x3",
    "nbdts: ram[1]: debug: newstyle negotiation: NBD_OPT_STRUCTURED_REPLY: client requested structured replies",
    "nbdts: ram[1]: debug: replying to NBD_OPT_STRUCTURED_REPLY with NBD_REP_ACK",
    "nbdts: ram[1]: debug: newstyle negotiation: NBD_OPT_GO: client requested export ''",
    ...CONTROL,
    expect.stringMatching(/^nbdts: ram\[1\]: debug: newstyle negotiation: flags: export 0x/),
    "nbdts: ram[1]: debug: replying to NBD_OPT_GO with NBD_REP_ACK",
    "nbdts: ram[1]: debug: handshake complete, processing requests in parallel",
    ...REQUESTS,
    "nbdts: ram[1]: debug: client closed input socket, closing connection",
    "nbdts: ram[1]: debug: ram: close",
    "nbdts: ram[1]: debug: connection closed",
  ]);
});

test("-D nbdkit.backend.datapath=0 takes out the request lines alone", async () => {
  const all = await session({ verbose: true });
  const lines = await session({ verbose: true, datapath: false });
  expect(lines).toEqual(all.filter((line) => !REQUESTS.includes(line)));
});

test("-D nbdkit.backend.controlpath=0 takes out the plugin's calls outside requests alone", async () => {
  const all = await session({ verbose: true });
  const lines = await session({ verbose: true, controlpath: false });
  const control = [
    ...CONTROL,
    "nbdts: ram[1]: debug: ram: preconnect",
    "nbdts: ram[1]: debug: ram: close",
  ];
  expect(lines).toEqual(all.filter((line) => !control.includes(line)));
});

test("without -v nothing is logged", async () => {
  const { server, logs } = testServer(ramPlugin().plugin);
  const conn = connect(server);
  await conn.handshake();
  await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 512 });
  conn.end();
  await conn.closed();
  expect(logs).toEqual([]);
});

test("a throwing callback names its request, without -v too, and its stack with -v", async () => {
  const failing = ramPlugin({
    with: {
      readAt: () => {
        throw new Error("disk on fire");
      },
    },
  });
  const quiet = await session({}, failing.plugin);
  expect(quiet).toEqual(["nbdts: ram[1]: error: ram: pread count=512 offset=4096: disk on fire"]);
  const verbose = (await session({ verbose: true }, failing.plugin)).join("\n");
  expect(verbose).toMatch(
    /\nnbdts: ram\[1\]: debug: ram: pread count=512 offset=4096\nnbdts: ram\[1\]: error: ram: pread count=512 offset=4096: disk on fire\n\s+at .*connection-log\.test\.ts/,
  );
  expect(verbose).toMatch(/\nnbdts: ram\[1\]: debug: sending error reply: Input\/output error\n/);
});
