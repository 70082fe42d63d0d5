/**
 * Hand-built NBD bytes over a raw Unix socket, for what real clients refuse to send (bad
 * magics, unknown flags, oversized options). Restates the few wire constants it needs from
 * the NBD spec (doc/proto.md) on purpose: the interop suite must not trust the code under
 * test, so it never imports src/. Never interprets more of a reply than a test asks for.
 */

import { connect, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";

/** Wire constants from the NBD spec, section "Values". */
export const WIRE = {
  NBDMAGIC: 0x4e42444d41474943n, // "NBDMAGIC"
  IHAVEOPT: 0x49484156454f5054n, // "IHAVEOPT": greeting and every option request
  OLDSTYLE_MAGIC: 0x0000420281861253n, // cliserv_magic, oldstyle greeting only
  OPTION_REPLY_MAGIC: 0x0003e889045565a9n,
  REQUEST_MAGIC: 0x25609513,
  SIMPLE_REPLY_MAGIC: 0x67446698,
  STRUCTURED_REPLY_MAGIC: 0x668e33ef,
} as const;

/** Handshake flags (server) and client flags share these bit positions. */
export const HANDSHAKE = { FIXED_NEWSTYLE: 1, NO_ZEROES: 2 } as const;

export const OPT = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  INFO: 6,
  STARTTLS: 5,
  GO: 7,
  STRUCTURED_REPLY: 8,
  EXTENDED_HEADERS: 11,
} as const;

export const REP = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  ERR_UNSUP: 0x80000001,
  ERR_POLICY: 0x80000002,
  ERR_INVALID: 0x80000003,
  ERR_TLS_REQD: 0x80000005,
  ERR_UNKNOWN: 0x80000006,
} as const;

/** NBD_INFO_* codes in INFO/GO requests and NBD_REP_INFO replies. */
export const INFO = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

export const TX_FLAG = { HAS_FLAGS: 1, READ_ONLY: 2 } as const;

export const CMD = { READ: 0, WRITE: 1, DISC: 2, FLUSH: 3 } as const;

/** Big-endian field writers, joined by `bytes(...)`. */
export function u16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value);
  return out;
}

export function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

export function u64(value: bigint | number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** Joins fields and strings (UTF-8) into one message. */
export function bytes(...parts: (Uint8Array | string)[]): Uint8Array {
  const encoded = parts.map((
    part,
  ) => (typeof part === "string" ? new TextEncoder().encode(part) : part));
  const out = new Uint8Array(encoded.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of encoded) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An option request: IHAVEOPT, option, length, data (spec "Option haggling"). */
export function optionRequest(
  option: number,
  data: Uint8Array = new Uint8Array(),
  magic: bigint = WIRE.IHAVEOPT,
): Uint8Array {
  return bytes(u64(magic), u32(option), u32(data.length), data);
}

/** An option request header announcing `length` bytes of data, none of which is included. */
export function optionHeader(option: number, length: number): Uint8Array {
  return bytes(u64(WIRE.IHAVEOPT), u32(option), u32(length));
}

/** The data of NBD_OPT_INFO / NBD_OPT_GO: name length, name, info count, info codes. */
export function goData(name = "", infos: readonly number[] = []): Uint8Array {
  const encodedName = new TextEncoder().encode(name);
  return bytes(u32(encodedName.length), encodedName, u16(infos.length), ...infos.map(u16));
}

export interface RequestFields {
  readonly magic?: number;
  readonly flags?: number;
  readonly type: number;
  readonly cookie?: bigint;
  readonly offset?: bigint | number;
  readonly length?: number;
}

/** A 28-byte compact request header, followed by `payload` for a write. */
export function request(fields: RequestFields, payload: Uint8Array = new Uint8Array()): Uint8Array {
  return bytes(
    u32(fields.magic ?? WIRE.REQUEST_MAGIC),
    u16(fields.flags ?? 0),
    u16(fields.type),
    u64(fields.cookie ?? 1n),
    u64(fields.offset ?? 0),
    u32(fields.length ?? 0),
    payload,
  );
}

export interface OptionReply {
  readonly option: number;
  readonly type: number;
  readonly data: Uint8Array;
}

export interface SimpleReply {
  readonly magic: number;
  readonly error: number;
  readonly cookie: bigint;
}

const view = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, data.byteLength);

/** One client connection that reads exact byte counts and notices when the server hangs up. */
export class RawConnection {
  readonly #socket: Socket;
  #buffered: Uint8Array = new Uint8Array(0);
  #ended = false;
  #wake: (() => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = bytes(this.#buffered, chunk);
      this.#notify();
    });
    const end = () => {
      this.#ended = true;
      this.#notify();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end); // ECONNRESET/EPIPE: the server closed on us
  }

  /** Connects to a Unix socket at `where`, or over TCP to `{ host, port }`. */
  static open(where: string | { host: string; port: number }): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = typeof where === "string" ? connect(where) : connect(where.port, where.host);
      socket.once("connect", () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }

  /** Connects, greets and opens export `name` with NBD_OPT_GO; throws unless it is accepted. */
  static async opened(path: string, name = ""): Promise<RawConnection> {
    const connection = await RawConnection.open(path);
    await connection.greet();
    const reply = await connection.go(name);
    if (reply.type !== REP.ACK) {
      connection.close();
      throw new Error(`NBD_OPT_GO "${name}" was refused: 0x${reply.type.toString(16)}`);
    }
    return connection;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #waitFor(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * STARTTLS's client side, once the server has ACKed it: a TLS handshake on this socket.
   * Resolves to a connection that speaks through TLS; rejects when the handshake fails.
   */
  startTls(options: ConnectionOptions): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const secure = connectTls({ ...options, socket: this.#socket });
      secure.once("secureConnect", () => resolve(new RawConnection(secure)));
      secure.once("error", reject);
      secure.once("close", () => reject(new Error("Server closed the connection during TLS")));
    });
  }

  /** A copy of the bytes received and not yet read. */
  received(): Uint8Array {
    return this.#buffered.slice();
  }

  write(data: Uint8Array): void {
    if (!this.#socket.destroyed) this.#socket.write(data);
  }

  /** Stops reading the socket, as a client that never reads its replies: the server's
   * writes then back up in the kernel and in the server. */
  pauseReading(): void {
    this.#socket.pause();
  }

  resumeReading(): void {
    this.#socket.resume();
  }

  /** Bytes written that the kernel has not yet taken: more than 0 once the server stops reading. */
  get unsent(): number {
    return this.#socket.writableLength;
  }

  /** Exactly `count` bytes; throws if the server closes first or time runs out. */
  async read(count: number, timeoutMs = 5_000): Promise<Uint8Array> {
    await this.#waitFor(
      () => this.#buffered.length >= count || this.#ended,
      timeoutMs,
      `${count} bytes`,
    );
    if (this.#buffered.length < count) {
      throw new Error(
        `Server closed the connection after ${this.#buffered.length} of ${count} bytes`,
      );
    }
    const out = this.#buffered.slice(0, count);
    this.#buffered = this.#buffered.slice(count);
    return out;
  }

  /**
   * True once the server has closed the connection (EOF or reset); false if it is still open
   * after `timeoutMs`. Bytes the server sent before closing are discarded.
   */
  async closedByServer(timeoutMs = 5_000): Promise<boolean> {
    try {
      await this.#waitFor(() => this.#ended, timeoutMs, "close");
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Every byte the server sends until it closes the connection; throws if it is still open
   * after `timeoutMs`.
   */
  async readUntilClosed(timeoutMs = 5_000): Promise<Uint8Array> {
    await this.#waitFor(() => this.#ended, timeoutMs, "the server to close");
    const out = this.#buffered;
    this.#buffered = new Uint8Array(0);
    return out;
  }

  /**
   * True when the server closes the connection without sending a byte; false as soon as a
   * byte arrives (it stays buffered for read()). Throws if neither happens in `timeoutMs`.
   */
  async closedBeforeAnyByte(timeoutMs = 5_000): Promise<boolean> {
    await this.#waitFor(
      () => this.#buffered.length > 0 || this.#ended,
      timeoutMs,
      "a byte or the server to close",
    );
    return this.#buffered.length === 0;
  }

  /** Reads the 18-byte greeting, returning its handshake flags, and sends `clientFlags`. */
  async greet(
    clientFlags: number = HANDSHAKE.FIXED_NEWSTYLE | HANDSHAKE.NO_ZEROES,
  ): Promise<number> {
    const greeting = await this.read(18);
    const fields = view(greeting);
    if (fields.getBigUint64(0) !== WIRE.NBDMAGIC || fields.getBigUint64(8) !== WIRE.IHAVEOPT) {
      throw new Error(`Unexpected greeting ${Buffer.from(greeting).toString("hex")}`);
    }
    this.write(u32(clientFlags));
    return fields.getUint16(16);
  }

  /** Reads one option reply header and its data. */
  async readOptionReply(): Promise<OptionReply> {
    const header = view(await this.read(20));
    if (header.getBigUint64(0) !== WIRE.OPTION_REPLY_MAGIC) {
      throw new Error(`Bad option reply magic 0x${header.getBigUint64(0).toString(16)}`);
    }
    const data = await this.read(header.getUint32(16));
    return { option: header.getUint32(8), type: header.getUint32(12), data };
  }

  /**
   * Sends one option and reads every reply to it, up to and including the final one (an
   * ACK or an error, which has bit 31 set).
   */
  async exchange(option: number, data: Uint8Array = new Uint8Array()): Promise<OptionReply[]> {
    this.write(optionRequest(option, data));
    const replies: OptionReply[] = [];
    for (;;) {
      const reply = await this.readOptionReply();
      replies.push(reply);
      if (reply.type === REP.ACK || reply.type >= 0x80000000) return replies;
    }
  }

  /** Sends NBD_OPT_GO for `name` and returns its final reply (ACK or an error). */
  async go(name = ""): Promise<OptionReply> {
    return (await this.exchange(OPT.GO, goData(name))).at(-1)!;
  }

  /** Reads a 16-byte simple reply header (no data). */
  async readSimpleReply(timeoutMs = 5_000): Promise<SimpleReply> {
    const header = view(await this.read(16, timeoutMs));
    return {
      magic: header.getUint32(0),
      error: header.getUint32(4),
      cookie: header.getBigUint64(8),
    };
  }

  /** True when a 4-byte read at offset 0 succeeds with a matching cookie (after GO). */
  async readWorks(): Promise<boolean> {
    this.write(request({ type: CMD.READ, cookie: 77n, offset: 0, length: 4 }));
    const reply = await this.readSimpleReply();
    await this.read(4);
    return reply.magic === WIRE.SIMPLE_REPLY_MAGIC && reply.error === 0 && reply.cookie === 77n;
  }

  /**
   * One READ, waited for (simple replies: GO without structured replies). Resolves to the
   * reply's error and, when it is 0, the data.
   */
  async pread(length: number, offset: number, cookie = 1n): Promise<IoResult> {
    this.write(request({ type: CMD.READ, cookie, offset, length }));
    const reply = await this.#replyTo(cookie);
    const data = reply.error === 0 ? await this.read(length) : new Uint8Array();
    return { error: reply.error, data };
  }

  /** One WRITE, waited for; resolves to the reply's error (0 when acknowledged). */
  async pwrite(data: Uint8Array, offset: number, cookie = 1n): Promise<number> {
    this.write(request({ type: CMD.WRITE, cookie, offset, length: data.length }, data));
    return (await this.#replyTo(cookie)).error;
  }

  async #replyTo(cookie: bigint): Promise<SimpleReply> {
    const reply = await this.readSimpleReply();
    if (reply.magic !== WIRE.SIMPLE_REPLY_MAGIC || reply.cookie !== cookie) {
      throw new Error(
        `Expected a simple reply to cookie ${cookie}, got magic 0x${
          reply.magic.toString(16)
        } cookie ${reply.cookie}`,
      );
    }
    return reply;
  }

  /** Half-closes: the server reads end of stream, and this side can still read its answer. */
  endWriting(): void {
    this.#socket.end();
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A connection to the default export that has finished negotiating with NBD_OPT_GO. */
export async function transmitting(path: string): Promise<RawConnection> {
  const connection = await RawConnection.open(path);
  await connection.greet();
  const go = await connection.go();
  if (go.type !== REP.ACK) {
    connection.close();
    throw new Error(`GO answered 0x${go.type.toString(16)}, not ACK`);
  }
  return connection;
}

/** What pread() resolves to. */
export interface IoResult {
  readonly error: number;
  readonly data: Uint8Array;
}

/** Reads a big-endian u64 from `data` at `offset`. */
export function readU64(data: Uint8Array, offset: number): bigint {
  return view(data).getBigUint64(offset);
}

/** Reads a big-endian u16 from `data` at `offset`. */
export function readU16(data: Uint8Array, offset: number): number {
  return view(data).getUint16(offset);
}
