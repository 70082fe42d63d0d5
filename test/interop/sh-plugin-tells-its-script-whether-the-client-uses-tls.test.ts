/**
 * list_exports, default_export and open get a last argument saying whether the client is
 * using TLS ("true" or "false", nbdkit-sh-plugin(3)): with --tls=on, a client in clear text and
 * one that switched to TLS with STARTTLS are told apart, as nbdkit tells them (nbdkit_is_tls).
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run } from "../helpers/captive.ts";
import { callLog, writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

describe.each(servers)(
  "the sh plugin tells its script whether the client uses TLS ($name)",
  (server) => {
    test("clear text: false; after STARTTLS: true", async (context) => {
      requireClients(context, "nbdinfo");
      const log = callLog();
      const script = writeScript(`case "$1" in
  list_exports|default_export|open) ${log.line}; echo disk ;;
  get_size) echo 1M ;;
  *) exit 2 ;;
esac
`);
      const tls = ["--tls=on", `--tls-certificates=${pki.serverDir}`];
      const background = await startServer(server, ["sh", script], { serverOptions: tls });
      const clear = `nbd+unix:///?socket=${background.socket}`;
      const secure = `nbds+unix:///?socket=${background.socket}&tls-certificates=${pki.clientDir}`;
      expectSuccess(await run(["nbdinfo", "--list", clear]));
      const plain = log.calls();
      expectSuccess(await run(["nbdinfo", "--list", secure]));
      expect(plain).toEqual(["list_exports false false", "open false disk false"]);
      expect(log.calls().slice(plain.length)).toEqual([
        "list_exports false true",
        "open false disk true",
      ]);
      expectSuccess(await run(["nbdinfo", "--size", secure]));
      expect(log.calls().slice(plain.length + 2)).toEqual([
        "default_export false true",
        "open false disk true",
      ]);
    });
  },
);
