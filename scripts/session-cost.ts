/**
 * The cost of one request inside the server, without sockets or clients: a memory disk served
 * in-process, fed batches of requests as a client at queue depth 32 would send them, and timed
 * per request. For profiling the request path (with --cpu-prof, perf or callgrind) and comparing
 * commits; not a benchmark against nbdkit (that is scripts/bench.mjs).
 *
 *   node_modules/.bin/deno run -A scripts/session-cost.ts [write|read|trim] [rounds]
 *   node_modules/.bin/bun scripts/session-cost.ts write 20000
 *   npx esbuild --bundle --platform=node --format=esm scripts/session-cost.ts > /tmp/cost.mjs && node /tmp/cost.mjs
 */

import type { Channel } from "../src/io.ts";
import { createMemoryPlugin } from "../src/plugins/memory.ts";
import { CMD, HANDSHAKE_FLAG, OPT } from "../src/protocol/constants.ts";
import {
  concat,
  infoData,
  testServer,
  wireClientFlags,
  wireOption,
  wireRequest,
} from "../test/helpers/wire.ts";

const QUEUE_DEPTH = 32;
const BLOCK = 4096;
const DISK = 1 << 30;

const [workload = "write", roundsText = "10000"] = (globalThis as { process?: { argv: string[] } })
  .process?.argv.slice(2) ?? [];
const rounds = Number(roundsText);

const plugin = createMemoryPlugin();
plugin.config!("size", String(DISK));
plugin.configComplete!();
const { server } = testServer(plugin);

let received = 0;
let wanted = Infinity;
let arrived: (() => void) | undefined;
const channel: Channel = {
  peer: "cost",
  write(parts, written) {
    for (const part of parts) received += part.length;
    written?.();
    if (received >= wanted) arrived?.();
    return undefined;
  },
  pause() {},
  resume() {},
  close() {},
};
const session = server.accept(channel);

/** Feeds `bytes` and waits until `replyBytes` more bytes have been written back. */
function exchange(bytes: Uint8Array, replyBytes: number): Promise<void> {
  received = 0;
  wanted = replyBytes;
  const done = new Promise<void>((resolve) => (arrived = resolve));
  session.data(bytes);
  return done;
}

const handshake = [
  wireClientFlags(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES),
  wireOption(OPT.STRUCTURED_REPLY),
  wireOption(OPT.GO, infoData("")),
];
// Greeting 18, STRUCTURED_REPLY ack 20, GO: INFO_EXPORT (20 + 12) and ACK (20).
await exchange(concat(...handshake), 20 + 32 + 20);

const random = new Uint8Array(BLOCK).map((_, i) => (i * 131 + 7) & 255);
const type = workload === "read" ? CMD.READ : workload === "trim" ? CMD.TRIM : CMD.WRITE;
const replySize = type === CMD.READ ? 20 + 8 + BLOCK : 16;
let cookie = 0;
const batches = Array.from(
  { length: 64 },
  () =>
    concat(...Array.from({ length: QUEUE_DEPTH }, () => {
      const offset = Math.floor(Math.random() * (DISK / BLOCK)) * BLOCK;
      return wireRequest({
        type,
        cookie: ++cookie,
        offset,
        length: BLOCK,
        payload: type === CMD.WRITE ? random : undefined,
      });
    })),
);
// Reads of written pages: fill the disk where the read batches look.
if (type !== CMD.WRITE) {
  for (const batch of batches) await exchange(rewrite(batch, CMD.WRITE), QUEUE_DEPTH * 16);
}

for (let i = 0; i < rounds / 10; i++) await exchange(batches[i % 64], QUEUE_DEPTH * replySize);
const start = performance.now();
for (let i = 0; i < rounds; i++) await exchange(batches[i % 64], QUEUE_DEPTH * replySize);
const ns = (performance.now() - start) * 1e6 / (rounds * QUEUE_DEPTH);
console.log(`${workload}: ${ns.toFixed(0)} ns per request (${rounds} rounds of ${QUEUE_DEPTH})`);

/** The same requests as WRITEs of the random block, to fill what they read or trim. */
function rewrite(batch: Uint8Array, as: number): Uint8Array {
  const out: Uint8Array[] = [];
  for (let at = 0; at < batch.length; at += 28) {
    const view = new DataView(batch.buffer, batch.byteOffset + at, 28);
    out.push(wireRequest({
      type: as,
      cookie: view.getBigUint64(8),
      offset: view.getBigUint64(16),
      length: BLOCK,
      payload: random,
    }));
  }
  return concat(...out);
}
