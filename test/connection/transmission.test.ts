import { describe, expect, test } from "vitest";
import { Backend } from "../../src/backend/backend.ts";
import { BufferPool } from "../../src/connection/buffer-pool.ts";
import { ConnectionLog } from "../../src/connection/connection-log.ts";
import { DisconnectError } from "../../src/api/errors.ts";
import { Log } from "../../src/api/log.ts";
import { Output } from "../../src/connection/output.ts";
import type { Handle } from "../../src/api/plugin.ts";
import type { Request } from "../../src/protocol/codec.ts";
import { CMD } from "../../src/protocol/constants.ts";
import { Transmission } from "../../src/connection/transmission.ts";
import { TestChannel } from "../helpers/wire.ts";

/** A Transmission over `handle`, the channel its output writes to, and its disconnects. */
async function over(handle: Handle) {
  const ended: string[] = [];
  const channel = new TestChannel();
  const pool = new BufferPool();
  const output = new Output(channel, () => {}, pool);
  const backend = await Backend.over(handle, false);
  const transmission = new Transmission({
    backend,
    validation: {
      size: 4096,
      flags: 0,
      structuredReplies: false,
      extendedHeaders: false,
      baseAllocation: false,
      maxPayload: 1 << 20,
    },
    structuredReplies: false,
    extendedHeaders: false,
    output,
    pool,
    log: new ConnectionLog(new Log((line) => ended.push(line)), "test", 1),
    disconnect: () => ended.push("disconnect"),
  });
  return { transmission, output, channel, ended };
}

function request(type: number, length = 0, payload?: Uint8Array): Request {
  return {
    flags: 0,
    type,
    cookieHi: 0,
    cookieLo: 7,
    offset: 0,
    length,
    payload,
    payloadDropped: false,
    contextIds: undefined,
  };
}

const disk = new Uint8Array(4096);
const syncHandle: Handle = {
  getSize: () => disk.length,
  readAt: (buf, offset) => buf.set(disk.subarray(Number(offset), Number(offset) + buf.length)),
  writeAt: (buf, offset) => disk.set(buf, Number(offset)),
  trim: () => {},
  flush: () => {},
};

describe("Transmission.execute", () => {
  test.each([
    ["READ", () => request(CMD.READ, 512), 16 + 512],
    ["WRITE", () => request(CMD.WRITE, 512, new Uint8Array(512).fill(3)), 16],
    ["TRIM", () => request(CMD.TRIM, 512), 16],
    ["FLUSH", () => request(CMD.FLUSH), 16],
  ])(
    "a synchronous plugin's %s is answered before execute returns, and no promise is made",
    async (_name, make, replySize) => {
      const { transmission, output, channel } = await over(syncHandle);
      expect(transmission.execute(make())).toBeUndefined();
      output.flush(); // what the end of the turn would do
      expect(channel.length).toBe(replySize);
    },
  );

  test("an asynchronous plugin gets a promise that settles once the reply is queued", async () => {
    const { transmission, output, channel } = await over({
      ...syncHandle,
      readAt: (buf) => Promise.resolve(void buf.fill(9)),
    });
    const running = transmission.execute(request(CMD.READ, 8));
    expect(running).toBeInstanceOf(Promise);
    await running;
    output.flush();
    expect(channel.bytes(16)).toEqual(new Uint8Array(8).fill(9));
  });

  test("a synchronous throw is a reply with the error, not a throw from execute", async () => {
    const { transmission, output, channel } = await over({
      ...syncHandle,
      writeAt: () => {
        throw new Error("disk on fire");
      },
    });
    expect(transmission.execute(request(CMD.WRITE, 4, new Uint8Array(4)))).toBeUndefined();
    output.flush();
    expect(new DataView(channel.bytes().slice().buffer).getUint32(4)).toBe(5); // EIO
  });

  test("a DisconnectError gets no reply: it is logged and the connection is ended", async () => {
    const { transmission, output, channel, ended } = await over({
      ...syncHandle,
      writeAt: () => {
        throw new DisconnectError("disconnecting client due to oversize write request");
      },
    });
    expect(transmission.execute(request(CMD.WRITE, 4, new Uint8Array(4)))).toBeUndefined();
    output.flush();
    expect(channel.length).toBe(0);
    expect(ended).toEqual([
      "nbdts: test[1]: error: disconnecting client due to oversize write request\n",
      "disconnect",
    ]);
  });
});
