/**
 * Bytes for NBD unit tests: builders of what a client sends, parsers of what a server answers,
 * and an in-memory connection (a test Channel and the session's Receiver) that lets a test push
 * bytes into a Server and read its replies without a socket. The magic numbers are restated from
 * the spec (doc/proto.md, "Values") on purpose, so a wrong constant in src/ fails a test.
 */

import type { TlsMode } from "../../src/connection/tls-mode.ts";
import type { Channel, Receiver, Timers } from "../../src/io.ts";
import { ServerContext } from "../../src/connection/context.ts";
import { type LimitOptions, resolveLimits } from "../../src/protocol/limits.ts";
import { Log } from "../../src/api/log.ts";
import { type Plugin, THREAD_MODEL, type ThreadModel } from "../../src/api/plugin.ts";
import { CMD, HANDSHAKE_FLAG, INFO, OPT, REP, REPLY_FLAG } from "../../src/protocol/constants.ts";
import { Server } from "../../src/connection/server.ts";

/** Wire magics, as the spec spells them. */
export const WIRE = {
  NBDMAGIC: 0x4e42444d41474943n, // "NBDMAGIC"
  IHAVEOPT: 0x49484156454f5054n, // "IHAVEOPT"
  OPTION_REPLY: 0x0003e889045565a9n,
  REQUEST: 0x25609513,
  SIMPLE_REPLY: 0x67446698,
  STRUCTURED_REPLY: 0x668e33ef,
  EXTENDED_REQUEST: 0x21e41c71,
  EXTENDED_REPLY: 0x6e8a278c,
} as const;

// ---------------------------------------------------------------------------------------------
// Field writers

// Big-endian field writers: the interop helpers have them already.
import { u16, u32, u64 } from "./raw-nbd.ts";
export { u16, u32, u64 };

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Bytes from spaced hex, as the spec's worked examples print them: "4E 42 44 ...". */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---------------------------------------------------------------------------------------------
// What a client sends

export function wireClientFlags(flags: number): Uint8Array {
  return u32(flags);
}

/** An option request; `length` and `magic` may lie, to build broken ones. */
export function wireOption(
  option: number,
  data: Uint8Array = new Uint8Array(0),
  lie: { magic?: bigint; length?: number } = {},
): Uint8Array {
  return concat(u64(lie.magic ?? WIRE.IHAVEOPT), u32(option), u32(lie.length ?? data.length), data);
}

/** INFO/GO option data: u32 name length, name, u16 count, u16 info codes. */
export function infoData(name: string, infos: readonly number[] = []): Uint8Array {
  const nameBytes = utf8(name);
  return concat(u32(nameBytes.length), nameBytes, u16(infos.length), ...infos.map(u16));
}

/** LIST/SET_META_CONTEXT option data: u32 name length, name, u32 count, (u32 length, query)*. */
export function metaContextData(name: string, queries: readonly string[]): Uint8Array {
  const nameBytes = utf8(name);
  const encoded = queries.map((query) => {
    const bytes = utf8(query);
    return concat(u32(bytes.length), bytes);
  });
  return concat(u32(nameBytes.length), nameBytes, u32(queries.length), ...encoded);
}

export interface RequestFields {
  type: number;
  flags?: number;
  cookie?: number | bigint;
  offset?: number | bigint;
  /** Defaults to the payload's length, or 0. */
  length?: number;
  /** WRITE data sent after the header. */
  payload?: Uint8Array;
  magic?: number;
}

/** An extended request header (32 bytes, 64-bit length), then the payload if any. */
export function wireExtendedRequest(
  fields: Omit<RequestFields, "length"> & { length?: number | bigint },
): Uint8Array {
  const payload = fields.payload ?? new Uint8Array(0);
  const length = u64(fields.length ?? payload.length);
  return concat(requestStart(fields, WIRE.EXTENDED_REQUEST), length, payload);
}

/** Magic, flags, type, cookie and offset: what both request headers begin with. */
function requestStart(fields: Omit<RequestFields, "length">, magic: number): Uint8Array {
  const { type, flags = 0, cookie = 0, offset = 0 } = fields;
  return concat(u32(fields.magic ?? magic), u16(flags), u16(type), u64(cookie), u64(offset));
}

/** A compact request header (28 bytes), then the payload if any. */
export function wireRequest(fields: RequestFields): Uint8Array {
  const payload = fields.payload ?? new Uint8Array(0);
  const length = u32(fields.length ?? payload.length);
  return concat(requestStart(fields, WIRE.REQUEST), length, payload);
}

// ---------------------------------------------------------------------------------------------
// What a server answers

/** A cursor over server bytes. */
export class ByteReader {
  readonly bytes: Uint8Array;
  at = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get left(): number {
    return this.bytes.length - this.at;
  }

  take(n: number): Uint8Array {
    if (n > this.left) throw new RangeError(`Cannot read ${n} bytes: only ${this.left} left`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u16(): number {
    const b = this.take(2);
    return (b[0] << 8) | b[1];
  }

  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }

  u64(): bigint {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  }
}

export interface Greeting {
  nbdmagic: bigint;
  ihaveopt: bigint;
  flags: number;
}

export function parseGreeting(bytes: Uint8Array): Greeting {
  const r = new ByteReader(bytes);
  return { nbdmagic: r.u64(), ihaveopt: r.u64(), flags: r.u16() };
}

export interface OptionReply {
  magic: bigint;
  option: number;
  type: number;
  data: Uint8Array;
}

export function parseOptionReply(r: ByteReader): OptionReply {
  const magic = r.u64();
  const option = r.u32();
  const type = r.u32();
  const data = r.take(r.u32());
  return { magic, option, type, data };
}

/** NBD_REP_INFO with NBD_INFO_EXPORT: size and transmission flags. */
export function parseInfoExport(data: Uint8Array): { info: number; size: bigint; flags: number } {
  const r = new ByteReader(data);
  return { info: r.u16(), size: r.u64(), flags: r.u16() };
}

/** NBD_REP_META_CONTEXT: context id and name. */
export function parseMetaContext(data: Uint8Array): { id: number; name: string } {
  const r = new ByteReader(data);
  return { id: r.u32(), name: new TextDecoder().decode(r.take(r.left)) };
}

export interface SimpleReply {
  kind: "simple";
  magic: number;
  error: number;
  cookie: bigint;
  /** Read data: present only for a successful READ. */
  data: Uint8Array;
}

export interface Chunk {
  kind: "chunk";
  magic: number;
  flags: number;
  type: number;
  cookie: bigint;
  payload: Uint8Array;
  /** Extended chunks only: the request's offset. */
  offset?: bigint;
}

export type Reply = SimpleReply | Chunk;

/** One reply; `readLength(cookie)` says how many data bytes follow a successful simple reply. */
export function parseReply(r: ByteReader, readLength: (cookie: bigint) => number): Reply {
  const magic = r.u32();
  if (magic === WIRE.SIMPLE_REPLY) {
    const error = r.u32();
    const cookie = r.u64();
    const data = r.take(error === 0 ? readLength(cookie) : 0);
    return { kind: "simple", magic, error, cookie, data };
  }
  if (magic === WIRE.STRUCTURED_REPLY) {
    const flags = r.u16();
    const type = r.u16();
    const cookie = r.u64();
    const payload = r.take(r.u32());
    return { kind: "chunk", magic, flags, type, cookie, payload };
  }
  if (magic === WIRE.EXTENDED_REPLY) {
    const flags = r.u16();
    const type = r.u16();
    const cookie = r.u64();
    const offset = r.u64();
    const payload = r.take(Number(r.u64()));
    return { kind: "chunk", magic, flags, type, cookie, payload, offset };
  }
  throw new Error(`Cannot parse reply: unknown magic 0x${magic.toString(16)}`);
}

/** OFFSET_DATA payload: offset, data. */
export function parseOffsetData(payload: Uint8Array): { offset: bigint; data: Uint8Array } {
  const r = new ByteReader(payload);
  return { offset: r.u64(), data: r.take(r.left) };
}

/** OFFSET_HOLE payload: offset, hole size. */
export function parseOffsetHole(payload: Uint8Array): { offset: bigint; size: number } {
  const r = new ByteReader(payload);
  return { offset: r.u64(), size: r.u32() };
}

/** ERROR payload: error, message. */
export function parseErrorChunk(payload: Uint8Array): { error: number; message: string } {
  const r = new ByteReader(payload);
  const error = r.u32();
  const message = new TextDecoder().decode(r.take(r.u16()));
  if (r.left !== 0) throw new Error(`ERROR chunk has ${r.left} trailing bytes`);
  return { error, message };
}

export interface Descriptor {
  length: number;
  status: number;
}

/** BLOCK_STATUS_EXT payload: context id, descriptor count, 64-bit descriptors. */
export function parseBlockStatusExt(
  payload: Uint8Array,
): { id: number; count: number; descriptors: { length: bigint; status: bigint }[] } {
  const r = new ByteReader(payload);
  const id = r.u32();
  const count = r.u32();
  const descriptors: { length: bigint; status: bigint }[] = [];
  while (r.left > 0) descriptors.push({ length: r.u64(), status: r.u64() });
  return { id, count, descriptors };
}

/** BLOCK_STATUS payload: context id, descriptors. */
export function parseBlockStatus(payload: Uint8Array): { id: number; descriptors: Descriptor[] } {
  const r = new ByteReader(payload);
  const id = r.u32();
  const descriptors: Descriptor[] = [];
  while (r.left > 0) descriptors.push({ length: r.u32(), status: r.u32() });
  return { id, descriptors };
}

/** The wire error of a reply, whether simple or an ERROR chunk; 0 for success. */
export function errorOf(reply: Reply): number {
  if (reply.kind === "simple") return reply.error;
  return reply.type & 0x8000 ? parseErrorChunk(reply.payload).error : 0;
}

// ---------------------------------------------------------------------------------------------
// Servers and in-memory connections

export interface TestServerOptions {
  threadModel?: ThreadModel;
  readonly?: boolean;
  noStructuredReplies?: boolean;
  noExtendedHeaders?: boolean;
  /** -o: the oldstyle handshake. */
  oldstyle?: boolean;
  verbose?: boolean;
  /** -D nbdkit.backend.controlpath and datapath: false turns those -v lines off. */
  controlpath?: boolean;
  datapath?: boolean;
  /** --tls as start-up left it; absent: a server without TLS. */
  tls?: TlsMode;
  /** maxPayload and handshakeTimeoutMs, as createServer takes them. */
  limits?: LimitOptions;
  timers?: Timers;
}

/** A Server around `plugin`, with its log lines collected in `logs`. */
export function testServer(
  plugin: Plugin,
  options: TestServerOptions = {},
): { server: Server; logs: string[] } {
  const logs: string[] = [];
  const { verbose = false, controlpath, datapath } = options;
  const log = new Log((line) => logs.push(line), { verbose, controlpath, datapath });
  const ctx = new ServerContext(plugin, options.threadModel ?? THREAD_MODEL.PARALLEL, {
    readonly: options.readonly ?? false,
    noStructuredReplies: options.noStructuredReplies ?? false,
    noExtendedHeaders: options.noExtendedHeaders,
    oldstyle: options.oldstyle,
    tls: options.tls,
    limits: resolveLimits(options.limits),
    timers: options.timers,
  }, log);
  return { server: new Server(ctx), logs };
}

/** One macrotask: lets timers, promises and queued microtasks run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Waits until `done()` holds, failing after `timeoutMs`. */
export async function waitFor(done: () => boolean, what: string, timeoutMs = 5000) {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await tick();
  }
}

/** A promise with its resolver, for writes that settle when the test says so. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The Channel a test hands to server.accept: it records what the session does to it. */
export class TestChannel implements Channel {
  readonly peer = "test";
  /** Every byte written, in order. */
  private out = new Uint8Array(1024);
  private outLength = 0;
  writes = 0;
  pauseCalls = 0;
  resumeCalls = 0;
  paused = false;
  closed = false;
  /** Bytes written after close() was called (there should be none). */
  writesAfterClose = 0;
  /**
   * Set by a test (before the client flags) to make the channel upgradable: called as the
   * runtime's STARTTLS would be. The test then goes on sending "decrypted" bytes in clear.
   */
  startTls?: (early: Uint8Array) => Promise<void>;
  /** What write() returns; a test sets it to hand out pending promises (backpressure). */
  onWrite: (parts: Uint8Array[]) => Promise<void> | undefined = () => undefined;
  /**
   * Set by a test (before GO) to promise `written` for every batch, as the runtimes do: a
   * plugin's lent bytes may then go out. Each `written` waits in `unconfirmed` for confirm().
   */
  confirmsWrites = false;
  unconfirmed: (() => void)[] = [];

  write(parts: Uint8Array[], written?: () => void): Promise<void> | undefined {
    this.writes++;
    if (this.closed) this.writesAfterClose++;
    for (const part of parts) this.append(part);
    if (written && this.confirmsWrites) this.unconfirmed.push(written);
    return this.onWrite(parts);
  }

  /** The runtime is done with every batch written so far. */
  confirm(): void {
    const written = this.unconfirmed;
    this.unconfirmed = [];
    for (const done of written) done();
  }

  pause(): void {
    this.pauseCalls++;
    this.paused = true;
  }

  resume(): void {
    this.resumeCalls++;
    this.paused = false;
  }

  close(): void {
    this.closed = true;
  }

  get length(): number {
    return this.outLength;
  }

  /** A view of bytes [from, to) written so far. */
  bytes(from = 0, to = this.outLength): Uint8Array {
    return this.out.subarray(from, to);
  }

  private append(part: Uint8Array): void {
    if (this.outLength + part.length > this.out.length) {
      let size = this.out.length * 2;
      while (size < this.outLength + part.length) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.out.subarray(0, this.outLength));
      this.out = grown;
    }
    this.out.set(part, this.outLength);
    this.outLength += part.length;
  }
}

export interface SendOptions {
  /** Deliver the bytes in chunks of this many bytes (1 = one data() call per byte). */
  split?: number;
}

export interface HandshakeOptions {
  /** Client flags; FIXED_NEWSTYLE | NO_ZEROES by default. */
  clientFlags?: number;
  structuredReplies?: boolean;
  /** NBD_OPT_EXTENDED_HEADERS before GO: requests and replies are extended from then on. */
  extendedHeaders?: boolean;
  /** SET_META_CONTEXT base:allocation before GO (needs structuredReplies or extendedHeaders). */
  baseAllocation?: boolean;
  exportName?: string;
}

/** One in-memory connection to a Server: push client bytes in, read server replies out. */
export class TestConnection {
  readonly channel = new TestChannel();
  readonly receiver: Receiver;
  /** Bytes of the server output already parsed by the read helpers. */
  position = 0;
  /** READ lengths by cookie, so a simple reply's data can be told apart from what follows. */
  private readonly readLengths = new Map<bigint, number>();

  constructor(server: Server) {
    this.receiver = server.accept(this.channel);
  }

  /** Server bytes not yet parsed. */
  get unread(): number {
    return this.channel.length - this.position;
  }

  send(bytes: Uint8Array, options: SendOptions = {}): void {
    const step = options.split ?? bytes.length;
    for (let at = 0; at < bytes.length; at += step) {
      this.receiver.data(bytes.slice(at, Math.min(at + step, bytes.length)));
    }
  }

  /** The client closes its side. */
  end(): void {
    this.receiver.end();
  }

  /** Sends a request and remembers a READ's length for parsing its reply. */
  request(fields: RequestFields, options: SendOptions = {}): void {
    if (fields.type === CMD.READ) {
      this.readLengths.set(BigInt(fields.cookie ?? 0), fields.length ?? 0);
    }
    this.send(wireRequest(fields), options);
  }

  async readBytes(n: number): Promise<Uint8Array> {
    await waitFor(() => this.unread >= n, `${n} bytes from the server (have ${this.unread})`);
    const out = this.channel.bytes(this.position, this.position + n).slice();
    this.position += n;
    return out;
  }

  async readGreeting(): Promise<Greeting> {
    return parseGreeting(await this.readBytes(18));
  }

  async readOptionReply(): Promise<OptionReply> {
    const header = await this.readBytes(20);
    const length = new ByteReader(header.subarray(16)).u32();
    return parseOptionReply(new ByteReader(concat(header, await this.readBytes(length))));
  }

  /** Option replies up to and including the final one (ACK or an error). */
  async readOptionReplies(): Promise<OptionReply[]> {
    const replies: OptionReply[] = [];
    for (;;) {
      const reply = await this.readOptionReply();
      replies.push(reply);
      const more = reply.type === REP.SERVER || reply.type === REP.INFO ||
        reply.type === REP.META_CONTEXT;
      if (!more) return replies;
    }
  }

  /** Sends an option and reads its replies. */
  async option(option: number, data?: Uint8Array): Promise<OptionReply[]> {
    this.send(wireOption(option, data));
    return await this.readOptionReplies();
  }

  async readReply(): Promise<Reply> {
    const header = await this.readBytes(4);
    const magic = new ByteReader(header).u32();
    let rest: Uint8Array;
    if (magic === WIRE.SIMPLE_REPLY) {
      rest = await this.readBytes(12);
      const error = new ByteReader(rest).u32();
      const cookie = new ByteReader(rest.subarray(4)).u64();
      if (error === 0) rest = concat(rest, await this.readBytes(this.readLengths.get(cookie) ?? 0));
    } else if (magic === WIRE.STRUCTURED_REPLY) {
      rest = await this.readBytes(16);
      rest = concat(rest, await this.readBytes(new ByteReader(rest.subarray(12)).u32()));
    } else if (magic === WIRE.EXTENDED_REPLY) {
      rest = await this.readBytes(28);
      rest = concat(rest, await this.readBytes(Number(new ByteReader(rest.subarray(20)).u64())));
    } else {
      throw new Error(`Cannot parse reply: unknown magic 0x${magic.toString(16)}`);
    }
    return parseReply(
      new ByteReader(concat(header, rest)),
      (cookie) => this.readLengths.get(cookie) ?? 0,
    );
  }

  /** Sends a request and reads one reply (which must be its own). */
  async roundTrip(fields: RequestFields, options: SendOptions = {}): Promise<Reply> {
    this.request(fields, options);
    const reply = await this.readReply();
    if (reply.cookie !== BigInt(fields.cookie ?? 0)) {
      throw new Error(`Reply for cookie ${reply.cookie}, expected ${fields.cookie ?? 0}`);
    }
    return reply;
  }

  /** Greeting, client flags, optional STRUCTURED_REPLY and SET_META_CONTEXT, then GO. */
  async handshake(options: HandshakeOptions = {}): Promise<{ size: bigint; flags: number }> {
    await this.readGreeting();
    const flags = HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES;
    this.send(wireClientFlags(options.clientFlags ?? flags));
    const name = options.exportName ?? "";
    if (options.structuredReplies) expectAck(await this.option(OPT.STRUCTURED_REPLY));
    if (options.extendedHeaders) expectAck(await this.option(OPT.EXTENDED_HEADERS));
    if (options.baseAllocation) {
      expectAck(
        await this.option(OPT.SET_META_CONTEXT, metaContextData(name, ["base:allocation"])),
      );
    }
    const replies = await this.option(OPT.GO, infoData(name));
    expectAck(replies);
    const exportInfo = replies.find((r) => r.type === REP.INFO && r.data[1] === INFO.EXPORT);
    if (!exportInfo) throw new Error("GO answered without NBD_INFO_EXPORT");
    const { size, flags: txFlags } = parseInfoExport(exportInfo.data);
    return { size, flags: txFlags };
  }

  /** Waits until the server closed the channel. */
  async closed(): Promise<void> {
    await waitFor(() => this.channel.closed, "the server to close the connection");
  }

  /** Lets the server run until nothing changes for a few turns. */
  async settle(turns = 5): Promise<void> {
    for (let i = 0; i < turns; i++) await tick();
  }
}

function expectAck(replies: OptionReply[]): void {
  const last = replies[replies.length - 1];
  if (last.type !== REP.ACK) {
    throw new Error(`Option ${last.option} answered 0x${last.type.toString(16)}, not ACK`);
  }
}

/** Opens an in-memory connection to `server`. */
export function connect(server: Server): TestConnection {
  return new TestConnection(server);
}

/** True when a structured chunk is the last of its reply. */
export function isDone(chunk: Chunk): boolean {
  return (chunk.flags & REPLY_FLAG.DONE) !== 0;
}
