/**
 * --filter=tls-fallback (man nbdkit-tls-fallback-filter): under `--tls=on`, a client that did
 * not switch to TLS gets a read-only export of 512 bytes holding a message (`tlsreadme=`), and
 * lists only the export "", and the plugin is not even opened for it; a TLS client is served
 * the plugin itself.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { faultPlugin } from "../helpers/fault-plugin.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

const DEFAULT_MESSAGE =
  "This NBD server requires TLS authentication before it will serve useful data.\n";

/** Python: what a plain client and a TLS client are each served. */
function bothClients(clientDir: string): string {
  return `
    def seen(h):
        data = bytes(h.pread(512, 0))
        return dict(size=h.get_size(), read_only=h.is_read_only(), flush=h.can_flush(),
                    text=data.rstrip(b"\\0").decode(), zero_tail=data.endswith(b"\\0"))
    plain = connect()
    names = []
    lister = nbd.NBD()
    lister.set_opt_mode(True)
    lister.connect_unix(unixsocket)
    lister.opt_list(lambda name, desc: names.append(name))
    lister.opt_abort()
    secure = connect_tls("tls-certificates=${clientDir}")
    secure.pwrite(b"secret", 0)
    report(plain=seen(plain), secure=seen(secure), names=names)
  `;
}

describe.each(servers)("tls-fallback filter ($name)", (server) => {
  test("a plain client reads the message; a TLS client reads the plugin", async (context) => {
    requireClients(context, "nbdsh", "certtool");
    const result = await libnbd(
      server,
      ["--filter=tls-fallback", "memory", "1M"],
      bothClients(pki.clientDir),
      { serverOptions: ["--tls=on", `--tls-certificates=${pki.serverDir}`] },
    );
    expect(result).toEqual({
      plain: {
        size: 512,
        read_only: true,
        flush: false,
        text: DEFAULT_MESSAGE,
        zero_tail: true,
      },
      secure: { size: 1048576, read_only: false, flush: true, text: "secret", zero_tail: true },
      names: [""],
    });
  });

  test("the plugin is never opened for a plain client", async (context) => {
    requireClients(context, "nbdsh", "certtool");
    const fault = faultPlugin(server);
    await libnbd(
      server,
      ["--filter=tls-fallback", ...fault.argv],
      `report(read=outcome(lambda: connect().pread(512, 0)))`,
      { serverOptions: ["--tls=on", `--tls-certificates=${pki.serverDir}`] },
    );
    expect(fault.events().filter((line) => line.startsWith("open"))).toEqual([]);
  });

  test("tlsreadme= replaces the message", async (context) => {
    requireClients(context, "nbdsh", "certtool");
    const result = await libnbd(
      server,
      ["--filter=tls-fallback", "memory", "1M", "tlsreadme=Use TLS, please."],
      `report(text=bytes(connect().pread(32, 0)).rstrip(b"\\0").decode())`,
      { serverOptions: ["--tls=on", `--tls-certificates=${pki.serverDir}`] },
    );
    expect(result).toEqual({ text: "Use TLS, please." });
  });

  test("it refuses to serve one connection at a time; --help shows nbdkit's parameter", async () => {
    expect(
      await refusedStart(server, [
        "--filter=tls-fallback",
        "--filter=noparallel",
        "null",
        "serialize=connections",
      ]),
    ).toContain("the tls-fallback filter requires parallel connection support");
    expect(await filterHelp(server, "tls-fallback")).toBe(
      "tlsreadme=<MESSAGE>  Alternative contents for the plaintext dummy export.",
    );
  });
});
