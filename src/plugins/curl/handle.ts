/**
 * One connection's view of the remote disk: its size and whether the server serves byte ranges,
 * asked when the connection opens (as nbdkit 1.32.5 asks with a HEAD request), then reads as
 * ranged GETs and writes as PUTs with a Content-Range, many in flight at once.
 */

import { debug } from "../../api/debug.ts";
import { ERRNO, NbdError } from "../../api/errors.ts";
import { toOffset } from "../../api/parse.ts";
import type { Handle, Offset } from "../../api/plugin.ts";
import type { HttpAnswer } from "../lib/http/transport.ts";
import type { HttpClient } from "./client.ts";

/** curl's words for an HTTP status of 400 or more (CURLE_HTTP_RETURNED_ERROR). */
function statusError(response: HttpAnswer): string {
  return `HTTP response code said error: The requested URL returned error: ${response.status}`;
}

/** A 3xx that fetch did not follow (followlocation=false). */
function unfollowed(response: HttpAnswer): string | undefined {
  if (response.status < 300 || response.status >= 400) return undefined;
  const location = response.headers.get("location") ?? "nowhere";
  return `redirect to ${location} not followed (followlocation=false)`;
}

/** `bytes=A-B` for `count` bytes at `offset`, exact past 2^53. */
function byteRange(offset: Offset, count: number): string {
  return `${offset}-${BigInt(offset) + BigInt(count) - 1n}`;
}

/** The total of `Content-Range: bytes A-B/TOTAL`, or undefined. */
function rangeTotal(response: HttpAnswer): bigint | undefined {
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
  const response = await client.request(what, { method: "HEAD" });
  const refused = unfollowed(response) ?? (response.status >= 400 ? statusError(response) : "");
  if (refused && response.status !== 405 && response.status !== 501) {
    throw new NbdError(ERRNO.EIO, `${what}: ${refused}`);
  }
  const length = response.status < 300 ? response.headers.get("content-length") : undefined;
  const size = length !== undefined && /^\d+$/.test(length) ? BigInt(length) : undefined;
  const accept = /^\s*bytes\s*$/i.test(response.headers.get("accept-ranges") ?? "");
  if (size !== undefined && accept) return { size, ranges: true };
  const asked = `problem doing a ranged GET to fetch size of URL [${client.url}]`;
  const first = new Uint8Array(1);
  const ranged = await client.request(asked, {
    method: "GET",
    headers: { Range: "bytes=0-0" },
    into: first,
  });
  const unfollowedGet = unfollowed(ranged);
  if (unfollowedGet) throw new NbdError(ERRNO.EIO, `${asked}: ${unfollowedGet}`);
  if (ranged.status === 206) return { size: rangeTotal(ranged) ?? size, ranges: true };
  // An empty file has no first byte: 416 with its size, `bytes */0`.
  if (ranged.status === 416 && rangeTotal(ranged) === 0n) return { size: 0n, ranges: true };
  if (ranged.status >= 400) throw new NbdError(ERRNO.EIO, `${asked}: ${statusError(ranged)}`);
  return { size, ranges: false };
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

    async readAt(buf, offset) {
      const range = byteRange(offset, buf.length);
      const what = `pread: GET ${client.url} bytes=${range}`;
      const headers = { Range: `bytes=${range}` };
      const response = await client.request(what, { method: "GET", headers, into: buf });
      if (response.status !== 206) {
        const why = unfollowed(response) ??
          (response.status >= 400
            ? statusError(response)
            : `the server answered ${response.status} instead of 206 Partial Content`);
        throw new NbdError(ERRNO.EIO, `${what}: ${why}`);
      }
      const start = /^\s*bytes\s+(\d+)-/i.exec(response.headers.get("content-range") ?? "");
      if (start && BigInt(start[1]) !== BigInt(offset)) {
        throw new NbdError(ERRNO.EIO, `${what}: the server sent bytes from ${start[1]}`);
      }
      if (response.filled < buf.length) {
        throw new NbdError(
          ERRNO.EIO,
          `${what}: the body ended after ${response.filled} of ${buf.length} bytes`,
        );
      }
    },

    async writeAt(buf, offset) {
      const range = byteRange(offset, buf.length);
      const what = `pwrite: PUT ${client.url} bytes ${range}`;
      const headers = { "Content-Range": `bytes ${range}/*` };
      const body = buf as Uint8Array<ArrayBuffer>;
      const response = await client.request(what, { method: "PUT", headers, body });
      if (response.status < 200 || response.status >= 300) {
        const why = unfollowed(response) ?? statusError(response);
        throw new NbdError(ERRNO.EIO, `${what}: ${why}`);
      }
    },
  };
}
