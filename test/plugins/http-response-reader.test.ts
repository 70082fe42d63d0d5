/**
 * The HTTP/1.1 response reader, fed bytes: heads, bodies framed by Content-Length, chunked
 * coding and the connection's end, interim answers, HEAD, and broken answers; every answer
 * also split at every byte, since a socket may cut it anywhere.
 */

import { describe, expect, test } from "vitest";
import {
  MalformedResponse,
  type ResponseHead,
  ResponseReader,
} from "../../src/plugins/lib/http/response-reader.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

interface Seen {
  head?: ResponseHead;
  body: string;
  complete: boolean;
  used: number;
  keepAlive: boolean;
}

/** Feeds `pieces` in order; what the reader made of them. */
function read(pieces: Uint8Array[], options: { headRequest?: boolean; end?: boolean } = {}) {
  const seen: Seen = { body: "", complete: false, used: 0, keepAlive: true };
  const reader = new ResponseReader({
    head: (head) => (seen.head = head),
    body: (part) => (seen.body += new TextDecoder().decode(part)),
    complete: () => (seen.complete = true),
  }, options.headRequest ?? false);
  for (const piece of pieces) seen.used += reader.receive(piece);
  if (options.end) reader.end();
  seen.keepAlive = reader.keepAlive;
  return seen;
}

/** The same wire split once at every byte: each must read as the whole does. */
function everySplit(wire: string, options?: { headRequest?: boolean; end?: boolean }) {
  const whole = bytes(wire);
  const results = [];
  for (let cut = 0; cut <= whole.length; cut++) {
    results.push(read([whole.subarray(0, cut), whole.subarray(cut)], options));
  }
  return results;
}

describe("HTTP response reader", () => {
  test("a 206 with Content-Length gives its status, headers and body, split anywhere", () => {
    const wire = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 4-7/100\r\n" +
      "Content-Length: 4\r\nX-Twice: a\r\nx-twice: b\r\n\r\nwxyz";
    for (const seen of everySplit(wire)) {
      expect(seen.head?.status).toBe(206);
      expect(seen.head?.headers.get("content-range")).toBe("bytes 4-7/100");
      expect(seen.head?.headers.get("x-twice")).toBe("a, b");
      expect(seen).toMatchObject({ body: "wxyz", complete: true, keepAlive: true });
    }
  });

  test("a chunked body is decoded, extensions and trailers dropped, split anywhere", () => {
    const wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n";
    for (const seen of everySplit(wire)) {
      expect(seen).toMatchObject({ body: "Wikipedia in\r\n\r\nchunks.", complete: true });
      expect(seen.used).toBe(bytes(wire).length);
    }
  });

  test("a chunked body without trailers ends at the empty line", () => {
    const wire =
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    for (const seen of everySplit(wire)) {
      expect(seen).toMatchObject({ body: "abc", complete: true });
      expect(seen.used).toBe(bytes(wire).length);
    }
  });

  test("without a length the body runs to the connection's end, which ends keep-alive", () => {
    for (const seen of everySplit("HTTP/1.1 200 OK\r\n\r\nall of it", { end: true })) {
      expect(seen).toMatchObject({ body: "all of it", complete: true, keepAlive: false });
    }
  });

  test("an answer to HEAD, a 204 and a 304 have no body whatever their headers say", () => {
    const head = read([bytes("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")], {
      headRequest: true,
    });
    expect(head).toMatchObject({ complete: true, body: "" });
    for (const status of ["204 No Content", "304 Not Modified"]) {
      expect(read([bytes(`HTTP/1.1 ${status}\r\nContent-Length: 9\r\n\r\n`)]).complete).toBe(true);
    }
  });

  test("interim 100 and 103 answers are skipped for the final one", () => {
    const wire = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
      "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    for (const seen of everySplit(wire)) {
      expect(seen.head?.status).toBe(201);
      expect(seen.complete).toBe(true);
    }
  });

  test("bytes after the answer are not taken: they belong to no request", () => {
    const seen = read([bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")]);
    expect(seen).toMatchObject({ body: "ok", complete: true, used: 40 });
  });

  test("Connection: close and HTTP/1.0 end keep-alive; HTTP/1.0 keep-alive keeps it", () => {
    const close = read([
      bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
    ]);
    expect(close.keepAlive).toBe(false);
    expect(read([bytes("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")]).keepAlive).toBe(false);
    const kept = read([
      bytes("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"),
    ]);
    expect(kept.keepAlive).toBe(true);
  });

  test("bare LF line ends are read too", () => {
    for (const seen of everySplit("HTTP/1.1 200 OK\nContent-Length: 3\n\nabc")) {
      expect(seen).toMatchObject({ body: "abc", complete: true });
    }
  });

  test("the body goes out in pieces as it arrives, never held back", () => {
    const parts: number[] = [];
    const reader = new ResponseReader({
      head: () => {},
      body: (part) => parts.push(part.length),
      complete: () => {},
    }, false);
    reader.receive(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n123"));
    expect(reader.bodyAhead).toBe(7);
    reader.receive(bytes("4567890"));
    expect(parts).toEqual([3, 7]);
    expect(reader.done).toBe(true);
  });

  test("broken answers are MalformedResponse, cut-short ones too", () => {
    const broken = [
      "HTTP/2 200 OK\r\n\r\n",
      "ICY 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
    ];
    for (const wire of broken) expect(() => read([bytes(wire)])).toThrow(MalformedResponse);
    expect(() => read([bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")], { end: true }))
      .toThrow("closed the connection before the response ended");
  });

  test("a head over 64 KiB is refused, in one piece or many", () => {
    const huge = `HTTP/1.1 200 OK\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`;
    expect(() => read([bytes(huge)])).toThrow("over 64 KiB");
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < huge.length; at += 1000) pieces.push(bytes(huge.slice(at, at + 1000)));
    expect(() => read(pieces)).toThrow("over 64 KiB");
  });
});
