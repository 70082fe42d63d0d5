/**
 * A small web server holding one disk image in memory, for the curl plugin's tests: HEAD gives
 * its size, GET with `Range: bytes=A-B` gives 206 and those bytes, and, when writable, PUT with
 * `Content-Range: bytes A-B/…` stores the body at A. It can refuse ranges (no Accept-Ranges, 200
 * with the whole file, as many servers do), redirect, stall, and it records every request.
 * Over HTTP, or HTTPS with a certificate the test gives. Stopped when the test that started it
 * finishes.
 */

import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";

export interface HttpDiskOptions {
  /** Serve byte ranges (default true); false ignores Range and sends no Accept-Ranges. */
  readonly ranges?: boolean;
  /** Take PUTs with a Content-Range (default false: 405 Method Not Allowed). */
  readonly writable?: boolean;
  /** The path the disk is at (default /disk.img); /redirect answers 302 to it. */
  readonly path?: string;
  /** Answer only requests carrying this header value pair, 401 otherwise. */
  readonly require?: { readonly name: string; readonly value: string };
  /** Hold GETs that start at or past this offset unanswered (a server that stalls). */
  readonly stallFrom?: number;
  /** Answer each ranged GET this many milliseconds late (requests pile up meanwhile). */
  readonly delayMs?: number;
  /** Serve HTTPS with this certificate and key (PEM), on `https://localhost:PORT`. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyLength: number;
}

export interface HttpDiskServer {
  /** `http://127.0.0.1:PORT/disk.img`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** The disk; PUTs change it in place. */
  readonly data: Uint8Array;
  readonly requests: SeenRequest[];
  /** The most requests the server held at once (arrived, not yet answered). */
  peakInFlight(): number;
  close(): Promise<void>;
}

export async function startHttpDisk(
  data: Uint8Array,
  options: HttpDiskOptions = {},
): Promise<HttpDiskServer> {
  const path = options.path ?? "/disk.img";
  const ranges = options.ranges ?? true;
  const requests: SeenRequest[] = [];
  let inFlight = 0;
  let peak = 0;
  const serve = (request: IncomingMessage, response: ServerResponse) => {
    peak = Math.max(peak, ++inFlight);
    response.on("close", () => inFlight--);
    const body: Buffer[] = [];
    request.on("data", (chunk: Buffer) => body.push(chunk));
    request.on("end", () => {
      const payload = Buffer.concat(body);
      const method = request.method ?? "";
      requests.push({
        method,
        url: request.url ?? "",
        headers: request.headers,
        bodyLength: payload.length,
      });
      if (request.url === "/redirect") {
        response.writeHead(302, { Location: path, "Content-Length": 0 }).end();
        return;
      }
      if (request.url !== path) return void response.writeHead(404).end();
      const required = options.require;
      if (required && request.headers[required.name.toLowerCase()] !== required.value) {
        return void response.writeHead(401, { "Content-Length": 0 }).end();
      }
      const common = ranges ? { "Accept-Ranges": "bytes" } : {};
      const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? "");
      if (method === "HEAD") {
        return void response.writeHead(200, { ...common, "Content-Length": data.length }).end();
      }
      const sendRange = (start: number, end: number) => {
        response.writeHead(206, {
          ...common,
          "Content-Range": `bytes ${start}-${end}/${data.length}`,
          "Content-Length": end - start + 1,
        });
        response.end(data.subarray(start, end + 1));
      };
      if (method === "GET" && ranges && range) {
        const start = Number(range[1]);
        const end = Math.min(range[2] === "" ? Infinity : Number(range[2]), data.length - 1);
        if (start >= data.length) {
          const headers = { "Content-Range": `bytes */${data.length}`, "Content-Length": 0 };
          return void response.writeHead(416, headers).end();
        }
        if (options.stallFrom !== undefined && start >= options.stallFrom) return; // never answered
        if (options.delayMs) return void setTimeout(() => sendRange(start, end), options.delayMs);
        return void sendRange(start, end);
      }
      if (method === "GET") {
        return void response.writeHead(200, { ...common, "Content-Length": data.length }).end(data);
      }
      const target = /^bytes (\d+)-\d+\/(\*|-?\d+)$/.exec(request.headers["content-range"] ?? "");
      if (method === "PUT" && options.writable && target) {
        // Only the start is trusted: nbdkit 1.32.5's curl plugin sends an end one byte too far.
        const start = Number(target[1]);
        if (start + payload.length > data.length) return void response.writeHead(416).end();
        data.set(payload, start);
        return void response.writeHead(204).end();
      }
      response.writeHead(405, { Allow: "GET, HEAD", "Content-Length": 0 }).end();
    });
  };
  const server = options.tls ? createTlsServer(options.tls, serve) : createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  onTestFinished(close);
  return { url: `${origin}${path}`, origin, data, requests, peakInFlight: () => peak, close };
}
