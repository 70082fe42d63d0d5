// The Node socket channel keeps Channel.confirmsWrites: `written` comes once for every batch,
// when it is written, when the socket is destroyed with the batch still queued, and at once for
// a batch given to a socket already gone. A plugin's lent pages depend on it.

import { connect, createServer, type Socket } from "node:net";
import { describe, expect, test } from "vitest";
import { socketChannel } from "../../src/runtime/node-socket.ts";

/** A connected pair over TCP loopback; the client reads nothing unless told. */
async function pair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const port = (listener.address() as { port: number }).port;
  const accepted = new Promise<Socket>((resolve) => listener.once("connection", resolve));
  const client = connect(port, "127.0.0.1");
  client.pause();
  const server = await accepted;
  return { server, client, close: () => listener.close() };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("socketChannel written callbacks", () => {
  test("batches queued behind a reader that reads nothing are confirmed when the socket is destroyed", async () => {
    const { server, client, close } = await pair();
    const channel = socketChannel(server, "test");
    expect(channel.confirmsWrites).toBe(true);
    let confirmed = 0;
    for (let i = 0; i < 16; i++) {
      channel.write([new Uint8Array(16), new Uint8Array(1024 * 1024)], () => void confirmed++);
    }
    await settled();
    expect(confirmed).toBeLessThan(16); // the kernel's buffers hold far less than 16 MiB
    server.destroy();
    await settled();
    expect(confirmed).toBe(16);
    channel.write([new Uint8Array(1024 * 1024)], () => void confirmed++);
    expect(confirmed).toBe(17); // the socket is gone: at once
    client.destroy();
    close();
  });

  test("a batch written to a socket that is closing is confirmed too", async () => {
    const { server, client, close } = await pair();
    const channel = socketChannel(server, "test");
    server.on("error", () => {}); // write after end: feed() in node-socket.ts listens for it
    let confirmed = 0;
    client.resume();
    channel.close();
    channel.write([new Uint8Array(1024 * 1024)], () => void confirmed++);
    await settled();
    expect(confirmed).toBe(1);
    client.destroy();
    close();
  });
});
