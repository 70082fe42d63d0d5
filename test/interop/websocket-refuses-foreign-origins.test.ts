/**
 * --websocket refuses web pages it was not told to serve. A browser sends Origin with every
 * WebSocket it opens, and any page the user visits may try ws://localhost; such a request gets
 * 403 before any NBD byte unless --websocket-origin allows its origin. Programs send no Origin
 * and are served. --websocket-host limits the Host names served (DNS rebinding). nbdkit has no
 * WebSocket listener: these run against nbdts alone, on every runtime.
 */

import { afterEach, describe, expect, test } from "vitest";
import { WebSocket } from "ws";
import { run } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";
import { startWebSocketServer, type WebSocketServer } from "../helpers/websocket-server.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

async function start(argv: readonly string[], options: string[]): Promise<WebSocketServer> {
  const server = await startWebSocketServer(argv, [...options, "memory", "1M"]);
  cleanups.push(server.stop);
  return server;
}

/** What an upgrade request got: the HTTP status, and the first bytes of NBD if it was served. */
interface Outcome {
  status: number;
  nbd: string;
}

/** Opens a WebSocket as a page of `origin` would (no origin: as a program does). */
function attempt(url: string, origin?: string, host?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers = host === undefined ? {} : { host };
    const ws = new WebSocket(url, { origin, headers });
    ws.on("unexpected-response", (_request, response) => {
      ws.terminate();
      resolve({ status: response.statusCode ?? 0, nbd: "" });
    });
    ws.on("message", (data: Buffer) => {
      ws.close();
      resolve({ status: 101, nbd: data.subarray(0, 8).toString("latin1") });
    });
    ws.on("error", (error) => {
      if (!/Unexpected server response/.test(error.message)) reject(error);
    });
  });
}

const SERVED = { status: 101, nbd: "NBDMAGIC" };
const REFUSED = { status: 403, nbd: "" };

if (ours.length === 0) test.skip("--websocket origins: no nbdts server is selected", () => {});

describe.each(ours)("--websocket and web pages ($name)", (server) => {
  test("a foreign page gets 403 before any NBD byte, is logged, and others are still served", async () => {
    const nbd = await start(server.argv, []);
    expect(await attempt(nbd.url, "https://evil.example")).toEqual(REFUSED);
    const line =
      /websocket: error: refused 127\.0\.0\.1:\d+ \(websocket\): Origin "https:\/\/evil\.example" is not allowed/;
    expect(await nbd.logged(line)).toMatch(line);
    expect(await attempt(nbd.url)).toEqual(SERVED);
    expect(await attempt(nbd.url, "https://evil.example")).toEqual(REFUSED);
  });

  test("an origin given with --websocket-origin is served, any other still refused", async () => {
    const nbd = await start(server.argv, [
      "--websocket-origin=https://app.example",
      "--websocket-origin",
      "http://localhost:8080",
    ]);
    expect(await attempt(nbd.url, "https://app.example")).toEqual(SERVED);
    expect(await attempt(nbd.url, "http://localhost:8080")).toEqual(SERVED);
    expect(await attempt(nbd.url, "http://app.example")).toEqual(REFUSED);
    expect(await attempt(nbd.url, "https://evil.example")).toEqual(REFUSED);
  });

  test("a client without Origin (a program, a bridge) is served", async () => {
    const nbd = await start(server.argv, ["--websocket-origin=https://app.example"]);
    expect(await attempt(nbd.url)).toEqual(SERVED);
  });

  test('--websocket-origin="*" serves every page', async () => {
    const nbd = await start(server.argv, ["--websocket-origin=*"]);
    expect(await attempt(nbd.url, "https://evil.example")).toEqual(SERVED);
    expect(await attempt(nbd.url, "null")).toEqual(SERVED);
  });

  test("--websocket-host refuses requests addressed to other names (DNS rebinding)", async () => {
    const nbd = await start(server.argv, ["--websocket-origin=*", "--websocket-host=localhost"]);
    const port = new URL(nbd.url).port;
    expect(await attempt(nbd.url, "https://a.example", `localhost:${port}`)).toEqual(SERVED);
    expect(await attempt(nbd.url, "https://a.example", `rebind.example:${port}`)).toEqual(REFUSED);
    const line = /Host "rebind\.example:\d+" is not allowed/;
    expect(await nbd.logged(line)).toMatch(line);
  });

  test("--websocket-origin without --websocket is refused at start-up", async () => {
    const result = await run([...server.argv, "--websocket-origin=*", "memory", "1M"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--websocket-origin can only be used with --websocket/);
  });
});
