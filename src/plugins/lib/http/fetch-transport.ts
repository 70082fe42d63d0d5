/**
 * The HttpTransport over the runtime's fetch: what plugins use at the edge, where no socket can
 * be opened, and wherever the environment names a proxy (fetch takes it from there). A 2xx body
 * is copied chunk by chunk into the lent buffer.
 */

import { discardBody, readBodyInto } from "../read-body.ts";
import type { HttpAnswer, HttpRequest, HttpTransport } from "./transport.ts";

function headerMap(headers: Headers): Map<string, string> {
  const map = new Map<string, string>();
  headers.forEach((value, name) => map.set(name, value));
  return map;
}

export function fetchTransport(): HttpTransport {
  return {
    async send(request: HttpRequest): Promise<HttpAnswer> {
      const response = await fetch(request.url, {
        method: request.method,
        headers: new Headers([...request.headers] as [string, string][]),
        // A copy: fetch may read the body after the answer came, when the caller reuses it.
        body: request.body?.slice(),
        redirect: request.follow ? "follow" : "manual",
        signal: request.timeout > 0 ? AbortSignal.timeout(request.timeout * 1000) : undefined,
      });
      const ok = response.status >= 200 && response.status < 300;
      let filled = 0;
      let text = "";
      if (ok && request.into) filled = await readBodyInto(response, request.into);
      else if (request.method === "HEAD") await discardBody(response);
      else text = await response.text();
      return {
        status: response.status,
        reason: response.statusText,
        url: response.url || request.url,
        headers: headerMap(response.headers),
        filled,
        text,
      };
    },
    close() {},
  };
}
