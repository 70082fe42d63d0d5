/**
 * PluginHost.serveHttp on node:http (Node; Deno and Bun have their own servers): each request
 * answered by the HttpHandler at once, its body never read. node.ts imports this file only
 * when a filter serves HTTP, so a server without one never loads node:http.
 */

import { createServer } from "node:http";
import type { HttpAddress, HttpHandler, Listener } from "../io.ts";
import { pathOf } from "./fetch-http.ts";
import { listening } from "./node-listening.ts";

export async function serveHttp(address: HttpAddress, handler: HttpHandler): Promise<Listener> {
  const server = createServer((request, response) => {
    const answer = handler({
      method: request.method ?? "GET",
      path: pathOf(request.url ?? ""),
      header(name) {
        const value = request.headers[name];
        return Array.isArray(value) ? value.join(", ") : value;
      },
    });
    response.writeHead(answer.status, answer.headers);
    response.end(request.method === "HEAD" ? undefined : answer.body);
  });
  const listener = await listening(server, address);
  return {
    ...listener,
    close() {
      const closed = listener.close(); // removes a Unix socket too
      server.closeAllConnections(); // keep-alive connections would hold it open
      return closed;
    },
  };
}
