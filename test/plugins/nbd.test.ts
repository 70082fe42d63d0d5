import { describe, expect, test } from "vitest";
import { createNbdPlugin } from "../../src/plugins/nbd.ts";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import { createServer } from "../../src/embed/serve.ts";
import { EXTENT, FLAG, type Handle } from "../../src/api/plugin.ts";
import type { Channel, PluginHost, Receiver } from "../../src/io.ts";
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

describe("websocket-listen=", () => {
  test("takes [HOST:]PORT and refuses anything else", async () => {
    const { parseListenAddress } = await import("../../src/plugins/nbd/websocket-listen.ts");
    expect(parseListenAddress("8765")).toEqual({ host: undefined, port: 8765 });
    expect(parseListenAddress("127.0.0.1:8765")).toEqual({ host: "127.0.0.1", port: 8765 });
    expect(parseListenAddress("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(() => parseListenAddress("host:")).toThrow(/expected \[HOST:\]PORT/);
    expect(() => parseListenAddress("70000")).toThrow(/expected \[HOST:\]PORT/);
  });

  test("a client waits for the server that dials in, and is served by it", async () => {
    const server = await createServer(createMemoryPlugin(), {
      params: { size: "64K" },
      log: () => {},
    });
    let accept: ((channel: Channel) => Receiver) | undefined;
    const host = {
      listen(_address: unknown, given: (channel: Channel) => Receiver) {
        accept = given;
        return Promise.resolve({ close: () => Promise.resolve() });
      },
    } as unknown as PluginHost;
    const plugin = createNbdPlugin(host);
    await plugin.config!("websocket-listen", "127.0.0.1:0");
    await plugin.configComplete!();
    await plugin.afterFork!();
    const opening = Promise.resolve(plugin.open(false, ""));
    // The "page" dials in: its server speaks first, over an in-memory pair. The plugin sends
    // nothing before the greeting, so its end can be joined once the pair exists.
    const ends: { page?: Channel } = {};
    const toPlugin = accept!({
      peer: "page",
      write: (parts) => ends.page!.write(parts),
      pause() {},
      resume() {},
      close: () => ends.page?.close(),
    });
    ends.page = await pipeConnect(server)({ kind: "unix", path: "page" }, toPlugin);
    const handle = await opening;
    expect(await handle.getSize()).toBe(65536);
    await plugin.unload!();
  });
});
