/**
 * The S3 calls the s3 plugin makes, over the runtime's fetch with Signature V4 from aws4fetch
 * (WebCrypto and fetch only, so it runs on Node, Deno, Bun and at the edge): ranged and whole
 * GETs, PUT, DELETE, ListObjectsV2 and a bucket check. Path-style URLs
 * (`ENDPOINT/BUCKET/KEY`), which AWS, Ceph's RADOS Gateway and MinIO all take. Every request
 * goes through one limiter (connections=) and, with timeout=, gives up after that long.
 */

import { AwsClient } from "aws4fetch";
import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import type { Limiter } from "../lib/limiter.ts";
import { discardBody, readBodyInto } from "../lib/read-body.ts";

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
  readonly #aws: AwsClient;
  readonly #base: string;

  readonly settings: S3Settings;
  readonly limiter: Limiter;

  constructor(settings: S3Settings, limiter: Limiter) {
    this.settings = settings;
    this.limiter = limiter;
    this.#aws = new AwsClient({
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      sessionToken: settings.sessionToken,
      service: "s3",
      region: settings.region,
      retries: 0,
    });
    this.#base = `${settings.endpoint.replace(/\/+$/, "")}/${encodeURIComponent(settings.bucket)}`;
  }

  /**
   * Signs and sends one request, handing the response to `use` while holding a connection
   * slot. A failure to get any answer is EIO naming `what`.
   */
  #send<T>(
    what: string,
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: Uint8Array<ArrayBuffer> },
    use: (response: Response) => Promise<T>,
  ): Promise<T> {
    return this.limiter.run(async () => {
      const timeout = this.settings.timeout;
      try {
        const request = await this.#aws.sign(url, init);
        const signal = timeout > 0 ? AbortSignal.timeout(timeout * 1000) : undefined;
        return await use(await fetch(request, { signal }));
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

  /** Reads an error answer's body into an S3Error. */
  async #failure(response: Response, what: string): Promise<S3Error> {
    const text = response.body ? await response.text().catch(() => "") : "";
    const code = tags(text, "Code")[0] ?? response.statusText;
    return new S3Error(response.status, code, what);
  }

  /**
   * Fills `buf` from `key` at `offset` (a ranged GET); false when the object does not exist.
   * An object shorter than the range is EIO.
   */
  readRange(key: string, offset: number, buf: Uint8Array): Promise<boolean> {
    const range = `bytes=${offset}-${offset + buf.length - 1}`;
    const what = `GET ${key} ${range}`;
    const headers = { Range: range };
    return this.#send(
      what,
      `${this.#base}/${keyPath(key)}`,
      { method: "GET", headers },
      async (response) => {
        if (response.status === 404) {
          await discardBody(response);
          return false;
        }
        if (response.status !== 206 && response.status !== 200) {
          throw await this.#failure(response, what);
        }
        if (response.status === 200 && offset !== 0) {
          await discardBody(response);
          throw new NbdError(ERRNO.EIO, `${what}: the store ignored the range`);
        }
        const got = await readBodyInto(response, buf);
        if (got < buf.length) {
          throw new NbdError(ERRNO.EIO, `${what}: the object ended after ${offset + got} bytes`);
        }
        return true;
      },
    );
  }

  /** The size of `key`, or undefined when it does not exist (HEAD). */
  size(key: string): Promise<number | undefined> {
    const what = `HEAD ${key}`;
    return this.#send(
      what,
      `${this.#base}/${keyPath(key)}`,
      { method: "HEAD" },
      async (response) => {
        await discardBody(response);
        if (response.status === 404) return undefined;
        if (!response.ok) throw new S3Error(response.status, response.statusText, what);
        return Number(response.headers.get("content-length") ?? "0");
      },
    );
  }

  /** Stores `body` as `key`; resolves once the store has acknowledged it. */
  put(key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
    const what = `PUT ${key}`;
    return this.#send(
      what,
      `${this.#base}/${keyPath(key)}`,
      { method: "PUT", body },
      async (response) => {
        if (!response.ok) throw await this.#failure(response, what);
        await discardBody(response);
      },
    );
  }

  /** Deletes `key` (a missing key is no error, as in S3). */
  delete(key: string): Promise<void> {
    const what = `DELETE ${key}`;
    return this.#send(
      what,
      `${this.#base}/${keyPath(key)}`,
      { method: "DELETE" },
      async (response) => {
        if (!response.ok && response.status !== 404) throw await this.#failure(response, what);
        await discardBody(response);
      },
    );
  }

  /** One page (up to `max` keys) of the keys under `prefix` after `startAfter`, in order. */
  list(
    prefix: string,
    startAfter: string | undefined,
    max: number,
    token?: string,
  ): Promise<Listing> {
    const query = new URLSearchParams({ "list-type": "2", prefix, "max-keys": String(max) });
    if (startAfter !== undefined) query.set("start-after", startAfter);
    if (token !== undefined) query.set("continuation-token", token);
    const what = `LIST ${prefix}`;
    return this.#send(what, `${this.#base}?${query}`, { method: "GET" }, async (response) => {
      if (!response.ok) throw await this.#failure(response, what);
      const xml = await response.text();
      const keys = tags(xml, "Contents").map((entry) => ({
        key: tags(entry, "Key")[0] ?? "",
        size: Number(tags(entry, "Size")[0] ?? "0"),
      }));
      const truncated = tags(xml, "IsTruncated")[0] === "true";
      return { keys, next: truncated ? tags(xml, "NextContinuationToken")[0] : undefined };
    });
  }
}
