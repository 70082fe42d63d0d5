/**
 * Both HTTP transports the curl and S3 plugins use, against a real node:http server: over the
 * runtime's own connections (Node's PluginHost.connect) and over fetch, the same answers —
 * bodies into a lent buffer, text, redirects followed or not, credentials kept from other
 * servers, timeouts; the socket transport also reuses its connections and survives a server
 * that closed an idle one.
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fetchTransport } from "../../src/plugins/lib/http/fetch-transport.ts";
import { socketTransport } from "../../src/plugins/lib/http/socket-transport.ts";
import type { HttpRequest, HttpTransport } from "../../src/plugins/lib/http/transport.ts";
import { connectSocket } from "../../src/runtime/node-connect.ts";

const DATA = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);

type Route = (request: IncomingMessage, response: ServerResponse, body: Buffer) => void;

/** A web server whose answers the tests choose by path. */
function startServer(routes: Record<string, Route>) {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const route = routes[new URL(request.url!, "http://x").pathname];
      if (!route) return void response.writeHead(404).end("no such page");
      route(request, response, Buffer.concat(parts));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return {
    listening: new Promise<string>((resolve) =>
      server.listen(
        0,
        "127.0.0.1",
        () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      )
    ),
    dropIdle: () => sockets.forEach((socket) => socket.destroy()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const ranged: Route = (request, response) => {
  const [, start, end] = /bytes=(\d+)-(\d+)/.exec(request.headers.range ?? "") ?? [];
  const slice = DATA.subarray(Number(start), Number(end) + 1);
  response.writeHead(206, {
    "Content-Range": `bytes ${start}-${end}/${DATA.length}`,
    "Content-Length": slice.length,
  });
  response.end(slice);
};

const seenHeaders: Record<string, string | undefined>[] = [];
const other = startServer({
  "/headers": (request, response) => {
    const x = request.headers["x-a"];
    seenHeaders.push({ authorization: request.headers.authorization, x: String(x) });
    response.end("elsewhere");
  },
});
const web = startServer({
  "/disk": ranged,
  "/whole": (_, response) => response.end(DATA), // ignores Range: 3 MiB for a small buffer
  "/put": (request, response, body) => {
    response.writeHead(201, { "X-Got": `${request.method} ${body.length}` }).end();
  },
  "/chunked-error": (_, response) => {
    response.writeHead(403, { "Content-Type": "application/xml" });
    response.write("<Error><Code>");
    response.end("AccessDenied</Code></Error>");
  },
  "/moved": (_, response) => response.writeHead(302, { Location: "/disk" }).end(),
  "/away": async (_, response) => {
    const target = `${await other.listening}/headers`;
    response.writeHead(307, { Location: target }).end();
  },
  "/slow": () => {}, // never answered
  "/port": (request, response) => response.end(String(request.socket.remotePort)),
});

let base = "";
beforeAll(async () => {
  base = await web.listening;
  await other.listening;
});
afterAll(async () => {
  web.dropIdle();
  other.dropIdle();
  await Promise.all([web.close(), other.close()]);
});

const transports: [string, () => HttpTransport][] = [
  ["socket (Node)", () => socketTransport(connectSocket)],
  ["fetch", () => fetchTransport()],
];

function get(path: string, extra: Partial<HttpRequest> = {}): HttpRequest {
  return { method: "GET", url: `${base}${path}`, headers: [], follow: true, timeout: 0, ...extra };
}

describe.each(transports)("HTTP transport over %s", (_, make) => {
  test("a ranged GET fills the lent buffer, 4 KiB and 2 MiB alike", async () => {
    const transport = make();
    for (const [offset, length] of [[4096, 4096], [12345, 2 * 1024 * 1024]]) {
      const into = new Uint8Array(length);
      const answer = await transport.send(
        get("/disk", { headers: [["Range", `bytes=${offset}-${offset + length - 1}`]], into }),
      );
      expect(answer).toMatchObject({ status: 206, filled: length, text: "" });
      expect(answer.headers.get("content-range")).toBe(
        `bytes ${offset}-${offset + length - 1}/${DATA.length}`,
      );
      expect(Buffer.compare(into, DATA.subarray(offset, offset + length))).toBe(0);
    }
    transport.close();
  });

  test("a body longer than the buffer fills it, and the next request still works", async () => {
    const transport = make();
    const into = new Uint8Array(100);
    expect(await transport.send(get("/whole", { into }))).toMatchObject({
      status: 200,
      filled: 100,
    });
    expect(into).toEqual(DATA.subarray(0, 100));
    const next = new Uint8Array(8);
    await transport.send(get("/disk", { headers: [["Range", "bytes=8-15"]], into: next }));
    expect(next).toEqual(DATA.subarray(8, 16));
    transport.close();
  });

  test("a PUT sends its body; an error answer's chunked body comes as text", async () => {
    const transport = make();
    const put = await transport.send(
      get("/put", { method: "PUT", body: new Uint8Array(70_000) }),
    );
    expect(put.status).toBe(201);
    expect(put.headers.get("x-got")).toBe("PUT 70000");
    const refused = await transport.send(get("/chunked-error", { into: new Uint8Array(10) }));
    expect(refused).toMatchObject({
      status: 403,
      filled: 0,
      text: "<Error><Code>AccessDenied</Code></Error>",
    });
    transport.close();
  });

  test("redirects are followed, or given back when not to be followed", async () => {
    const transport = make();
    const into = new Uint8Array(4);
    const followed = await transport.send(
      get("/moved", { headers: [["Range", "bytes=0-3"]], into }),
    );
    expect(followed).toMatchObject({ status: 206, url: `${base}/disk` });
    expect(into).toEqual(DATA.subarray(0, 4));
    const kept = await transport.send(get("/moved", { follow: false }));
    expect(kept.status).toBe(302);
    expect(kept.headers.get("location")).toBe("/disk");
    transport.close();
  });

  test("a redirect to another server keeps the credentials from it", async () => {
    const transport = make();
    seenHeaders.length = 0;
    const answer = await transport.send(
      get("/away", { headers: [["Authorization", "Basic c2VjcmV0"], ["X-A", "kept"]] }),
    );
    expect(answer).toMatchObject({ status: 200, text: "elsewhere" });
    expect(seenHeaders).toEqual([{ authorization: undefined, x: "kept" }]);
    transport.close();
  });

  test("a server that never answers fails the request with a TimeoutError", async () => {
    const transport = make();
    const started = Date.now();
    await expect(transport.send(get("/slow", { timeout: 0.3 }))).rejects.toMatchObject({
      name: "TimeoutError",
    });
    expect(Date.now() - started).toBeLessThan(5000);
    transport.close();
  });

  test("a refused connection fails the request", async () => {
    const transport = make();
    const closed = startServer({});
    const url = await closed.listening;
    await closed.close();
    await expect(transport.send({ ...get("/"), url: `${url}/` })).rejects.toThrow();
    transport.close();
  });
});

describe("HTTP transport over the runtime's connections", () => {
  test("keeps its connection alive: 50 requests one after another, one connection", async () => {
    const transport = socketTransport(connectSocket);
    const ports = new Set<string>();
    for (let i = 0; i < 50; i++) {
      ports.add((await transport.send(get("/port"))).text);
    }
    expect(ports.size).toBe(1);
    transport.close();
  });

  test("a kept connection the server closed meanwhile is replaced, the request not failed", async () => {
    const transport = socketTransport(connectSocket);
    const into = new Uint8Array(16);
    await transport.send(get("/disk", { headers: [["Range", "bytes=0-15"]], into }));
    web.dropIdle();
    const answer = await transport.send(
      get("/disk", { headers: [["Range", "bytes=16-31"]], into }),
    );
    expect(answer.status).toBe(206);
    expect(into).toEqual(DATA.subarray(16, 32));
    transport.close();
  });
});
