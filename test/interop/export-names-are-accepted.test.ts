/**
 * Plugins that serve one disk accept any export name, echo it as the canonical name when
 * asked (NBD_INFO_NAME), and advertise no description. -e changes only $uri and $exportname.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("export names are accepted ($name)", (server) => {
  test("any export name reaches the same memory disk", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      def full_info(h):
          h.set_full_info(True)
      foo = connect(full_info, export="foo")
      foo.pwrite(b"via foo", 0)
      other = connect(full_info, export="some/other name")
      default = connect(full_info, export="")
      report(
          sizes=[foo.get_size(), other.get_size(), default.get_size()],
          canonical=[foo.get_canonical_export_name(), other.get_canonical_export_name(),
                     default.get_canonical_export_name()],
          seen=bytes(other.pread(7, 0)).decode(),
      )
    `,
    );
    expect(result).toEqual({
      sizes: [1048576, 1048576, 1048576],
      canonical: ["foo", "some/other name", ""],
      seen: "via foo",
    });
  });

  test("a memory disk has no export description", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_full_info(True))
      report(description=outcome(lambda: h.get_export_description()))
    `,
    );
    expect(result).toEqual({ description: "ENOTSUP" });
  });

  test("-e sets the name clients use from $uri, and any name still works", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect(lambda h: h.set_full_info(True))
      plain = connect(export="")
      report(name=h.get_export_name(), canonical=h.get_canonical_export_name(), plain=plain.get_size())
    `,
      { serverOptions: ["-e", "foo"] },
    );
    expect(result).toEqual({ name: "foo", canonical: "foo", plain: 1048576 });
  });
});
