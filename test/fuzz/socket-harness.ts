/**
 * What the socket fuzzer (socket-fuzz.test.ts) needs beyond harness.ts: a client that reads the
 * greeting, sends a byte stream over a real Unix socket in pieces with small delays,
 * half-closes, and collects everything the server sends until it closes; and a well-behaved
 * client that writes a known pattern and reads it back. Speaks only the wire (never imports
 * src/), so it works against nbdkit as against nbdts.
 */

import { writeSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { CMD, request, transmitting, WIRE } from "../helpers/raw-nbd.ts";

/** One piece of the client's stream and the pause before the next. */
export interface Piece {
  bytes: Uint8Array;
  delayMs: number;
}

export interface Exchange {
  /** Everything the server sent, in order. */
  received: Uint8Array;
  /** The server closed the connection within the time allowed. */
  closed: boolean;
  /**
   * A socket error ended reading early (the client's end of stream raced the server's close),
   * so `received` may be only a prefix of what the server sent.
   */
  cut: boolean;
}

/** The file descriptor under a connected net.Socket (Unix only; not a public API). */
function fdOf(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new Error("Cannot find the socket's descriptor");
  return fd;
}

/**
 * Writes to the socket's descriptor directly: a server that has closed makes this throw EPIPE
 * instead of making Node destroy the socket, which would drop replies still unread.
 * Returns false once the server is gone.
 */
async function writeAll(fd: number, bytes: Uint8Array, gone: () => boolean): Promise<boolean> {
  for (let at = 0; at < bytes.length;) {
    if (gone()) return false;
    try {
      at += writeSync(fd, bytes, at);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "EAGAIN") return false;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  return true;
}

/**
 * Waits for the 18-byte greeting, sends the pieces in order (stopping if the server hangs up),
 * half-closes, and waits up to `timeoutMs` for the server to close, collecting all it sends.
 */
export function exchange(path: string, pieces: readonly Piece[], timeoutMs: number) {
  return new Promise<Exchange>((resolve) => {
    const socket = connect(path);
    const parts: Uint8Array[] = [];
    let length = 0;
    let cut = false;
    let started = false;
    let finished = false;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true; // from here on the descriptor may be another socket's: never write
      clearTimeout(timer);
      socket.destroy();
      const received = new Uint8Array(length);
      let at = 0;
      for (const part of parts) {
        received.set(part, at);
        at += part.length;
      }
      resolve({ received, closed, cut });
    };
    const send = async () => {
      const fd = fdOf(socket);
      let open = true;
      for (const piece of pieces) {
        open = !finished && await writeAll(fd, piece.bytes, () => finished);
        if (!open) break;
        if (piece.delayMs > 0) await new Promise((r) => setTimeout(r, piece.delayMs));
      }
      if (finished) return;
      if (open) socket.end();
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), timeoutMs);
    };
    let timer = setTimeout(() => finish(false), timeoutMs); // no greeting either
    socket.on("data", (chunk: Uint8Array) => {
      parts.push(chunk);
      length += chunk.length;
      if (!started && length >= 18) {
        started = true;
        void send();
      }
    });
    socket.on("error", () => (cut = true));
    socket.on("close", () => finish(true));
  });
}

/** The pattern the well-behaved client keeps on the disk: a byte sequence no fuzz run writes. */
export function pattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Writes `data` at `offset` with a well-behaved client. */
export async function writePattern(path: string, offset: bigint, data: Uint8Array): Promise<void> {
  const connection = await transmitting(path);
  connection.write(request({ type: CMD.WRITE, cookie: 1n, offset, length: data.length }, data));
  const reply = await connection.readSimpleReply();
  connection.close();
  if (reply.magic !== WIRE.SIMPLE_REPLY_MAGIC || reply.error !== 0) {
    throw new Error(`Cannot write the pattern: error ${reply.error}`);
  }
}

/** Reads `length` bytes at `offset` with a well-behaved client. */
export async function readBack(path: string, offset: bigint, length: number): Promise<Uint8Array> {
  const connection = await transmitting(path);
  connection.write(request({ type: CMD.READ, cookie: 2n, offset, length }));
  const reply = await connection.readSimpleReply();
  if (reply.magic !== WIRE.SIMPLE_REPLY_MAGIC || reply.error !== 0 || reply.cookie !== 2n) {
    connection.close();
    throw new Error(`Cannot read the pattern back: ${JSON.stringify(String(reply.error))}`);
  }
  const data = await connection.read(length);
  connection.close();
  return data;
}
