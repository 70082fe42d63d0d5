/**
 * Plugin callbacks that fail — throwing, rejecting, or answering something unusable — give the
 * client a clear NBD error and leave a line in the server's log, and the server serves on: an
 * export whose open, size or capability callback fails is refused at NBD_OPT_GO with
 * NBD_REP_ERR_UNKNOWN (the client may try another export on the same connection), and a
 * request that fails gets EIO or the errno the plugin named while its connection keeps working.
 * One body for nbdkit's sh plugin and nbdts's TypeScript plugin (test/fixtures/fault-plugin.*);
 * the server runs with -v because nbdts logs a failure the plugin named with an errno
 * (NbdError) as a debug message, as nbdkit's own plugins fail with errno alone.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import { expectSuccess, run } from "../helpers/captive.ts";
import { eventually, type FaultPlugin, faultPlugin } from "../helpers/fault-plugin.ts";
import { RawConnection, REP } from "../helpers/raw-nbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** NBD_REP_ERR_UNKNOWN (spec "Option reply types"): the export cannot be opened. */
const ERR_UNKNOWN = 0x80000006;

/** Exports whose open, size or capability callback fails; whether open() itself succeeded. */
const OPEN_FAULTS: [name: string, opened: boolean, logged: RegExp][] = [
  ["open-fails", false, /cannot open export open-fails/],
  ["open-rejects", false, /cannot open export open-rejects/],
  ["size-fails", true, /no size/],
  ["size-rejects", true, /no size/],
  ["size-junk", true, /\(junk\)|\("junk"\)/],
  ["size-nan", true, /\(NaN\)|: NaN/],
  ["size-negative", true, /\(-1\)/],
  ["size-fraction", true, /1\.5/],
  ["size-huge", true, /9223372036854775808/],
  ["can-write-fails", true, /cannot tell/],
  // The sh plugin can only answer "neither true nor false" with an exit status other than 0
  // or 3, which nbdkit reports without naming the method; nbdts names it.
  ["can-write-junk", true, /canWrite returned "yes"|script exited with error/],
];

type Action = "read" | "write" | "flush" | "block-status";

/** Exports whose data callback fails: the request that fails, its errno, what is logged. */
const REQUEST_FAULTS: [name: string, action: Action, errno: string, logged: RegExp][] = [
  ["pread-eio", "read", "EIO", /sector unreadable/],
  ["pread-errno", "read", "EPERM", /reading is not permitted/],
  ["pread-throws", "read", "EIO", /disk on fire/],
  ["pread-rejects", "read", "EIO", /disk on fire/],
  ["pread-short", "read", "EIO", /incorrect amount of data read|readAt returned a Uint8Array/],
  ["pwrite-enospc", "write", "ENOSPC", /disk full/],
  ["flush-fails", "flush", "EIO", /flush failed/],
  ["extents-nonsense", "block-status", "EINVAL", /must be contiguous|be contiguous/],
];

/** Python (libnbd) running `action` on export `name`, then another request on the same handle. */
function requestScript(socket: string, name: string, action: Action): string {
  const after: Action = action === "read" ? "write" : "read";
  return `
import json, nbd
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.set_export_name(${JSON.stringify(name)})
h.connect_unix(${JSON.stringify(socket)})
actions = {
    "read": lambda: h.pread(512, 4096),
    "write": lambda: h.pwrite(b"w" * 512, 4096),
    "flush": lambda: h.flush(),
    "block-status": lambda: h.block_status(4096, 0, lambda *args: 0),
}
def outcome(action):
    try:
        actions[action]()
        return "ok"
    except nbd.Error as e:
        return e.errno
print(json.dumps({"failed": outcome(${JSON.stringify(action)}), "after": outcome("${after}")}))
`;
}

describe.each(servers)("plugin callbacks that fail ($name)", (server) => {
  let plugin: FaultPlugin;
  let background: BackgroundServer;
  beforeAll(async () => {
    plugin = faultPlugin(server);
    background = await startServer(server, plugin.argv, { serverOptions: ["-v"] });
  });
  afterAll(() => background.stop("SIGKILL"));

  /** Resolves once the server has logged a line matching `pattern` after offset `from`. */
  const logs = (from: number, pattern: RegExp) =>
    eventually(() => pattern.test(background.stderr().slice(from)));

  for (const [name, opened, logged] of OPEN_FAULTS) {
    test(`${name}: GO is refused with ERR_UNKNOWN, logged, and the client may GO again`, async () => {
      const from = background.stderr().length;
      const connection = await RawConnection.open(background.socket);
      await connection.greet();
      expect((await connection.go(name)).type).toBe(ERR_UNKNOWN);
      expect(await logs(from, logged)).toBe(true);
      expect((await connection.go("")).type).toBe(REP.ACK);
      expect((await connection.pread(512, 0)).error).toBe(0);
      connection.close();
      // A handle whose later callback failed is closed at once, as nbdkit does.
      const events = plugin.events();
      expect(events.includes(`open ${name}`)).toBe(opened);
      expect(events.includes(`close ${name}`)).toBe(opened);
    });
  }

  for (const [name, action, errno, logged] of REQUEST_FAULTS) {
    test(`${name}: ${action} fails with ${errno}, logged, and the connection serves on`, async (context) => {
      requireClients(context, "nbdsh");
      const from = background.stderr().length;
      const result = expectSuccess(
        await run(["python3", "-c", requestScript(background.socket, name, action)]),
      );
      expect(JSON.parse(result.stdout)).toEqual({ failed: errno, after: "ok" });
      expect(await logs(from, logged)).toBe(true);
    });
  }

  test("close-fails: the failing close() is logged and the server serves on", async () => {
    const from = background.stderr().length;
    (await RawConnection.opened(background.socket, "close-fails")).close();
    expect(await eventually(() => plugin.events().includes("close close-fails"))).toBe(true);
    expect(await logs(from, /close failed/)).toBe(true);
    const next = await RawConnection.opened(background.socket);
    expect((await next.pread(512, 0)).error).toBe(0);
    next.close();
  });
});
