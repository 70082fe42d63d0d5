/**
 * One connection's view of the remote disk: its size and whether the server serves byte ranges,
 * asked when the connection opens (as nbdkit 1.32.5 asks with a HEAD request), then reads as
 * ranged GETs and writes as PUTs with a Content-Range, many in flight at once.
 */

import { debug } from "../../api/debug.ts";
import { ERRNO, NbdError } from "../../api/errors.ts";
import { toOffset } from "../../api/parse.ts";
import type { Handle, Offset } from "../../api/plugin.ts";
import { discardBody, readBodyInto } from "../lib/read-body.ts";
import type { HttpClient } from "./client.ts";

/** curl's words for an HTTP status of 400 or more (CURLE_HTTP_RETURNED_ERROR). */
function statusError(response: Response): string {
  return `HTTP response code said error: The requested URL returned error: ${response.status}`;
}

/** A 3xx that fetch did not follow (followlocation=false). */
function unfollowed(response: Response): string | undefined {
  if (response.status < 300 || response.status >= 400) return undefined;
  const location = response.headers.get("location") ?? "nowhere";
  return `redirect to ${location} not followed (followlocation=false)`;
}

/** `bytes=A-B` for `count` bytes at `offset`, exact past 2^53. */
function byteRange(offset: Offset, count: number): string {
  return `${offset}-${BigInt(offset) + BigInt(count) - 1n}`;
}

/** The total of `Content-Range: bytes A-B/TOTAL`, or undefined. */
function rangeTotal(response: Response): bigint | undefined {
  const match = /\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "");
  return match ? BigInt(match[1]) : undefined;
}

/** The size of the remote file, and whether it serves byte ranges. */
interface Probe {
  size?: bigint;
  ranges: boolean;
}

/** HEAD first; when it gives no length or no Accept-Ranges, a GET of the first byte decides. */
async function probe(client: HttpClient): Promise<Probe> {
  const what = `problem doing HEAD request to fetch size of URL [${client.url}]`;
  const head = await client.request(what, { method: "HEAD" }, async (response) => {
    await discardBody(response);
    const refused = unfollowed(response) ?? (response.status >= 400 ? statusError(response) : "");
    if (refused && response.status !== 405 && response.status !== 501) {
      throw new NbdError(ERRNO.EIO, `${what}: ${refused}`);
    }
    const length = response.ok ? response.headers.get("content-length") : null;
    const accept = /^\s*bytes\s*$/i.test(response.headers.get("accept-ranges") ?? "");
    return { size: length !== null && /^\d+$/.test(length) ? BigInt(length) : undefined, accept };
  });
  if (head.size !== undefined && head.accept) return { size: head.size, ranges: true };
  const asked = `problem doing a ranged GET to fetch size of URL [${client.url}]`;
  return await client.request(
    asked,
    { method: "GET", headers: { Range: "bytes=0-0" } },
    async (response) => {
      await discardBody(response);
      const refused = unfollowed(response);
      if (refused) throw new NbdError(ERRNO.EIO, `${asked}: ${refused}`);
      if (response.status === 206) return { size: rangeTotal(response) ?? head.size, ranges: true };
      // An empty file has no first byte: 416 with its size, `bytes */0`.
      if (response.status === 416 && rangeTotal(response) === 0n) return { size: 0n, ranges: true };
      if (response.status >= 400) {
        throw new NbdError(
          ERRNO.EIO,
          `${asked}: ${statusError(response)}`,
        );
      }
      return { size: head.size, ranges: false };
    },
  );
}

export async function openHttpDisk(client: HttpClient): Promise<Handle> {
  const { size, ranges } = await probe(client);
  if (size === undefined) {
    throw new NbdError(
      ERRNO.EIO,
      `could not get length of remote file [${client.url}], is the URL correct?`,
    );
  }
  debug(`content length: ${size}`);
  if (!ranges) {
    throw new NbdError(ERRNO.EIO, "server does not support 'range' (byte range) requests");
  }
  debug("accept range supported (for HTTP/HTTPS)");
  const diskSize = toOffset(size);

  return {
    getSize: () => diskSize,

    readAt(buf, offset) {
      const range = byteRange(offset, buf.length);
      const what = `pread: GET ${client.url} bytes=${range}`;
      const headers = { Range: `bytes=${range}` };
      return client.request(what, { method: "GET", headers }, async (response) => {
        if (response.status !== 206) {
          await discardBody(response);
          const why = unfollowed(response) ??
            (response.status >= 400
              ? statusError(response)
              : `the server answered ${response.status} instead of 206 Partial Content`);
          throw new NbdError(ERRNO.EIO, `${what}: ${why}`);
        }
        const start = /^\s*bytes\s+(\d+)-/i.exec(response.headers.get("content-range") ?? "");
        if (start && BigInt(start[1]) !== BigInt(offset)) {
          await discardBody(response);
          throw new NbdError(ERRNO.EIO, `${what}: the server sent bytes from ${start[1]}`);
        }
        const got = await readBodyInto(response, buf);
        if (got < buf.length) {
          throw new NbdError(
            ERRNO.EIO,
            `${what}: the body ended after ${got} of ${buf.length} bytes`,
          );
        }
      });
    },

    writeAt(buf, offset) {
      const range = byteRange(offset, buf.length);
      const what = `pwrite: PUT ${client.url} bytes ${range}`;
      // A copy: fetch may still read the body after a server answered early.
      const body = buf.slice();
      const headers = { "Content-Range": `bytes ${range}/*` };
      return client.request(what, { method: "PUT", headers, body }, async (response) => {
        await discardBody(response);
        if (!response.ok) {
          const why = unfollowed(response) ?? statusError(response);
          throw new NbdError(ERRNO.EIO, `${what}: ${why}`);
        }
      });
    },
  };
}
