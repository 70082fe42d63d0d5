/**
 * Reads one HTTP/1.1 response from bytes as they arrive (RFC 9112): the status line and
 * headers, then the body framed by Content-Length, chunked coding or the connection's end. It
 * never touches a socket, a timer or a promise: the connection feeds it bytes and it calls its
 * handler back, so it is tested by feeding bytes, split anywhere.
 */

/** The status and headers of a final (not 1xx) response. */
export interface ResponseHead {
  readonly status: number;
  /** The status line's reason phrase ("Not Found"); may be empty. */
  readonly reason: string;
  /** Header names in lower case; a repeated header's values joined by ", ". */
  readonly headers: ReadonlyMap<string, string>;
}

/** Where a response goes as it is read. */
export interface ResponseHandler {
  /** The head arrived; the body (if any) follows. */
  head(head: ResponseHead): void;
  /** A piece of the body, chunked coding removed; valid only during the call. */
  body(bytes: Uint8Array): void;
  /** The whole response is in. */
  complete(): void;
}

/** A response no HTTP/1.1 client can read: the connection must be dropped. */
export class MalformedResponse extends Error {
  override name = "MalformedResponse";
}

/** The most bytes a head (status line and headers) or a chunk-size line may take. */
const MAX_HEAD = 64 * 1024;
const LF = 10;
const CR = 13;

type Phase =
  | "head"
  | "length" // `remaining` bytes of body left
  | "chunk-size"
  | "chunk-data" // `remaining` bytes of this chunk left
  | "chunk-end" // the CRLF after a chunk's data
  | "trailer"
  | "until-close"
  | "done";

const latin1 = new TextDecoder("latin1");
const NO_BYTES = new Uint8Array(0);

export class ResponseReader {
  readonly #handler: ResponseHandler;
  readonly #noBody: boolean;
  #phase: Phase = "head";
  #remaining = 0;
  /** Bytes of a head or line that did not arrive in one piece (made when first needed). */
  #line = NO_BYTES;
  #lineLength = 0;
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;

  /** `headRequest`: the request was HEAD, so no response to it has a body. */
  constructor(handler: ResponseHandler, headRequest: boolean) {
    this.#handler = handler;
    this.#noBody = headRequest;
  }

  get done(): boolean {
    return this.#phase === "done";
  }

  /**
   * Body bytes still expected in one stretch (a Content-Length body or the current chunk): how
   * much a connection may read straight into the body's destination. 0 when unknown.
   */
  get bodyAhead(): number {
    return this.#phase === "length" || this.#phase === "chunk-data" ? this.#remaining : 0;
  }

  /**
   * Takes received bytes; returns how many were this response's (fewer once it is complete:
   * the rest is not ours). Throws MalformedResponse.
   */
  receive(chunk: Uint8Array): number {
    let at = 0;
    while (at < chunk.length && this.#phase !== "done") {
      switch (this.#phase) {
        case "head":
        case "chunk-size":
        case "chunk-end":
        case "trailer":
          at = this.#takeLine(chunk, at);
          break;
        case "length":
        case "chunk-data": {
          const n = Math.min(this.#remaining, chunk.length - at);
          this.#handler.body(chunk.subarray(at, at + n));
          at += n;
          this.#remaining -= n;
          if (this.#remaining > 0) break;
          if (this.#phase === "length") this.#finish();
          else this.#phase = "chunk-end";
          break;
        }
        case "until-close":
          this.#handler.body(at === 0 ? chunk : chunk.subarray(at));
          at = chunk.length;
          break;
      }
    }
    return at;
  }

  /** The peer closed: completes a body read until the end, else the response was cut short. */
  end(): void {
    if (this.#phase === "done") return;
    if (this.#phase !== "until-close") {
      throw new MalformedResponse("the server closed the connection before the response ended");
    }
    this.#finish();
  }

  /**
   * Collects bytes up to the end of a line (of the head, or of a trailer section: up to the
   * empty line); hands over what it holds once the end is there. Returns where it stopped.
   */
  #takeLine(chunk: Uint8Array, from: number): number {
    const kept = this.#lineLength;
    // Byte k of what is kept followed by the chunk from `from`.
    const byte = (k: number) => (k < kept ? this.#line[k] : chunk[from + k - kept]);
    const section = this.#phase === "head" || this.#phase === "trailer";
    for (let i = from; i < chunk.length; i++) {
      if (chunk[i] !== LF) continue;
      const k = kept + i - from;
      const ends = !section ||
        (k >= 1 && byte(k - 1) === LF) ||
        (k >= 2 && byte(k - 1) === CR && byte(k - 2) === LF) ||
        // No trailer fields: the section is one empty line.
        (this.#phase === "trailer" && (k === 0 || (k === 1 && byte(0) === CR)));
      if (!ends) continue;
      let text: string;
      if (kept === 0 && i + 1 - from <= MAX_HEAD) {
        text = latin1.decode(chunk.subarray(from, i + 1)); // all in this chunk: no copy
      } else {
        this.#keep(chunk.subarray(from, i + 1));
        text = latin1.decode(this.#line.subarray(0, this.#lineLength));
        this.#lineLength = 0;
      }
      this.#lineDone(text);
      return i + 1;
    }
    this.#keep(chunk.subarray(from));
    return chunk.length;
  }

  #keep(bytes: Uint8Array): void {
    const length = this.#lineLength + bytes.length;
    if (length > MAX_HEAD) throw new MalformedResponse("the response head is over 64 KiB");
    if (length > this.#line.length) {
      const grown = new Uint8Array(
        Math.min(MAX_HEAD, Math.max(length, this.#line.length * 2, 1024)),
      );
      grown.set(this.#line.subarray(0, this.#lineLength));
      this.#line = grown;
    }
    this.#line.set(bytes, this.#lineLength);
    this.#lineLength = length;
  }

  #lineDone(text: string): void {
    switch (this.#phase) {
      case "head":
        return this.#headDone(text);
      case "chunk-size": {
        const size = /^([0-9a-fA-F]+)[ \t]*(;.*)?\r?\n$/.exec(text);
        if (!size) throw new MalformedResponse(`bad chunk size line "${text.trim()}"`);
        this.#remaining = parseInt(size[1], 16);
        this.#phase = this.#remaining === 0 ? "trailer" : "chunk-data";
        return;
      }
      case "chunk-end":
        if (text.trim() !== "") throw new MalformedResponse("a chunk overran its size");
        this.#phase = "chunk-size";
        return;
      case "trailer":
        return this.#finish(); // trailer fields are of no use here: dropped
    }
  }

  #headDone(text: string): void {
    const lines = text.split(/\r?\n/);
    const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/.exec(lines[0]);
    if (!status) throw new MalformedResponse(`bad status line "${lines[0].slice(0, 80)}"`);
    const code = Number(status[2]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      if (line === "") continue;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new MalformedResponse(`bad header line "${line.slice(0, 80)}"`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const earlier = headers.get(name);
      headers.set(name, earlier === undefined ? value : `${earlier}, ${value}`);
    }
    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
    if (code < 200) return;
    const connection = headers.get("connection")?.toLowerCase() ?? "";
    this.keepAlive = status[1] === "1"
      ? !/\bclose\b/.test(connection)
      : /\bkeep-alive\b/.test(connection);
    this.#handler.head({ status: code, reason: status[3] ?? "", headers });
    this.#frameBody(code, headers);
  }

  /** RFC 9112 §6.3: how the body's length is known. */
  #frameBody(code: number, headers: ReadonlyMap<string, string>): void {
    if (this.#noBody || code === 204 || code === 304) return this.#finish();
    const coding = headers.get("transfer-encoding");
    if (coding !== undefined) {
      if (!/(^|,)\s*chunked\s*$/i.test(coding)) {
        this.keepAlive = false; // only the connection's end tells where it stops
        this.#phase = "until-close";
        return;
      }
      this.#phase = "chunk-size";
      return;
    }
    const length = headers.get("content-length");
    if (length === undefined) {
      this.keepAlive = false;
      this.#phase = "until-close";
      return;
    }
    if (!/^\d+$/.test(length)) throw new MalformedResponse(`bad Content-Length "${length}"`);
    this.#remaining = Number(length);
    if (this.#remaining === 0) return this.#finish();
    this.#phase = "length";
  }

  #finish(): void {
    this.#phase = "done";
    this.#handler.complete();
  }
}
