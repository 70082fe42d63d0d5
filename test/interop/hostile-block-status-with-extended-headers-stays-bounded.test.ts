/**
 * A hostile client of extended headers asks for block status without bound, the class of
 * libnbd's CVE-2023-5871 (a crash in the BLOCK_STATUS_EXT reply path): whole-disk lengths on a
 * disk of a quarter million extents, 64-bit lengths at 2^63 and 2^64 - 1, payloads naming every
 * context id up to the server's bound and past it, a hundred requests at once, and replies left
 * unread for a while. The server must answer each request once, each reply with at most
 * qemu-nbd's cap of 131072 descriptors (2 MiB), grow its resident memory by less than a bound,
 * and serve another client meanwhile. Before the fix every request in flight held a full extent
 * list: the other client waited out its timeout, and on a larger disk Node died out of memory
 * (test/protocol/limits.test.ts proves the same bound for compact requests without a socket).
 * nbdkit has no extended headers (its protocol manual says "Not supported"): this runs against
 * nbdts alone.
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { peakResidentBytes, residentBytes } from "../helpers/fault-plugin.ts";
import { bytes, RawConnection, u32, u64 } from "../helpers/raw-nbd.ts";
import {
  blockStatusExt,
  chunkError,
  EXT,
  extendedRequest,
  goExtended,
  readExtendedChunk,
} from "../helpers/raw-extended.ts";
import { type Server, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));

const MiB = 1024 * 1024;
const SIZE = 2n * 1024n * BigInt(MiB);
/** Runs of about one 4 KiB block each: some 260 000 extents over the disk. */
const DISK = ["sparse-random", String(SIZE), "runlength=4096", "percent=50"];
const EINVAL = 22;
/** What the server may grow by: a few extent lists in flight, not a hundred. */
const GROWTH_BOUND = 384 * MiB;

/** One reply, as read here. */
interface Answer {
  cookie: bigint;
  error: number;
  contextId?: number;
  descriptors: number;
  /** Bytes the descriptors describe. */
  described: bigint;
  payloadLength: number;
}

/** How the client speaks: negotiation, the requests and reading a reply. */
interface Shape {
  readonly maxDescriptors: number;
  negotiate(connection: RawConnection): Promise<number>;
  requests(contextId: number): Map<bigint, { wire: Uint8Array; error: number }>;
  read(connection: RawConnection): Promise<Answer>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Requests numbered as they are added, each with the error it must get (0: a status reply). */
function requestList() {
  const out = new Map<bigint, { wire: Uint8Array; error: number }>();
  const add = (wire: (cookie: bigint) => Uint8Array, error: number) => {
    const cookie = BigInt(out.size + 1) << 32n | 0xb5n;
    out.set(cookie, { wire: wire(cookie), error });
  };
  return { out, add };
}

/** Extended headers: 64-bit lengths, context ids in a payload, BLOCK_STATUS_EXT replies. */
const extended: Shape = {
  maxDescriptors: 128 * 1024,
  async negotiate(connection) {
    const { contextId, flags } = await goExtended(connection, { baseAllocation: true });
    expect(flags & EXT.TX_FLAG_BLOCK_STATUS_PAYLOAD).toBeTruthy();
    return contextId;
  },
  requests(contextId) {
    const { out, add } = requestList();
    const status = (length: bigint, offset = 0n) => (cookie: bigint) =>
      extendedRequest({ type: EXT.CMD_BLOCK_STATUS, cookie, offset, length });
    const withIds = (effect: bigint, ids: readonly number[]) => (cookie: bigint) =>
      extendedRequest(
        { type: EXT.CMD_BLOCK_STATUS, cookie, flags: EXT.FLAG_PAYLOAD_LEN },
        bytes(u64(effect), ...ids.map(u32)),
      );
    const every = Array.from({ length: 4096 }, (_, id) => id);
    for (let i = 0; i < 64; i++) add(status(SIZE), 0); // the whole disk, as many as may run
    for (let i = 0; i < 8; i++) add(withIds(SIZE, [contextId]), 0);
    for (const length of [1n << 63n, (1n << 64n) - 1n, SIZE + 1n]) add(status(length), EINVAL);
    add(status(1n, SIZE - 1n), 0);
    for (const effect of [1n << 63n, (1n << 64n) - 1n]) add(withIds(effect, [contextId]), EINVAL);
    add(withIds(SIZE, every), EINVAL); // every id the server keeps: unknown ones among them
    add(withIds(SIZE, [...every, ...every]), EINVAL); // past its bound: read and thrown away
    add(withIds(SIZE, [contextId, contextId]), EINVAL);
    for (let i = 0; i < 16; i++) add(status(SIZE), 0);
    return out;
  },
  async read(connection) {
    const chunk = await readExtendedChunk(connection, 8 + 16 * this.maxDescriptors, 60_000);
    expect(chunk.magic).toBe(EXT.REPLY_MAGIC);
    expect(chunk.flags).toBe(EXT.REPLY_FLAG_DONE);
    const error = chunkError(chunk);
    const answer = { cookie: chunk.cookie, error, payloadLength: chunk.payload.length };
    if (error !== 0) return { ...answer, descriptors: 0, described: 0n };
    expect(chunk.type).toBe(EXT.REPLY_BLOCK_STATUS_EXT);
    const { id, count, descriptors } = blockStatusExt(chunk.payload);
    expect(count).toBe(descriptors.length);
    const described = descriptors.reduce((sum, d) => sum + d.length, 0n);
    return { ...answer, contextId: id, descriptors: count, described };
  },
};

/** The test: hostile requests at once, others served meanwhile, every answer and RSS checked. */
async function hostileBlockStatus(server: Server, shape: Shape): Promise<void> {
  const background = await startServer(server, DISK);
  const pid = Number(readFileSync(background.pidFile, "utf8"));
  const before = residentBytes(pid);

  const hostile = await RawConnection.open(background.socket);
  await hostile.greet();
  const contextId = await shape.negotiate(hostile);
  const requests = shape.requests(contextId);
  hostile.pauseReading();
  hostile.write(bytes(...[...requests.values()].map((r) => r.wire)));

  // Meanwhile, with the hostile client's replies unread, another client is served.
  await sleep(1000);
  const other = await RawConnection.opened(background.socket);
  expect(await other.readWorks()).toBe(true);
  other.close();

  hostile.resumeReading();
  const answered = new Set<bigint>();
  let most = 0;
  for (let n = 0; n < requests.size; n++) {
    const answer = await shape.read(hostile);
    const sent = requests.get(answer.cookie);
    expect(sent, `a reply to cookie ${answer.cookie}, sent once`).toBeDefined();
    expect(answered.has(answer.cookie), `cookie ${answer.cookie} answered twice`).toBe(false);
    answered.add(answer.cookie);
    expect(answer.error, `cookie ${answer.cookie}`).toBe(sent!.error);
    if (answer.error !== 0) continue;
    expect(answer.contextId).toBe(contextId);
    expect(answer.descriptors).toBeGreaterThanOrEqual(1);
    expect(answer.descriptors).toBeLessThanOrEqual(shape.maxDescriptors);
    expect(answer.described <= SIZE).toBe(true);
    most = Math.max(most, answer.descriptors);
  }
  expect(answered.size).toBe(requests.size);
  // The disk's extents outnumber a reply's cap: that reply was full.
  expect(most).toBe(shape.maxDescriptors);

  const grown = peakResidentBytes(pid) - before;
  console.log(`${server.name}: peak RSS ${(grown / MiB).toFixed(0)} MiB over the idle server`);
  expect(grown).toBeLessThan(GROWTH_BOUND);
  hostile.close();
  expect(await (await RawConnection.opened(background.socket)).readWorks()).toBe(true);
}

if (ours.length === 0) test.skip("extended headers: no nbdts server is selected", () => {});

describe.each(ours)("hostile block status, extended headers ($name)", (server) => {
  test(
    "a hundred whole-disk and malformed requests at once: every reply bounded, memory bounded, others served",
    () => hostileBlockStatus(server, extended),
    180_000,
  );
});
