// readInto on the Node this project runs on: an accepted socket reads into the buffers we
// give (so a write payload lands in place), and the end of the stream still comes.
// If a Node release drops the internals it borrows, the first test says so (the adapter then
// falls back to 'data' events, which the second test covers).

import { createServer, type Socket } from "node:net";
import { connect } from "node:net";
import { describe, expect, test } from "vitest";
import { readInto } from "../../src/runtime/node-read-into.ts";

/** A server accepting one connection paused, as the Node adapter does, and a client to it. */
async function acceptedPair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener = createServer({ pauseOnConnect: true });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
  const client = connect(port, "127.0.0.1");
  const server = await accepted;
  return { server, client, close: () => listener.close() };
}

describe("readInto (Node adapter)", () => {
  test("an accepted socket reads into the buffers we give, in order, and then ends", async () => {
    const { server, client, close } = await acceptedPair();
    const target = new Uint8Array(300_000);
    const spare = new Uint8Array(1024); // for the read that finds the end
    let filled = 0;
    const chunks: Uint8Array[] = [];
    const next = () => filled < target.length ? target.subarray(filled) : spare;
    const engaged = readInto(server, next, (chunk) => {
      chunks.push(chunk);
      filled += chunk.length;
    });
    expect(engaged).toBe(true);
    const ended = new Promise<void>((resolve) => server.on("end", resolve));
    server.resume();
    const sent = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 11) & 0xff);
    client.end(sent);
    await ended;
    expect(filled).toBe(sent.length);
    expect(target).toEqual(sent);
    // Every chunk is a view of the buffer we gave: nothing was copied on the way.
    expect(chunks.every((chunk) => chunk.buffer === target.buffer)).toBe(true);
    server.destroy();
    close();
  });

  test("a socket without Node's onread slots is left alone", () => {
    const notASocket = {} as unknown as Socket;
    expect(readInto(notASocket, () => new Uint8Array(1), () => {})).toBe(false);
  });
});
