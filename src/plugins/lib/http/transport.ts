/**
 * How the plugins whose disk is on a web server (curl, S3) send a request: the same call over
 * the runtime's own sockets (socket-transport.ts, where the runtime offers PluginHost.connect)
 * or over fetch (fetch-transport.ts: at the edge, and where a proxy is set). Either puts a
 * successful answer's body straight into a buffer the caller lends.
 */

/** One request. */
export interface HttpRequest {
  readonly method: "GET" | "HEAD" | "PUT" | "DELETE";
  /** Absolute http: or https: URL, without credentials. */
  readonly url: string;
  /** Name and value pairs (a Headers object is one). */
  readonly headers: Iterable<readonly [string, string]>;
  readonly body?: Uint8Array<ArrayBuffer>;
  /** Where a 2xx answer's body goes, up to its length (the rest of a longer body is dropped). */
  readonly into?: Uint8Array;
  /** Follow redirects (3xx with a Location), as fetch's "follow"; else the 3xx is the answer. */
  readonly follow: boolean;
  /** Seconds the whole exchange may take; 0 for no limit. */
  readonly timeout: number;
}

/** The answer, whatever its status. */
export interface HttpAnswer {
  readonly status: number;
  /** The reason phrase ("Forbidden"); may be empty. */
  readonly reason: string;
  /** The URL that answered (after redirects). */
  readonly url: string;
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>;
  /** Bytes of a 2xx body put into `into`. */
  readonly filled: number;
  /** The body of any other answer, or of a 2xx one without `into`, as text. */
  readonly text: string;
}

export interface HttpTransport {
  /**
   * Sends the request and reads its answer. Rejects when no answer came (refused, reset,
   * unknown host), with an Error named "TimeoutError" when `timeout` passed first.
   */
  send(request: HttpRequest): Promise<HttpAnswer>;
  /** Closes idle connections. */
  close(): void;
}

/** The error a request that outlived its timeout fails with, named as AbortSignal.timeout's. */
export function timeoutError(seconds: number): Error {
  const error = new Error(`no answer within ${seconds} s`);
  error.name = "TimeoutError";
  return error;
}

/** Statuses that send a request elsewhere (RFC 9110 §15.4), as fetch follows them. */
export function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** The most redirects followed for one request, as fetch's limit. */
export const MAX_REDIRECTS = 20;
