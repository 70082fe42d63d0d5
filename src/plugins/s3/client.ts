/**
 * The S3 calls the s3 plugin makes, signed with Signature V4 by aws4fetch (WebCrypto only, so
 * it runs on Node, Deno, Bun and at the edge) and sent over an HttpTransport (the runtime's own
 * connections, or fetch at the edge): ranged GETs into the server's buffer, PUT, DELETE, HEAD
 * and ListObjectsV2. Path-style URLs (`ENDPOINT/BUCKET/KEY`), which AWS, Ceph's RADOS Gateway
 * and MinIO all take. Every request goes through one limiter (connections=) and, with
 * timeout=, gives up after that long.
 */

import { AwsV4Signer } from "aws4fetch";
import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import type { HttpAnswer, HttpTransport } from "../lib/http/transport.ts";
import type { Limiter } from "../lib/limiter.ts";

export interface S3Settings {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Seconds a request may take; 0 for no limit. */
  readonly timeout: number;
}

/** One key of a listing, with its size. */
export interface Listed {
  readonly key: string;
  readonly size: number;
}

/** What ListObjectsV2 gave: the keys in order, and where the next page starts. */
export interface Listing {
  readonly keys: Listed[];
  readonly next?: string;
}

/** An S3 error answer: its status and the `<Code>` of its XML body. */
export class S3Error extends NbdError {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, what: string) {
    super(ERRNO.EIO, `${what}: ${status} ${code}`);
    this.status = status;
    this.code = code;
  }
}

function decodeXml(text: string): string {
  return text.replace(
    /&(lt|gt|amp|quot|apos);/g,
    (_, name: string) => ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" })[name]!,
  );
}

/** The text of every `<tag>…</tag>` in order. */
function tags(xml: string, tag: string): string[] {
  const found: string[] = [];
  for (const match of xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))) {
    found.push(decodeXml(match[1]));
  }
  return found;
}

/** A key's path in a URL: each segment escaped, the slashes kept. */
function keyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

export class S3Client {
  readonly #base: string;
  readonly #transport: HttpTransport;
  /** aws4fetch's signing keys, one per day and region: made once, not per request. */
  readonly #keys = new Map();

  readonly settings: S3Settings;
  readonly limiter: Limiter;

  constructor(settings: S3Settings, limiter: Limiter, transport: HttpTransport) {
    this.settings = settings;
    this.limiter = limiter;
    this.#transport = transport;
    this.#base = `${settings.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(settings.bucket)}`;
  }

  /** Closes idle connections to the store. */
  close(): void {
    this.#transport.close();
  }

  /**
   * Signs and sends one request while holding a connection slot, and gives its answer. A
   * failure to get any answer is EIO naming `what`.
   */
  #send(
    what: string,
    url: string,
    init: {
      method: "GET" | "HEAD" | "PUT" | "DELETE";
      headers?: Record<string, string>;
      body?: Uint8Array<ArrayBuffer>;
      into?: Uint8Array;
    },
  ): Promise<HttpAnswer> {
    return this.limiter.run(async () => {
      const { timeout, accessKeyId, secretAccessKey, sessionToken, region } = this.settings;
      try {
        const signed = await new AwsV4Signer({
          url,
          method: init.method,
          headers: init.headers,
          accessKeyId,
          secretAccessKey,
          sessionToken,
          service: "s3",
          region,
          cache: this.#keys,
        }).sign();
        return await this.#transport.send({
          method: init.method,
          url,
          headers: signed.headers,
          body: init.body,
          into: init.into,
          follow: true,
          timeout,
        });
      } catch (error) {
        if (error instanceof NbdError) throw error;
        const cause = (error as { cause?: unknown }).cause;
        const why = error instanceof Error && error.name === "TimeoutError"
          ? `no answer within ${timeout} s`
          : cause === undefined
          ? messageOf(error)
          : `${messageOf(error)}: ${messageOf(cause)}`;
        throw new NbdError(ERRNO.EIO, `${what}: ${why}`);
      }
    });
  }

  /** An error answer as an S3Error: the `<Code>` of its XML body, else its reason phrase. */
  #failure(response: HttpAnswer, what: string): S3Error {
    const code = tags(response.text, "Code")[0] ?? (response.reason || `HTTP ${response.status}`);
    return new S3Error(response.status, code, what);
  }

  /**
   * Fills `buf` from `key` at `offset` (a ranged GET); false when the object does not exist.
   * An object shorter than the range is EIO.
   */
  async readRange(key: string, offset: number, buf: Uint8Array): Promise<boolean> {
    const range = `bytes=${offset}-${offset + buf.length - 1}`;
    const what = `GET ${key} ${range}`;
    const response = await this.#send(what, `${this.#base}/${keyPath(key)}`, {
      method: "GET",
      headers: { Range: range },
      into: buf,
    });
    if (response.status === 404) return false;
    if (response.status !== 206 && response.status !== 200) throw this.#failure(response, what);
    if (response.status === 200 && offset !== 0) {
      throw new NbdError(ERRNO.EIO, `${what}: the store ignored the range`);
    }
    if (response.filled < buf.length) {
      throw new NbdError(
        ERRNO.EIO,
        `${what}: the object ended after ${offset + response.filled} bytes`,
      );
    }
    return true;
  }

  /** The size of `key`, or undefined when it does not exist (HEAD). */
  async size(key: string): Promise<number | undefined> {
    const what = `HEAD ${key}`;
    const response = await this.#send(what, `${this.#base}/${keyPath(key)}`, { method: "HEAD" });
    if (response.status === 404) return undefined;
    if (response.status < 200 || response.status >= 300) throw this.#failure(response, what);
    return Number(response.headers.get("content-length") ?? "0");
  }

  /** Stores `body` as `key`; resolves once the store has acknowledged it. */
  async put(key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
    const what = `PUT ${key}`;
    const url = `${this.#base}/${keyPath(key)}`;
    const response = await this.#send(what, url, { method: "PUT", body });
    if (response.status < 200 || response.status >= 300) throw this.#failure(response, what);
  }

  /** Deletes `key` (a missing key is no error, as in S3). */
  async delete(key: string): Promise<void> {
    const what = `DELETE ${key}`;
    const url = `${this.#base}/${keyPath(key)}`;
    const response = await this.#send(what, url, { method: "DELETE" });
    const ok = (response.status >= 200 && response.status < 300) || response.status === 404;
    if (!ok) throw this.#failure(response, what);
  }

  /** One page (up to `max` keys) of the keys under `prefix` after `startAfter`, in order. */
  async list(
    prefix: string,
    startAfter: string | undefined,
    max: number,
    token?: string,
  ): Promise<Listing> {
    const query = new URLSearchParams({ "list-type": "2", prefix, "max-keys": String(max) });
    if (startAfter !== undefined) query.set("start-after", startAfter);
    if (token !== undefined) query.set("continuation-token", token);
    const what = `LIST ${prefix}`;
    const response = await this.#send(what, `${this.#base}?${query}`, { method: "GET" });
    if (response.status < 200 || response.status >= 300) throw this.#failure(response, what);
    const xml = response.text;
    const keys = tags(xml, "Contents").map((entry) => ({
      key: tags(entry, "Key")[0] ?? "",
      size: Number(tags(entry, "Size")[0] ?? "0"),
    }));
    const truncated = tags(xml, "IsTruncated")[0] === "true";
    return { keys, next: truncated ? tags(xml, "NextContinuationToken")[0] : undefined };
  }
}
