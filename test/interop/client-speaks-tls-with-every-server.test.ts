/**
 * STARTTLS from nbdts/client on Node, Deno and Bun: an nbds+unix URI with libnbd's
 * tls-certificates query runs the whole client scenario over TLS against nbdts on each runtime
 * and nbdkit (--tls=require), and qemu-nbd (--tls-creds); a server that requires TLS refuses a
 * client in clear with ERR_TLS_REQD, and a client that does not trust the server's CA stops at
 * the handshake. Pre-shared keys from a psktool file on Node (Deno's and Bun's node:tls have none).
 */

import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { connect } from "../../src/runtime/client-sockets.ts";
import { startServer } from "../helpers/background.ts";
import { clientRuntimes } from "../helpers/client-runtimes.ts";
import { startQemuNbd } from "../helpers/qemu-nbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
/** A client directory trusting another CA only: the server's certificate is not trusted. */
let distrustful: string;
beforeAll(() => {
  pki = makePki();
  distrustful = join(pki.root, "distrustful-client");
  mkdirSync(distrustful);
  copyFileSync(join(pki.root, "stranger-ca", "ca-cert.pem"), join(distrustful, "ca-cert.pem"));
});
afterAll(() => pki.remove());

/** The nbds URI of a Unix socket, with a client's certificate directory. */
function nbds(socket: string, dir: string): string {
  return `nbds+unix:///?socket=${socket}&tls-certificates=${dir}`;
}

const TLS_EXPECTED = {
  size: 1048576,
  readBack: true,
  parallelReadBack: true,
  zeroed: true,
  pastEnd: "EINVAL",
  afterError: true,
  afterDisconnect: "ConnectionClosedError",
};

describe.each(servers)("against $name --tls=require", (server) => {
  test.each(clientRuntimes)("the client on $name runs its scenario over TLS", async (runtime) => {
    const tls = ["--tls=require", `--tls-certificates=${pki.serverDir}`];
    const background = await startServer(server, ["memory", "1M"], { serverOptions: tls });
    expect(await runtime.scenario(nbds(background.socket, pki.clientDir))).toMatchObject(
      TLS_EXPECTED,
    );
  });

  test("a client in clear is refused with ERR_TLS_REQD; an untrusted CA fails the handshake", async () => {
    const tls = ["--tls=require", `--tls-certificates=${pki.serverDir}`];
    const background = await startServer(server, ["memory", "1M"], { serverOptions: tls });
    await expect(connect(background.uri)).rejects.toMatchObject({
      name: "HandshakeError",
      reply: "ERR_TLS_REQD",
    });
    await expect(connect(nbds(background.socket, distrustful))).rejects.toThrow(
      /Cannot start TLS/,
    );
  });
});

describe("against qemu-nbd --tls-creds", () => {
  test.each(clientRuntimes)("the client on $name runs its scenario over TLS", async (
    runtime,
  ) => {
    const creds = `tls-creds-x509,id=tls0,dir=${pki.serverDir},endpoint=server`;
    const qemu = await startQemuNbd(1048576, false, ["--object", creds, "--tls-creds", "tls0"]);
    expect(await runtime.scenario(nbds(qemu.socket, pki.clientDir))).toMatchObject(TLS_EXPECTED);
  });
});

describe.each(servers.filter((server) => ["nbdts-node", "nbdkit"].includes(server.name)))(
  "pre-shared keys against $name",
  (server) => {
    test("the client on Node authenticates with a psktool file and its username", async (context) => {
      requireClients(context, "psktool");
      const options = ["--tls=require", `--tls-psk=${pki.pskFile}`];
      const background = await startServer(server, ["memory", "1M"], { serverOptions: options });
      const query = `tls-username=alice&tls-psk-file=${pki.pskFile}`;
      const uri = `nbds+unix:///?socket=${background.socket}&${query}`;
      const client = await connect(uri);
      await client.pwrite(new TextEncoder().encode("psk"), 0);
      expect(new TextDecoder().decode(await client.read(3, 0))).toBe("psk");
      await client.disconnect();
      const wrong =
        `nbds+unix://alice@/?socket=${background.socket}&tls-psk-file=${pki.wrongPskFile}`;
      await expect(connect(wrong)).rejects.toThrow();
    });
  },
);
