/**
 * The example3 plugin: every connection gets a fresh, empty, writable disk of size= bytes
 * (100M by default), which no other connection sees and which is gone when it disconnects.
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, runServer } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("example3 plugin gives each connection its own disk ($name)", (server) => {
  test("a write is seen by its own connection only, and not after reconnecting", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["example3"],
      `
      first = connect()
      second = connect()
      first.pwrite(b"hello", 4096)
      own = bytes(first.pread(5, 4096)).decode()
      other = bytes(second.pread(5, 4096)) == bytes(5)
      first.shutdown()
      report(size=first.get_size(), own=own, other_sees_zeroes=other,
             fresh_after_reconnect=bytes(connect().pread(5, 4096)) == bytes(5))
    `,
    );
    expect(result).toEqual({
      size: 104857600,
      own: "hello",
      other_sees_zeroes: true,
      fresh_after_reconnect: true,
    });
  });

  test("example3 flushes and zeroes (by writing), but does not trim or share", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["example3", "size=1G"],
      `
      h = connect()
      h.pwrite(b"x" * 8192, 0)
      report(size=h.get_size(), read_only=h.is_read_only(), flush=h.can_flush(), fua=h.can_fua(),
             zero=h.can_zero(), fast_zero=h.can_fast_zero(), trim=h.can_trim(),
             multi_conn=h.can_multi_conn(), cache=h.can_cache(),
             zeroed=outcome(lambda: h.zero(4096, 1024)), flushed=outcome(lambda: h.flush()),
             data=bytes(h.pread(8192, 0)) == b"x" * 1024 + bytes(4096) + b"x" * 3072)
    `,
    );
    expect(result).toEqual({
      size: 1073741824,
      read_only: false,
      flush: true,
      fua: true,
      zero: true,
      fast_zero: true,
      trim: false,
      multi_conn: false,
      cache: false,
      zeroed: "ok",
      flushed: "ok",
      data: true,
    });
  });

  test("example3 names its extra in --dump-plugin", async () => {
    const result = expectSuccess(await runServer(server, ["example3", "--dump-plugin"]));
    expect(result.stdout).toMatch(/^example3_extra=hello$/m);
  });
});
