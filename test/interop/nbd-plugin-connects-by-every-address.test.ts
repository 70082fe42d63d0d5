/**
 * Where the nbd plugin's server is and which export it opens: socket=, uri= (nbd+unix and nbd),
 * hostname=/port=, export= and the URI's path, dynamic-export=true passing the client's own
 * name, retry= for a server that starts late, shared=true for one connection behind every
 * client, and command= starting the server itself. Each nbdts runtime, and nbdkit's own nbd
 * plugin as the oracle.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, scratchDir, shellQuote } from "../helpers/captive.ts";
import { captive } from "../helpers/captive.ts";
import { startServer } from "../helpers/background.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { startNbdkitBackend } from "../helpers/nbd-backend.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const NBDKIT = { name: "nbdkit", argv: ["nbdkit"] };

/** The export name the info plugin serves as its content, read through the proxy. */
const READ_NAME = `
  h = connect(export=os.environ.get("ask"))
  report(name=h.pread(h.get_size(), 0).decode())
`;

describe.each(servers)("nbd plugin ($name)", (server) => {
  test("socket=, uri= and hostname=/port= each reach the server", async (context) => {
    requireClients(context, "python3");
    const unix = await startNbdkitBackend(["pattern", "1M"]);
    const tcp = await startServer(NBDKIT, ["pattern", "1M"], { tcp: { host: "127.0.0.1" } });
    const body = `
      h = connect()
      report(word=int.from_bytes(h.pread(8, 4096), "big"))
    `;
    const port = String(tcp.ports!.ipv4);
    for (
      const params of [
        [`socket=${unix.socket}`],
        [unix.uri.replace("nbd+unix://?", "nbd+unix:///?")],
        [`uri=${tcp.uri}`],
        [`hostname=127.0.0.1`, `port=${port}`],
      ]
    ) {
      expect(await libnbd(server, ["nbd", ...params], body)).toEqual({ word: 4096 });
    }
  });

  test("export= and the URI's path name the export; dynamic-export passes the client's", async (context) => {
    requireClients(context, "python3");
    const info = await startNbdkitBackend(["info", "mode=exportname"]);
    const named = await libnbd(server, ["nbd", `socket=${info.socket}`, "export=disk1"], READ_NAME);
    expect(named).toEqual({ name: "disk1" });
    const byPath = `nbd+unix:///disk2?socket=${info.socket}`;
    expect(await libnbd(server, ["nbd", byPath], READ_NAME)).toEqual({ name: "disk2" });
    const dynamic = await libnbd(
      server,
      ["nbd", `socket=${info.socket}`, "dynamic-export=true"],
      READ_NAME,
      { env: { ask: "asked-by-client" } },
    );
    expect(dynamic).toEqual({ name: "asked-by-client" });
  });

  test("retry= waits for a server that starts late", async (context) => {
    requireClients(context, "nbdinfo");
    const socket = join(scratchDir(), "late.sock");
    const late = `(sleep 1; exec nbdkit -f -U ${shellQuote(socket)} memory 123456) & late=$!`;
    const result = await captive(
      server,
      ["nbd", `socket=${socket}`, "retry=10"],
      `${late}; nbdinfo --size "$uri"; status=$?; kill $late; exit $status`,
    );
    expect(expectSuccess(result).stdout.trim()).toBe("123456");
  });

  test("shared=true serves every client over one connection", async (context) => {
    requireClients(context, "python3");
    const backend = await startNbdkitBackend(["--filter=limit", "memory", "1M", "limit=1"]);
    const body = `
      a = connect()
      b = connect()
      a.pwrite(b"one", 0)
      report(b=outcome(lambda: b.pread(3, 0)), seen=bytes(b.pread(3, 0)).decode())
    `;
    const shared = await libnbd(server, ["nbd", `socket=${backend.socket}`, "shared=true"], body);
    expect(shared).toEqual({ b: "ok", seen: "one" });
  });

  test("command= starts qemu-nbd with a socket and stops it at exit", async (context) => {
    requireClients(context, "python3", "qemu-nbd");
    const image = join(scratchDir(), "disk.raw");
    writeFileSync(image, new Uint8Array(1048576));
    const plugin = ["nbd", "command=qemu-nbd", "arg=-f", "arg=raw", `arg=${image}`];
    const seen = await libnbd(
      server,
      plugin,
      `
      h = connect()
      h.pwrite(b"written through qemu-nbd", 4096)
      h.flush()
      report(size=h.get_size())
    `,
    );
    expect(seen).toEqual({ size: 1048576 });
    const bytes = readFileSync(image).subarray(4096, 4096 + 24);
    expect(new TextDecoder().decode(bytes)).toBe("written through qemu-nbd");
  });
});
