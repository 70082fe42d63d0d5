/**
 * One HTTP/1.1 connection to a server, carrying one exchange at a time, kept open between
 * them: it writes a request, reads the answer with a ResponseReader, and puts a successful
 * answer's body straight into the buffer the caller lent (the runtime reads into it where it
 * can, so a 1 MiB read is copied once, by the kernel). It sets no timer; its owner closes it.
 */

import type { Channel, Connect, ConnectTarget, Receiver } from "../../../io.ts";
import { type ResponseHead, ResponseReader } from "./response-reader.ts";

/** The answer to one request. */
export interface Answer {
  readonly status: number;
  /** The status line's reason phrase. */
  readonly reason: string;
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>;
  /** Bytes of a 2xx body put into the caller's buffer (the rest of a longer body is dropped). */
  readonly filled: number;
  /** The body of any other answer, or of a 2xx one when no buffer was lent, as text. */
  readonly text: string;
}

/** What one exchange sends and where its answer's body goes. */
export interface Exchange {
  /** The request line and headers, ending with the empty line. */
  readonly head: Uint8Array;
  readonly body?: Uint8Array;
  readonly isHead: boolean;
  /** Where a 2xx body goes. */
  readonly into?: Uint8Array;
}

/** A body kept as text stops being kept past this (an error page, a bucket listing). */
const MAX_TEXT = 16 * 1024 * 1024;
/** Past this many unwanted bytes after a lent buffer is full, the connection is dropped. */
const MAX_SKIPPED = 64 * 1024;

/** The state of the exchange under way. */
interface Pending {
  readonly exchange: Exchange;
  readonly resolve: (answer: Answer) => void;
  readonly reject: (error: Error) => void;
  head?: ResponseHead;
  /** Whether the body goes into `exchange.into`. */
  lent: boolean;
  filled: number;
  skipped: number;
  text: Uint8Array[];
  textLength: number;
  complete: boolean;
  /** The runtime no longer holds the request's bytes. */
  written: boolean;
  /** Why the exchange failed, once it has. */
  error?: Error;
}

const utf8 = new TextDecoder();

function joined(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

export class HttpConnection implements Receiver {
  #channel: Channel | undefined;
  #pending: Pending | undefined;
  #reader: ResponseReader | undefined;
  #open = true;
  /** Whether any byte of the current answer has arrived. */
  answered = false;

  /** Connects to `target`; rejects with the runtime's reason. */
  static async open(connect: Connect, target: ConnectTarget): Promise<HttpConnection> {
    const connection = new HttpConnection();
    connection.#channel = await connect(target, connection);
    return connection;
  }

  /** Open, idle and fit for another exchange. */
  get reusable(): boolean {
    return this.#open && this.#pending === undefined && (this.#reader?.keepAlive ?? true);
  }

  /** Sends one request; resolves with its answer once the runtime also let go of the request. */
  send(exchange: Exchange): Promise<Answer> {
    if (!this.#open) return Promise.reject(new Error("the connection is closed"));
    if (this.#pending) throw new Error("one exchange at a time");
    this.answered = false;
    return new Promise<Answer>((resolve, reject) => {
      const pending: Pending = {
        exchange,
        resolve,
        reject,
        lent: false,
        filled: 0,
        skipped: 0,
        text: [],
        textLength: 0,
        complete: false,
        written: false,
      };
      this.#pending = pending;
      this.#reader = new ResponseReader({
        head: (head) => this.#head(pending, head),
        body: (bytes) => this.#body(pending, bytes),
        complete: () => {
          pending.complete = true;
          this.#settle(pending);
        },
      }, exchange.isHead);
      const parts = exchange.body?.length ? [exchange.head, exchange.body] : [exchange.head];
      void this.#channel!.write(parts, () => {
        pending.written = true;
        this.#settle(pending);
      });
    });
  }

  /**
   * Drops the connection at once (abort: nothing queued is sent, nothing more is read into a
   * lent buffer); an exchange under way fails with `error`.
   */
  close(error?: Error): void {
    if (!this.#open) return;
    this.#open = false;
    this.#shut();
    this.#fail(error ?? new Error("the connection was closed"));
  }

  #shut(): void {
    const channel = this.#channel;
    if (channel?.abort) channel.abort();
    else channel?.close();
  }

  // Receiver: what the runtime read.

  data(chunk: Uint8Array): void {
    const pending = this.#pending;
    if (!pending || !this.#reader) {
      // Bytes nobody asked for: the server is out of step, so the connection is done.
      return this.close(new Error("the server sent bytes that answer no request"));
    }
    this.answered = true;
    try {
      const used = this.#reader.receive(chunk);
      if (used < chunk.length) this.#reader.keepAlive = false; // more than one answer: drop it
    } catch (error) {
      this.close(error as Error);
    }
  }

  /** The rest of a successful body, when it goes to a lent buffer: the runtime reads there. */
  readBuffer(): Uint8Array | undefined {
    const pending = this.#pending;
    const ahead = this.#reader?.bodyAhead ?? 0;
    if (!pending?.lent || ahead === 0) return undefined;
    const into = pending.exchange.into!;
    const room = Math.min(ahead, into.length - pending.filled);
    return room > 0 ? into.subarray(pending.filled, pending.filled + room) : undefined;
  }

  end(error?: Error): void {
    if (!this.#open) return;
    try {
      this.#reader?.end(); // an answer read until the connection's end completes here
    } catch (cut) {
      error ??= cut as Error;
    }
    this.#open = false;
    this.#shut();
    this.#fail(error ?? new Error("the server closed the connection"));
  }

  #head(pending: Pending, head: ResponseHead): void {
    pending.head = head;
    pending.lent = pending.exchange.into !== undefined && head.status >= 200 &&
      head.status < 300;
  }

  #body(pending: Pending, bytes: Uint8Array): void {
    if (pending.lent) {
      const into = pending.exchange.into!;
      const n = Math.min(bytes.length, into.length - pending.filled);
      // Read in place (readBuffer) needs no copy.
      const inPlace = bytes.buffer === into.buffer &&
        bytes.byteOffset === into.byteOffset + pending.filled;
      if (n > 0 && !inPlace) {
        into.set(n === bytes.length ? bytes : bytes.subarray(0, n), pending.filled);
      }
      pending.filled += n;
      pending.skipped += bytes.length - n;
      // A server sending far more than asked for (a whole file for a range): not worth reading.
      if (pending.skipped > MAX_SKIPPED && !pending.complete) {
        pending.complete = true;
        this.#reader!.keepAlive = false;
        this.#settle(pending);
      }
      return;
    }
    if (pending.textLength + bytes.length > MAX_TEXT) {
      return this.close(new Error("the answer's body is over 16 MiB"));
    }
    pending.text.push(bytes.slice()); // the runtime reuses its read buffer
    pending.textLength += bytes.length;
  }

  /**
   * Settles once the answer is complete (or failed) and the runtime has let go of the
   * request's bytes, so the caller may reuse its buffers.
   */
  #settle(pending: Pending): void {
    if (!pending.written || this.#pending !== pending) return;
    if (pending.error) {
      this.#pending = undefined;
      return pending.reject(pending.error);
    }
    if (!pending.complete) return;
    this.#pending = undefined;
    if (!this.#reader!.done || !this.#reader!.keepAlive) {
      this.#open = false;
      this.#shut();
    }
    pending.resolve({
      status: pending.head!.status,
      reason: pending.head!.reason,
      headers: pending.head!.headers,
      filled: pending.filled,
      text: pending.textLength === 0 ? "" : utf8.decode(joined(pending.text, pending.textLength)),
    });
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    if (!pending || pending.error) return;
    pending.error = error;
    this.#settle(pending);
  }
}
