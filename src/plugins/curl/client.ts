/**
 * The curl plugin's requests: every one goes to the same URL with the configured headers,
 * cookie, credentials and deadline, at most connections= at once, over the runtime's own
 * connections or its fetch (lib/http/choose-transport.ts). The URL's user:password@ part
 * becomes Basic credentials, as libcurl sends them.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import type { PluginHost } from "../../io.ts";
import { chooseTransport } from "../lib/http/choose-transport.ts";
import type { HttpAnswer } from "../lib/http/transport.ts";
import { createLimiter } from "../lib/limiter.ts";
import type { CurlConfig } from "./config.ts";
import { type ScriptOutput, scriptOutput } from "./scripts.ts";

export interface HttpClient {
  /** The URL requested, without credentials. */
  readonly url: string;
  /**
   * Sends one request, holding one of the connections= slots, and gives its answer, whatever
   * its status. Fails with EIO naming `what` when no answer came (refused, reset, timed out).
   */
  request(what: string, init: Request): Promise<HttpAnswer>;
  /** Closes idle connections. */
  close(): void;
}

/** What a request is made of: the method, its own headers, a body for PUT, a buffer for GET. */
export interface Request {
  readonly method: "HEAD" | "GET" | "PUT";
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array<ArrayBuffer>;
  /** Where a 2xx answer's body goes. */
  readonly into?: Uint8Array;
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
  const transport = chooseTransport(host);
  /** The fixed headers as pairs, names in lower case, for requests without scripts. */
  const fixedPairs: [string, string][] = [...fixed];

  async function headersFor(extra: Record<string, string>): Promise<[string, string][]> {
    const own = Object.entries(extra);
    if (!headerScript && !cookieScript) {
      if (fixedPairs.length === 0) return own;
      const mine = new Set(own.map(([name]) => name.toLowerCase()));
      return [...fixedPairs.filter(([name]) => !mine.has(name)), ...own];
    }
    const headers = new Headers(fixed);
    for (const line of (await headerScript?.lines()) ?? []) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const cookie = (await cookieScript?.lines())?.[0];
    if (cookie !== undefined) headers.set("Cookie", cookie);
    for (const [name, value] of own) headers.set(name, value);
    return [...headers];
  }

  return {
    url,
    request(what, init) {
      return limiter.run(async () => {
        const headers = await headersFor(init.headers ?? {});
        try {
          return await transport.send({
            method: init.method,
            url,
            headers,
            body: init.body,
            into: init.into,
            follow: config.followLocation,
            timeout: config.timeout,
          });
        } catch (error) {
          if (error instanceof NbdError) throw error;
          throw new NbdError(ERRNO.EIO, `${what}: ${failureOf(error, config.timeout)}`);
        }
      });
    },
    close: () => transport.close(),
  };
}
