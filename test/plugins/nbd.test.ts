import { describe, expect, test } from "vitest";
import { createNbdPlugin } from "../../src/plugins/nbd.ts";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import { createServer } from "../../src/embed/serve.ts";
import { EXTENT, FLAG, type Handle } from "../../src/api/plugin.ts";
import type { PluginHost } from "../../src/io.ts";
import { pipeConnect } from "../helpers/client-pipe.ts";

/** An nbd plugin whose every connection reaches an in-process nbdts memory disk. */
async function proxied(params: Record<string, string>, readonly = false): Promise<Handle> {
  const server = await createServer(createMemoryPlugin(), {
    params: { size: "1M" },
    log: () => {},
  });
  const host = { connect: pipeConnect(server) } as unknown as PluginHost;
  const plugin = createNbdPlugin(host);
  for (const [key, value] of Object.entries(params)) await plugin.config!(key, value);
  await plugin.configComplete!();
  await plugin.afterFork!();
  return await plugin.open(readonly, "");
}

describe("the nbd plugin's handle", () => {
  test("passes writes, zeroes and extents through, with the server's answers", async () => {
    const handle = await proxied({ socket: "/pipe" });
    expect(await handle.getSize()).toBe(1048576);
    expect(await handle.canWrite!()).toBe(true);
    await handle.writeAt!(new Uint8Array(32768).fill(7), 0, FLAG.FUA);
    await handle.zero!(32768, 0, FLAG.MAY_TRIM); // a hole may be punched: the page goes
    const extents: [number, number, number][] = [];
    await handle.extents!(1048576, 0, 0, {
      add: (offset, length, type) => extents.push([Number(offset), Number(length), type]),
    });
    expect(extents).toEqual([[0, 1048576, EXTENT.HOLE | EXTENT.ZERO]]);
    const buf = new Uint8Array(4);
    await handle.readAt(buf, 0);
    expect(buf).toEqual(new Uint8Array(4));
    await handle.close!();
  });

  test("a client opening read-only cannot write, whatever the server allows", async () => {
    const handle = await proxied({ uri: "nbd+unix:///?socket=/pipe" }, true);
    expect(await handle.canWrite!()).toBe(false);
    await handle.close!();
  });

  test("a server refusal is the same NbdError, errno kept", async () => {
    const handle = await proxied({ socket: "/pipe" });
    await expect(handle.readAt(new Uint8Array(8), 1048576)).rejects.toMatchObject({
      name: "NbdError",
      errno: "EINVAL",
    });
    await handle.close!();
  });

  test("without sockets from the runtime it says so", async () => {
    const plugin = createNbdPlugin();
    await plugin.config!("socket", "/pipe");
    await plugin.configComplete!();
    await expect(Promise.resolve().then(() => plugin.open(false, ""))).rejects.toThrow(
      /gives built-in plugins no sockets/,
    );
  });
});
