/**
 * Unknown command flags, and known flags on commands they do not apply to, are answered
 * with EINVAL and the connection keeps serving. FUA is accepted on any command.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("invalid command flags fail ($name)", (server) => {
  test("unknown flag bits get EINVAL", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.set_strict_mode(0)
      report(
          read=outcome(lambda: h.pread(512, 0, 0x100)),
          write=outcome(lambda: h.pwrite(b"x" * 512, 0, 0x8000)),
          flush=outcome(lambda: h.flush(0x40)),
          after=bytes(h.pread(4, 0)).hex(),
      )
    `,
    );
    expect(result).toEqual({ read: "EINVAL", write: "EINVAL", flush: "EINVAL", after: "00000000" });
  });

  test("a rejected write with an unknown flag leaves the stream in step and the data unwritten", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect()
      h.set_strict_mode(0)
      rejected = outcome(lambda: h.pwrite(b"\\x99" * 65536, 0, 0x200))
      h.pwrite(b"next", 0)
      report(rejected=rejected, data=bytes(h.pread(8, 0)).hex())
    `,
    );
    expect(result).toEqual({ rejected: "EINVAL", data: "6e65787400000000" });
  });

  test("known flags on the wrong command get EINVAL", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.set_strict_mode(0)
      report(
          req_one_on_read=outcome(lambda: h.pread(512, 0, nbd.CMD_FLAG_REQ_ONE)),
          no_hole_on_write=outcome(lambda: h.pwrite(b"x" * 512, 0, nbd.CMD_FLAG_NO_HOLE)),
          fast_zero_on_trim=outcome(lambda: h.trim(512, 0, nbd.CMD_FLAG_FAST_ZERO)),
          df_on_write=outcome(lambda: h.pwrite(b"x" * 512, 0, nbd.CMD_FLAG_DF)),
          after=outcome(lambda: h.pread(512, 0)),
      )
    `,
    );
    expect(result).toEqual({
      req_one_on_read: "EINVAL",
      no_hole_on_write: "EINVAL",
      fast_zero_on_trim: "EINVAL",
      df_on_write: "EINVAL",
      after: "ok",
    });
  });

  test("FUA is accepted on commands it means nothing to", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      h.set_strict_mode(0)
      report(
          read=outcome(lambda: h.pread(512, 0, nbd.CMD_FLAG_FUA)),
          flush=outcome(lambda: h.flush(nbd.CMD_FLAG_FUA)),
          cache=outcome(lambda: h.cache(512, 0, nbd.CMD_FLAG_FUA)),
      )
    `,
    );
    expect(result).toEqual({ read: "ok", flush: "ok", cache: "ok" });
  });
});
