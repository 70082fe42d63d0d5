/**
 * Option haggling through libnbd's option mode: NBD_OPT_LIST, LIST_META_CONTEXT, INFO, GO
 * and ABORT each get the answers the spec describes, and negotiation can go on after each.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("option negotiation ($name)", (server) => {
  test("opt_list names one export, the empty default", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_opt_mode(True))
      exports = []
      count = h.opt_list(lambda name, description: exports.append([name, description]))
      h.opt_go()
      report(count=count, exports=exports, size=h.get_size())
    `,
    );
    expect(result).toEqual({ count: 1, exports: [["", ""]], size: 1048576 });
  });

  test("listing meta contexts with no query offers base:allocation", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_opt_mode(True))
      found = []
      count = h.opt_list_meta_context(lambda name: found.append(name))
      report(count=count, found=found)
    `,
    );
    expect(result).toEqual({ count: 1, found: ["base:allocation"] });
  });

  test("listing meta contexts by query matches base:allocation and ignores other namespaces", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_opt_mode(True))
      def ask(*queries):
          h.clear_meta_contexts()
          for query in queries:
              h.add_meta_context(query)
          found = []
          h.opt_list_meta_context(lambda name: found.append(name))
          return found
      report(
          exact=ask("base:allocation"),
          wildcard=ask("base:"),
          foreign=ask("qemu:dirty-bitmap:x", "x-nbdts:nothing"),
          unknown_leaf=ask("base:no-such-leaf"),
      )
    `,
    );
    expect(result).toEqual({
      exact: ["base:allocation"],
      wildcard: ["base:allocation"],
      foreign: [],
      unknown_leaf: [],
    });
  });

  test("opt_info describes the export and opt_go then serves it", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "2M"],
      `
      h = connect(lambda h: h.set_opt_mode(True))
      h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
      h.opt_info()
      info = dict(size=h.get_size(), read_only=h.is_read_only(), meta=h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
                  negotiating=h.aio_is_negotiating())
      h.opt_go()
      h.pwrite(b"after go", 0)
      report(info=info, size=h.get_size(), meta=h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
             ready=h.aio_is_ready(), data=bytes(h.pread(8, 0)).decode())
    `,
    );
    expect(result).toEqual({
      info: { size: 2097152, read_only: false, meta: true, negotiating: true },
      size: 2097152,
      meta: true,
      ready: true,
      data: "after go",
    });
  });

  test("opt_abort ends the session cleanly", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_opt_mode(True))
      h.opt_abort()
      again = connect()
      report(closed=h.aio_is_closed(), dead=h.aio_is_dead(), next_connection=again.get_size())
    `,
    );
    expect(result).toEqual({ closed: true, dead: false, next_connection: 1048576 });
  });

  test("block sizes are not advertised by the memory plugin", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_request_block_size(True))
      report(sizes=[h.get_block_size(kind) for kind in (nbd.SIZE_MINIMUM, nbd.SIZE_PREFERRED, nbd.SIZE_MAXIMUM)])
    `,
    );
    expect(result).toEqual({ sizes: [0, 0, 0] });
  });
});
