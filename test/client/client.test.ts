import { describe, expect, test } from "vitest";
import { CMD_FLAG, connect, ConnectionClosedError, NbdError, STATE } from "../../src/client.ts";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import { createFullPlugin } from "../../src/plugins/full.ts";
import { pipeConnect } from "../helpers/client-pipe.ts";
import { createServer, type EmbedOptions } from "../../src/embed/serve.ts";
import type { Plugin } from "../../src/api/plugin.ts";

/** A plugin with its size, served by createServer when the client connects. */
function configured(plugin: Plugin, size: string): { plugin: Plugin; size: string } {
  return { plugin, size };
}

async function clientOf(
  { plugin, size }: { plugin: Plugin; size: string },
  options: EmbedOptions = {},
  split = Infinity,
) {
  const server = await createServer(plugin, { ...options, params: { size }, log: () => {} });
  return await connect("nbd+unix:///?socket=/pipe", { connect: pipeConnect(server, split) });
}

describe("NbdClient against an in-process nbdts", () => {
  test("negotiates structured replies and base:allocation, and learns size and flags", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "1M"));
    expect(client.size).toBe(1048576);
    expect(client.structuredReplies).toBe(true);
    expect(client.canBlockStatus).toBe(true);
    expect([client.readOnly, client.canFlush, client.canTrim, client.canZero]).toEqual([
      false,
      true,
      true,
      true,
    ]);
    await client.disconnect();
  });

  test("writes and reads back with every byte arriving alone", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "1M"), {}, 1);
    const data = Uint8Array.from({ length: 3000 }, (_, i) => i % 256);
    await client.pwrite(data, 5000, CMD_FLAG.FUA);
    expect(await client.read(3000, 5000)).toEqual(data);
    await client.disconnect();
  });

  test("reads of holes come back as zeroes over what the buffer held", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "1M"));
    const buffer = new Uint8Array(65536).fill(0xee);
    await client.pread(buffer, 0);
    expect(buffer.every((byte) => byte === 0)).toBe(true);
    await client.disconnect();
  });

  test("many requests in flight each settle with their own reply", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "1M"));
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.pwrite(new Uint8Array(512).fill(i), i * 512)),
    );
    const reads = await Promise.all(
      Array.from({ length: 100 }, (_, i) => client.read(512, i * 512)),
    );
    expect(reads.map((bytes) => bytes[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await client.disconnect();
  });

  test("block status reports written data and zeroed holes", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "1M"));
    await client.pwrite(new Uint8Array(32768).fill(1), 0);
    const extents = await client.blockStatus(1048576, 0);
    expect(extents[0]).toEqual({ offset: 0, length: 32768, flags: 0 });
    expect(extents[1]).toMatchObject({ offset: 32768, flags: STATE.HOLE | STATE.ZERO });
    await client.disconnect();
  });

  test("a refused request rejects with the server's errno and the connection goes on", async () => {
    const client = await clientOf(configured(createFullPlugin(), "1M"));
    const failure = await client.pwrite(new Uint8Array(512), 0).catch((error) => error);
    expect(failure).toBeInstanceOf(NbdError);
    expect(failure.errno).toBe("ENOSPC");
    const pastEnd = await client.read(512, 1048576).catch((error) => error);
    expect(pastEnd.errno).toBe("EINVAL");
    expect((await client.read(512, 0)).every((byte) => byte === 0)).toBe(true);
    await client.disconnect();
  });

  test("a read-only export refuses writes with EPERM", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "1M"), { readonly: true });
    expect(client.readOnly).toBe(true);
    await expect(client.pwrite(new Uint8Array(1), 0)).rejects.toMatchObject({ errno: "EPERM" });
    await client.disconnect();
  });

  test("without structured replies reads still work and block status is refused", async () => {
    const plugin = configured(createMemoryPlugin(), "1M");
    const client = await clientOf(plugin, { noStructuredReplies: true });
    expect(client.structuredReplies).toBe(false);
    await client.pwrite(new Uint8Array([1, 2, 3]), 10);
    expect(await client.read(3, 10)).toEqual(new Uint8Array([1, 2, 3]));
    await expect(client.blockStatus(512, 0)).rejects.toBeInstanceOf(ConnectionClosedError);
    await client.disconnect();
  });

  test("an oldstyle server is served with simple replies", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "64K"), {
      oldstyle: true,
    });
    expect(client.size).toBe(65536);
    await client.pwrite(new Uint8Array([9]), 100);
    expect(await client.read(1, 100)).toEqual(new Uint8Array([9]));
    await client.disconnect();
  });

  test("after disconnect every request is refused", async () => {
    const client = await clientOf(configured(createMemoryPlugin(), "1M"));
    await client.disconnect();
    await client.closed;
    await expect(client.read(1, 0)).rejects.toBeInstanceOf(ConnectionClosedError);
  });
});
