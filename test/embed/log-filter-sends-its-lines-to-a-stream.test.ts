/**
 * Embedding: createLogFilter({ to }) sends the log filter's lines to a WritableStream, a function
 * or a WebSocket instead of a file. The same libnbd session gives, line for line, what nbdkit's
 * --filter=log writes to its log file (timestamps aside: nbdkit runs it, our oracle); every
 * destination gets the same lines; a full stream holds requests back until it has room; a
 * destination that fails is reported once and the requests go on.
 */

import { createServer as createNetServer, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { connect } from "../../src/client.ts";
import type { Server } from "../../src/connection/server.ts";
import { createServer, serveStream } from "../../src/embed/serve.ts";
import { createErrorFilter } from "../../src/filters/error.ts";
import { createLogFilter } from "../../src/filters/log.ts";
import type { LogDestination } from "../../src/filters/log-destination.ts";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { pipeConnect } from "../helpers/client-pipe.ts";
import { KNOWN_SERVERS, requireClients } from "../helpers/servers.ts";

const TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} /;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Lines as a log file holds them (each stamped, ending in a newline), stamps taken off. */
function unstamped(lines: readonly string[]): string[] {
  return lines.map((line) => {
    expect(line).toMatch(TIMESTAMP);
    expect(line.endsWith("\n")).toBe(true);
    return line.replace(TIMESTAMP, "").slice(0, -1);
  });
}

/** The memory disk of 1M behind a log filter sending to `to`, and an error filter failing trims. */
async function loggedServer(to: LogDestination, log?: (line: string) => void) {
  const stack = stackFilters([createLogFilter({ to }), createErrorFilter()], createMemoryPlugin());
  const server = await createServer(stack, {
    params: { size: "1M", "error-trim-rate": "1" },
    log,
  });
  let unloaded: Promise<void> | undefined;
  const unload = () => unloaded ??= Promise.resolve(stack.unload?.());
  cleanups.push(async () => {
    await server.shutdown();
    await unload();
  });
  return { server, unload };
}

/** A Unix socket whose connections the embedded server serves as Web Streams pairs. */
async function streamBridge(server: Server): Promise<string> {
  const path = join(scratchDir(), "stream.sock");
  const sockets: Socket[] = [];
  const net = createNetServer((socket) => {
    sockets.push(socket);
    const { readable, writable } = Duplex.toWeb(socket);
    void serveStream(server, {
      readable: readable as ReadableStream<Uint8Array>,
      writable: writable as WritableStream<Uint8Array>,
    });
  });
  cleanups.push(() => {
    sockets.forEach((socket) => socket.destroy());
    return new Promise<void>((done) => net.close(() => done()));
  });
  await new Promise<void>((resolve) => net.listen(path, resolve));
  return `nbd+unix:///?socket=${path}`;
}

/** A listing, then one client doing each kind of request (a trim fails below the log). */
const SESSION = `
import os
import nbd
socket = os.environ["uri"].split("socket=")[1]
h = nbd.NBD()
h.set_opt_mode(True)
h.connect_unix(socket)
h.opt_list(lambda name, description: 0)
h.opt_abort()
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_unix(socket)
h.pwrite(b"x" * 512, 0, nbd.CMD_FLAG_FUA)
h.pread(512, 0)
h.zero(4096, 8192, nbd.CMD_FLAG_FAST_ZERO)
h.cache(512, 0)
h.flush()
try:
    h.trim(4096, 65536)
except nbd.Error:
    pass
h.block_status(65536, 0, lambda *args: 0)
h.shutdown()
`;

async function session(uri: string): Promise<void> {
  const script = join(scratchDir(), "session.py");
  writeFileSync(script, SESSION);
  expectSuccess(await run(["python3", script], { env: { uri } }));
}

/** Collects what a WritableStream of strings is given. */
function collectingStream(lines: string[], strategy?: QueuingStrategy<string>) {
  return new WritableStream<string>({ write: (line) => void lines.push(line) }, strategy);
}

describe("createLogFilter({ to })", () => {
  test("a stream gets the lines nbdkit's log file holds for the same session", async (context) => {
    requireClients(context, "nbdkit", "nbdsh");
    const nbdkit = KNOWN_SERVERS.find((server) => server.name === "nbdkit")!;
    const file = join(scratchDir(), "log");
    const oracle = await startServer(nbdkit, [
      "--filter=log",
      "--filter=error",
      "memory",
      "1M",
      `logfile=${file}`,
      "error-trim-rate=1",
    ]);
    await session(oracle.uri);
    expect((await oracle.stop()).status).toBe(0);
    const expected = readFileSync(file, "utf8").split("\n").filter((line) => line !== "")
      .map((line) => line.replace(TIMESTAMP, ""));

    const lines: string[] = [];
    let closed = false;
    const stream = new WritableStream<string>({
      write: (line) => void lines.push(line),
      close: () => void (closed = true),
    });
    const { server, unload } = await loggedServer(stream);
    await session(await streamBridge(server));
    await server.shutdown();
    await unload();
    expect(closed).toBe(true); // as the log file is closed
    expect(unstamped(lines)).toEqual(expected);
    // Not vacuous: the session's every kind of entry is there.
    expect(expected).toContain("connection=1 ...Trim id=6 return=-1 error=EIO");
    expect(expected.at(-1)).toBe("connection=1 Disconnect transactions=7");
  });

  test("a function, a WebSocket and a stream get the same lines", async () => {
    const requests = async (to: LogDestination) => {
      const { server } = await loggedServer(to);
      const client = await connect("nbd+unix:///?socket=/pipe", { connect: pipeConnect(server) });
      await client.pwrite(new Uint8Array(1024).fill(7), 4096);
      expect(await client.read(1024, 4096)).toEqual(new Uint8Array(1024).fill(7));
      await client.flush();
      await client.disconnect();
      await server.shutdown();
    };
    const fromFunction: string[] = [];
    await requests((line) => void fromFunction.push(line));
    const fromStream: string[] = [];
    await requests(collectingStream(fromStream));

    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    cleanups.push(() => new Promise<void>((done) => wss.close(() => done())));
    const fromSocket: string[] = [];
    wss.on("connection", (peer) => peer.on("message", (data) => fromSocket.push(String(data))));
    await new Promise<void>((resolve) => wss.on("listening", () => resolve()));
    const socket = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`);
    cleanups.push(() => socket.terminate());
    await new Promise((resolve) => socket.on("open", resolve));
    await requests(socket);
    for (let wait = 0; fromSocket.length < fromFunction.length && wait < 200; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    expect(unstamped(fromFunction)).toEqual([
      "Ready thread_model=3",
      "Preconnect id=1 readonly=0 ...",
      "...Preconnect id=1 return=0",
      'connection=1 Connect export="" tls=0 size=0x100000 minsize=0x0 prefsize=0x0 ' +
      "maxsize=0x0 write=1 flush=1 rotational=0 trim=1 zero=2 fua=2 extents=1 cache=2 " +
      "fast_zero=1",
      "connection=1 Write id=1 offset=0x1000 count=0x400 fua=0 ...",
      "connection=1 ...Write id=1 return=0",
      "connection=1 Read id=2 offset=0x1000 count=0x400 ...",
      "connection=1 ...Read id=2 return=0",
      "connection=1 Flush id=3 ...",
      "connection=1 ...Flush id=3 return=0",
      "connection=1 Disconnect transactions=3",
    ]);
    expect(unstamped(fromStream)).toEqual(unstamped(fromFunction));
    expect(unstamped(fromSocket)).toEqual(unstamped(fromFunction));
  });

  test("a full stream holds a request back until it has room", async () => {
    const lines: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slow = new WritableStream<string>({
      async write(line) {
        await gate;
        lines.push(line);
      },
    }, new CountQueuingStrategy({ highWaterMark: 1 }));
    const { server } = await loggedServer(slow);
    const client = await connect("nbd+unix:///?socket=/pipe", { connect: pipeConnect(server) });
    let answered = false;
    const read = client.read(512, 0).then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([answered, lines.length]).toEqual([false, 0]);
    open();
    await read;
    expect(unstamped(lines).slice(-2)).toEqual([
      "connection=1 Read id=1 offset=0x0 count=0x200 ...",
      "connection=1 ...Read id=1 return=0",
    ]);
    await client.disconnect();
  });

  test("a destination that fails is reported once, and requests go on", async () => {
    const errors: string[] = [];
    const failing = (line: string) => {
      if (line.includes(" Write ") || line.includes(" Read ")) {
        throw new Error("the dashboard is gone");
      }
    };
    const { server } = await loggedServer(failing, (line) => void errors.push(line));
    const client = await connect("nbd+unix:///?socket=/pipe", { connect: pipeConnect(server) });
    await client.pwrite(new Uint8Array(512).fill(1), 0);
    expect(await client.read(512, 0)).toEqual(new Uint8Array(512).fill(1));
    await client.disconnect();
    expect(errors).toEqual(["nbdts: memory: error: log destination: the dashboard is gone\n"]);
  });
});
