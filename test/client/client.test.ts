import { describe, expect, test } from "vitest";
import {
  CMD_FLAG,
  connect,
  ConnectionClosedError,
  type ConnectOptions,
  NbdError,
  STATE,
  TX_FLAG,
} from "../../src/client.ts";
import type { Connect } from "../../src/io.ts";
import { CMD } from "../../src/protocol/constants.ts";
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

/** The request headers a client sent, read from its bytes: type, flags, length (64-bit or 32). */
interface SentRequest {
  magic: number;
  type: number;
  flags: number;
  length: bigint;
}

/** Connects through a pipe that also records each request header the client writes. */
async function tappedClient(options: EmbedOptions, size: string, client: ConnectOptions = {}) {
  const server = await createServer(createMemoryPlugin(), {
    ...options,
    params: { size },
    log: () => {},
  });
  const sent: SentRequest[] = [];
  let transmitting = false;
  const pipe = pipeConnect(server);
  const connectTapped: Connect = async (target, receiver) => {
    const channel = await pipe(target, receiver);
    return {
      ...channel,
      write(parts, written) {
        const first = parts[0];
        const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
        const magic = first.length >= 28 ? view.getUint32(0) : 0;
        if (transmitting && (magic === 0x21e41c71 || magic === 0x25609513)) {
          const extended = magic === 0x21e41c71;
          sent.push({
            magic,
            flags: view.getUint16(4),
            type: view.getUint16(6),
            length: extended ? view.getBigUint64(24) : BigInt(view.getUint32(24)),
          });
        }
        return channel.write(parts, written);
      },
    };
  };
  const nbd = await connect("nbd+unix:///?socket=/pipe", { ...client, connect: connectTapped });
  transmitting = true;
  return { nbd, sent };
}

describe("NbdClient with extended headers", () => {
  const GiB = 2 ** 30;
  const TiB = 2 ** 40;

  test("negotiates them with nbdts; falls back to structured replies when either side says no", async () => {
    const plugin = () => configured(createMemoryPlugin(), "1M");
    const both = await clientOf(plugin());
    expect([both.extendedHeaders, both.structuredReplies]).toEqual([true, true]);
    const server = await createServer(createMemoryPlugin(), {
      noExtendedHeaders: true,
      params: { size: "1M" },
      log: () => {},
    });
    const refused = await connect("nbd+unix:///?socket=/pipe", { connect: pipeConnect(server) });
    expect([refused.extendedHeaders, refused.structuredReplies]).toEqual([false, true]);
    const off = await tappedClient({}, "1M", { extendedHeaders: false });
    expect([off.nbd.extendedHeaders, off.nbd.structuredReplies]).toEqual([false, true]);
    await off.nbd.pwrite(new Uint8Array([1, 2, 3]), 7);
    expect(await off.nbd.read(3, 7)).toEqual(new Uint8Array([1, 2, 3]));
    expect(off.sent.map((r) => r.magic)).toEqual([0x25609513, 0x25609513]);
    for (const client of [both, refused, off.nbd]) await client.disconnect();
  });

  test("zero and trim of more than 4 GiB go as one request; block status maps 4 TiB in 64-bit extents", async () => {
    const { nbd, sent } = await tappedClient({}, "4T");
    await nbd.pwrite(new Uint8Array(65536).fill(1), 0);
    await nbd.pwrite(new Uint8Array(131072).fill(2), TiB);
    await nbd.zero(6 * GiB, 2 * TiB);
    await nbd.trim(5 * GiB + 4096, 3 * TiB);
    await nbd.cache(8 * GiB, 0);
    expect(sent.filter((r) => r.type === CMD.WRITE_ZEROES)).toEqual([
      { magic: 0x21e41c71, type: CMD.WRITE_ZEROES, flags: 0, length: 6n * 2n ** 30n },
    ]);
    expect(sent.filter((r) => r.type === CMD.TRIM).map((r) => r.length)).toEqual([
      5n * 2n ** 30n + 4096n,
    ]);
    const extents = await nbd.blockStatus(4 * TiB, 0);
    expect(extents.slice(0, 3)).toEqual([
      { offset: 0, length: 65536, flags: 0 },
      { offset: 65536, length: TiB - 65536, flags: STATE.HOLE | STATE.ZERO },
      { offset: TiB, length: 131072, flags: 0 },
    ]);
    const end = extents.reduce((at, e) => at + Number(e.length), 0);
    expect(end).toBe(4 * TiB);
    await nbd.disconnect();
  });

  test("a WRITE carries PAYLOAD_LEN; BLOCK_STATUS names its one context in a payload", async () => {
    const { nbd, sent } = await tappedClient({}, "1M");
    expect(nbd.flags & TX_FLAG.BLOCK_STATUS_PAYLOAD).toBeTruthy();
    await nbd.pwrite(new Uint8Array(512).fill(9), 0, CMD_FLAG.FUA);
    const extents = await nbd.blockStatus(1048576, 0, CMD_FLAG.REQ_ONE);
    expect(extents).toEqual([{ offset: 0, length: 32768, flags: 0 }]); // the memory plugin's pages
    expect(sent).toEqual([
      {
        magic: 0x21e41c71,
        type: CMD.WRITE,
        flags: CMD_FLAG.PAYLOAD_LEN | CMD_FLAG.FUA,
        length: 512n,
      },
      // The payload: u64 effect length, u32 base:allocation's id.
      {
        magic: 0x21e41c71,
        type: CMD.BLOCK_STATUS,
        flags: CMD_FLAG.PAYLOAD_LEN | CMD_FLAG.REQ_ONE,
        length: 12n,
      },
    ]);
    await expect(nbd.blockStatus(512, 0, 0, "qemu:allocation-depth")).rejects.toThrow(
      /did not agree to qemu:allocation-depth/,
    );
    await nbd.disconnect();
  });

  test("without them a request over 2^32 - 1 bytes is refused unsent; the connection goes on", async () => {
    const { nbd, sent } = await tappedClient({ noExtendedHeaders: true }, "8G");
    await expect(nbd.zero(2 ** 32, 0)).rejects.toThrow(
      /Cannot send WRITE_ZEROES of 4294967296 bytes: over 4294967295 in one request/,
    );
    await expect(nbd.blockStatus(2n ** 33n, 0)).rejects.toBeInstanceOf(RangeError);
    await nbd.zero(2 ** 32 - 65536, 0);
    expect(sent.map((r) => [r.type, r.length])).toEqual([[
      CMD.WRITE_ZEROES,
      BigInt(2 ** 32 - 65536),
    ]]);
    expect((await nbd.blockStatus(2 ** 32 - 1, 0))[0]).toMatchObject({ offset: 0, flags: 3 });
    await nbd.disconnect();
  });
});
