/**
 * The HttpTransport over connections the runtime opens itself (PluginHost.connect): HTTP/1.1
 * with keep-alive, idle connections kept per server and reused, redirects followed as fetch
 * follows them, and a timeout that drops the connection. Against a local web server it costs a
 * tenth of the CPU fetch costs per request on Node, a quarter on Deno, half on Bun (the curl
 * plugin's bench rows).
 */

import type { Connect, ConnectTarget } from "../../../io.ts";
import { type Answer, HttpConnection } from "./connection.ts";
import {
  type HttpAnswer,
  type HttpRequest,
  type HttpTransport,
  isRedirect,
  MAX_REDIRECTS,
  timeoutError,
} from "./transport.ts";

/** Idle connections kept per server; more are closed when they finish. */
const MAX_IDLE = 64;

const encoder = new TextEncoder();

/** The request line and headers: Host first, Content-Length for a body. */
function requestHead(request: HttpRequest, url: URL, method: string, withBody: boolean) {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (lower === "host" || lower === "content-length") continue;
    head += `${name}: ${value}\r\n`;
  }
  if (withBody) head += `Content-Length: ${request.body?.length ?? 0}\r\n`;
  return encoder.encode(`${head}\r\n`);
}

/** A redirect's request: what fetch sends to the new place. */
function redirected(request: HttpRequest, status: number, from: URL, to: URL): HttpRequest {
  // 303 turns anything but HEAD into a bodiless GET; fetch does the same for POST on 301/302.
  const asGet = status === 303 && request.method !== "HEAD";
  // Credentials stay with the server they were meant for.
  const sameOrigin = from.origin === to.origin;
  const headers = [...request.headers].filter(([name]) =>
    sameOrigin || !/^(authorization|cookie)$/i.test(name)
  );
  return {
    ...request,
    url: to.href,
    headers,
    method: asGet ? "GET" : request.method,
    body: asGet ? undefined : request.body,
  };
}

export function socketTransport(connect: Connect): HttpTransport {
  const idle = new Map<string, HttpConnection[]>();

  /** One exchange on a kept connection, or on a new one. */
  async function exchange(request: HttpRequest, url: URL, deadline: Deadline): Promise<Answer> {
    const tls = url.protocol === "https:";
    const target: ConnectTarget = {
      kind: "tcp",
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port === "" ? (tls ? 443 : 80) : Number(url.port),
      tls: tls ? "now" : undefined,
    };
    const key = `${tls}:${target.host}:${target.port}`;
    const withBody = request.method === "PUT" || request.body !== undefined;
    const head = requestHead(request, url, request.method, withBody);
    for (let attempt = 0;; attempt++) {
      const kept = idle.get(key);
      let connection = kept?.pop();
      while (connection && !connection.reusable) connection = kept?.pop();
      const reused = connection !== undefined;
      if (!connection) {
        const opening = HttpConnection.open(connect, target);
        // One that connects after the time ran out is of no use.
        opening.then((late) => deadline.expired && late.close(), () => {});
        connection = await deadline.race(opening);
      }
      const stop = deadline.onExpiry((error) => connection.close(error));
      try {
        const answer = await connection.send({
          head,
          body: request.body,
          isHead: request.method === "HEAD",
          into: request.into,
        });
        if (connection.reusable) {
          const list = idle.get(key) ?? [];
          if (list.length < MAX_IDLE) {
            list.push(connection);
            idle.set(key, list);
          } else connection.close();
        }
        return answer;
      } catch (error) {
        connection.close();
        // A kept connection the server had already closed fails before any answer: every
        // request the plugins send is idempotent, so it goes once more on a new connection.
        if (reused && !connection.answered && !deadline.expired && attempt === 0) continue;
        throw error;
      } finally {
        stop();
      }
    }
  }

  return {
    async send(original) {
      const deadline = new Deadline(original.timeout);
      try {
        let request = original;
        let url = new URL(request.url);
        for (let hops = 0;; hops++) {
          const answer = await exchange(request, url, deadline);
          const location = answer.headers.get("location");
          if (!request.follow || !isRedirect(answer.status) || location === undefined) {
            return { ...answer, url: url.href } satisfies HttpAnswer;
          }
          if (hops === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
          const next = new URL(location, url);
          if (next.protocol !== "http:" && next.protocol !== "https:") {
            throw new Error(`redirect to ${next.protocol} URL ${next.href}`);
          }
          request = redirected(request, answer.status, url, next);
          url = next;
        }
      } finally {
        deadline.clear();
      }
    },
    close() {
      for (const list of idle.values()) for (const connection of list) connection.close();
      idle.clear();
    },
  };
}

/** A request's time limit: one timer for all its connections, redirects and retries. */
class Deadline {
  expired = false;
  readonly #seconds: number;
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  #listeners = new Set<(error: Error) => void>();

  constructor(seconds: number) {
    this.#seconds = seconds;
    if (seconds > 0) this.#timer = setTimeout(() => this.#expire(), seconds * 1000);
  }

  /** Calls `expire` if the time runs out before the returned function is called. */
  onExpiry(expire: (error: Error) => void): () => void {
    if (this.expired) expire(timeoutError(this.#seconds));
    this.#listeners.add(expire);
    return () => this.#listeners.delete(expire);
  }

  /** `promise`, or a TimeoutError once the time runs out. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#timer === undefined) return promise;
    return new Promise<T>((resolve, reject) => {
      const stop = this.onExpiry(reject);
      promise.then(resolve, reject).finally(stop);
    });
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #expire(): void {
    this.expired = true;
    for (const listener of this.#listeners) listener(timeoutError(this.#seconds));
  }
}
