/**
 * PluginHost.serveHttp for a fetch-style server (Deno.serve, Bun.serve): each Request handed to
 * the HttpHandler, and its answer made a Response. Runtime-neutral; Node's side shares pathOf.
 */

import type { HttpHandler } from "../io.ts";

/** The fetch handler that answers every request with `handler`. */
export function fetchHandler(handler: HttpHandler): (request: Request) => Response {
  return (request) => {
    const answer = handler({
      method: request.method,
      path: pathOf(request.url),
      header: (name) => request.headers.get(name) ?? undefined,
    });
    const body = request.method === "HEAD" ? null : answer.body;
    return new Response(body, { status: answer.status, headers: answer.headers });
  };
}

/**
 * The path of a request target, its query left out: an origin-form "/metrics?x" or an
 * absolute-form "http://host/metrics" alike; "" when it is no URL at all.
 */
export function pathOf(target: string): string {
  try {
    return new URL(target, "http://localhost").pathname;
  } catch {
    return "";
  }
}
