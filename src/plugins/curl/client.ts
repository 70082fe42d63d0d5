/**
 * The curl plugin's requests: every one goes to the same URL through the runtime's fetch, with
 * the configured headers, cookie, credentials and deadline, at most connections= at once. The
 * URL's user:password@ part becomes Basic credentials, as libcurl sends them, since fetch
 * refuses URLs that carry them.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import type { PluginHost } from "../../io.ts";
import { createLimiter } from "../lib/limiter.ts";
import type { CurlConfig } from "./config.ts";
import { type ScriptOutput, scriptOutput } from "./scripts.ts";

export interface HttpClient {
  /** The URL requested, without credentials. */
  readonly url: string;
  /**
   * Sends one request and gives its response, whatever its status, to `use`, holding one of the
   * connections= slots until `use` has read the body. Fails with EIO naming `what` when no
   * response came (refused, reset, timed out).
   */
  request<T>(what: string, init: Request, use: (response: Response) => Promise<T>): Promise<T>;
}

/** What a request is made of: the method, its own headers, and a body for PUT. */
export interface Request {
  readonly method: "HEAD" | "GET" | "PUT";
  readonly headers?: HeadersInit;
  readonly body?: Uint8Array<ArrayBuffer>;
}

/** Base64 of UTF-8 text (btoa takes Latin-1 only). */
function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Why fetch failed, with the system's reason when the runtime gives one as the cause. */
export function failureOf(error: unknown, timeout: number): string {
  if (error instanceof Error && error.name === "TimeoutError") {
    return `Timeout was reached: no answer within ${timeout} s`;
  }
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause === undefined ? messageOf(error) : `${messageOf(error)}: ${messageOf(cause)}`;
}

export function createHttpClient(config: CurlConfig, host: PluginHost | undefined): HttpClient {
  const parsed = new URL(config.url!);
  let user = config.user;
  let password = config.password;
  if (parsed.username !== "" || parsed.password !== "") {
    user ??= decodeURIComponent(parsed.username);
    password ??= decodeURIComponent(parsed.password);
    parsed.username = "";
    parsed.password = "";
  }
  const url = parsed.href;
  const fixed = new Headers();
  for (const header of config.headers) if (!header.remove) fixed.append(header.name, header.value);
  if (config.cookie !== undefined) fixed.set("Cookie", config.cookie);
  if (config.userAgent !== undefined) fixed.set("User-Agent", config.userAgent);
  if (user !== undefined) {
    fixed.set("Authorization", `Basic ${base64(`${user}:${password ?? ""}`)}`);
  }
  const headerScript: ScriptOutput | undefined = config.headerScript === undefined
    ? undefined
    : scriptOutput("header-script", config.headerScript, config.headerScriptRenew, url, host);
  const cookieScript: ScriptOutput | undefined = config.cookieScript === undefined
    ? undefined
    : scriptOutput("cookie-script", config.cookieScript, config.cookieScriptRenew, url, host);
  const limiter = createLimiter(config.connections);

  async function headersFor(extra: HeadersInit): Promise<Headers> {
    const headers = new Headers(fixed);
    for (const line of (await headerScript?.lines()) ?? []) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const cookie = (await cookieScript?.lines())?.[0];
    if (cookie !== undefined) headers.set("Cookie", cookie);
    new Headers(extra).forEach((value, name) => headers.set(name, value));
    return headers;
  }

  return {
    url,
    request(what, init, use) {
      return limiter.run(async () => {
        const headers = await headersFor(init.headers ?? {});
        try {
          const response = await fetch(url, {
            method: init.method,
            headers,
            body: init.body,
            redirect: config.followLocation ? "follow" : "manual",
            signal: config.timeout > 0 ? AbortSignal.timeout(config.timeout * 1000) : undefined,
          });
          return await use(response);
        } catch (error) {
          if (error instanceof NbdError) throw error;
          throw new NbdError(ERRNO.EIO, `${what}: ${failureOf(error, config.timeout)}`);
        }
      });
    },
  };
}
