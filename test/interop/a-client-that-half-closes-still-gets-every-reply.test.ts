/**
 * A client may send its last request and half-close the socket (end of stream) before reading:
 * the server must still send every reply whole, then close. Replies larger than the socket's
 * buffer are the case that matters: Bun's sockets by default closed both ends at the client's
 * end of stream and dropped what was still queued (a 500 KB READ arrived cut at 219 KB).
 * It showed when GO, the requests and the end of stream came together; the socket fuzzer found
 * it with a READ of 513134 bytes.
 */

import { connect } from "node:net";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import {
  bytes,
  CMD,
  goData,
  OPT,
  optionRequest,
  RawConnection,
  REP,
  request,
  u32,
  WIRE,
} from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;
const ESHUTDOWN = 108;
/** The READ at 0 the fuzzer found cut (one of 1 MiB, or three at once, came whole by timing). */
const LENGTHS = [513134];

describe.each(servers)("a client that half-closes ($name)", (server) => {
  test("GO, a 500 KB READ and its end of stream sent at once: the reply comes whole", async () => {
    const background = await startServer(server, ["memory", "64M"]);
    const data = new Uint8Array(MiB).map((_, i) => (i * 7 + 1) & 0xff);
    const writer = await RawConnection.opened(background.socket);
    expect(await writer.pwrite(data, 0)).toBe(0);
    writer.close();

    // Client flags, GO, the READs and the end of stream at once, right after the greeting.
    const reads = LENGTHS.map((length, i) =>
      request({ type: CMD.READ, cookie: BigInt(i + 1), offset: 0, length })
    );
    const all = await sendThenRead(
      background.socket,
      bytes(u32(3), optionRequest(OPT.GO, goData("")), ...reads),
    );
    const received = afterGo(all);
    // Each reply whole: the data, or (nbdkit, for a request its end of stream overtook) an
    // ESHUTDOWN error without data.
    const view = new DataView(received.buffer, received.byteOffset, received.byteLength);
    const answered: bigint[] = [];
    let at = 0;
    while (at < received.length) {
      expect(view.getUint32(at)).toBe(WIRE.SIMPLE_REPLY_MAGIC);
      const error = view.getUint32(at + 4);
      answered.push(view.getBigUint64(at + 8));
      at += 16;
      if (error !== 0) {
        expect(error, "ESHUTDOWN").toBe(ESHUTDOWN);
        continue;
      }
      const length = LENGTHS[Number(answered.at(-1)) - 1];
      const got = received.subarray(at, at + length);
      expect(Buffer.compare(got, data.subarray(0, length)), `reply ${answered.at(-1)}`).toBe(0);
      at += length;
    }
    expect(answered).toEqual([1n]);
  });
});

/** After the 18-byte greeting, sends `bytes` and half-closes; resolves to all the server sent. */
function sendThenRead(path: string, bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const parts: Buffer[] = [];
    let length = 0;
    socket.on("data", (chunk: Buffer) => {
      if (length < 18 && length + chunk.length >= 18) socket.end(bytes);
      parts.push(chunk);
      length += chunk.length;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(new Uint8Array(Buffer.concat(parts))));
  });
}

/** What follows the greeting and GO's replies (up to its ACK). */
function afterGo(all: Uint8Array): Uint8Array {
  const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
  let at = 18;
  for (;;) {
    const type = view.getUint32(at + 12);
    at += 20 + view.getUint32(at + 16);
    if (type === REP.ACK) return all.subarray(at);
  }
}
