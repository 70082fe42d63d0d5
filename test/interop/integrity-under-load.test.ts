/**
 * Integrity under load (issue "Hardening", part 4): many connections, each with many writes
 * in flight, FUA on some and flushes among them, fill a memory disk with seeded random data;
 * a fresh connection then reads every byte back. Nothing acknowledged may be lost or torn.
 */

import { describe, expect, test } from "vitest";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { AIO_PRELUDE } from "../helpers/libnbd-aio.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Connections × writes in flight on each × mean write size: 64 × 32 × 8 KiB = 16 MiB a round. */
const CONNECTIONS = 64;
const DEPTH = 32;
const MEAN_WRITE = 65536;
const DISK = CONNECTIONS * DEPTH * MEAN_WRITE;

interface Verified {
  /** Bytes read back from a fresh connection that differ from what was acknowledged. */
  bad_bytes: number;
  /** The first few differing reads: [offset, length, first bad byte's offset]. */
  bad_reads: number[][];
  sha256: string;
  expected_sha256: string;
  bytes_verified: number;
}

interface Report {
  failures: string[];
  peak_in_flight: number;
  writes: number;
  flushes: number;
  fua_writes: number;
  bytes_written: number;
  rounds: Verified[];
}

describe.each(servers)("integrity under load ($name)", (server) => {
  test(
    `${CONNECTIONS} connections with ${DEPTH} writes each in flight, FUA and flushes among them, lose and tear nothing`,
    async (context) => {
      requireClients(context, "nbdsh");
      const result = await libnbd<Report & Record<string, unknown>>(
        server,
        ["memory", String(DISK)],
        dedent(AIO_PRELUDE) + dedent(`
        C = ${CONNECTIONS}
        DEPTH = ${DEPTH}
        SIZE = ${DISK}
        handles = [connect() for _ in range(C)]
        expected = bytearray(SIZE)  # a new memory disk reads as zeroes
        failures = []
        totals = {"writes": 0, "flushes": 0, "fua_writes": 0, "bytes_written": 0, "peak": 0}

        def partition(seed, count):
            # count pieces covering the disk, each within ±1/4 of the mean and none aligned,
            # so neighbouring writes from different connections share pages.
            mean = SIZE // count
            shake = random.Random(seed)
            cuts = [0] + [i * mean + shake.randrange(-mean // 4, mean // 4) for i in range(1, count)] + [SIZE]
            return [(cuts[i], cuts[i + 1] - cuts[i]) for i in range(count)]

        def write_round(round_no, pieces, owner):
            # Piece i goes to connection owner(i); every connection queues all its writes at
            # once, so DEPTH writes (and their flushes) are in flight on each.
            queues = [[] for _ in range(C)]
            for i, piece in enumerate(pieces):
                queues[owner(i)].append(piece)
            buffers, cookies = [[] for _ in range(C)], [[] for _ in range(C)]
            for depth in range(max(len(q) for q in queues)):
                for c in range(C):
                    if depth >= len(queues[c]):
                        continue
                    offset, length = queues[c][depth]
                    data = payload(round_no, c, offset, length=length)
                    expected[offset:offset + length] = data
                    fua = depth % 4 == 3
                    buffers[c].append(nbd.Buffer.from_bytearray(bytearray(data)))
                    cookies[c].append(handles[c].aio_pwrite(buffers[c][-1], offset, flags=nbd.CMD_FLAG_FUA if fua else 0))
                    totals["writes"] += 1
                    totals["fua_writes"] += fua
                    totals["bytes_written"] += length
                    if depth % 8 == 5:
                        cookies[c].append(handles[c].aio_flush())
                        totals["flushes"] += 1
            totals["peak"] = max(totals["peak"], sum(h.aio_in_flight() for h in handles))
            pump(handles)
            for c in range(C):
                failures.extend(retire(handles[c], cookies[c]))

        def verify():
            # A connection opened after every write was acknowledged reads the whole disk,
            # 1 MiB requests all in flight together, and compares every byte.
            v = connect()
            chunk = 1 << 20
            reads = [(offset, min(chunk, SIZE - offset), nbd.Buffer(min(chunk, SIZE - offset))) for offset in range(0, SIZE, chunk)]
            cookies = [v.aio_pread(buf, offset) for offset, length, buf in reads]
            pump([v])
            failures.extend(retire(v, cookies))
            image = bytearray()
            bad_bytes, bad_reads = 0, []
            for offset, length, buf in reads:
                got = buf.to_bytearray()
                image += got
                want = expected[offset:offset + length]
                if got != want:
                    bad_bytes += sum(1 for a, b in zip(got, want) if a != b)
                    if len(bad_reads) < 5:
                        bad_reads.append([offset, length, offset + first_difference(got, want)])
            v.shutdown()
            return {"bad_bytes": bad_bytes, "bad_reads": bad_reads, "bytes_verified": len(image),
                    "sha256": hashlib.sha256(image).hexdigest(),
                    "expected_sha256": hashlib.sha256(expected).hexdigest()}

        rounds = []
        # Round 1 writes every byte, neighbouring pieces from neighbouring connections.
        write_round(1, partition("round 1", C * DEPTH), lambda i: i % C)
        rounds.append(verify())
        # Round 2 overwrites two pieces in three over a different partition, so its writes
        # straddle round 1's boundaries, owned by connections in another order.
        pieces = [piece for i, piece in enumerate(partition("round 2", C * DEPTH * 3 // 2)) if i % 3 != 0]
        write_round(2, pieces, lambda i: (i * 7 + 3) % C)
        rounds.append(verify())
        for h in handles:
            h.shutdown()
        report(failures=failures[:10], peak_in_flight=totals["peak"], writes=totals["writes"],
               flushes=totals["flushes"], fua_writes=totals["fua_writes"],
               bytes_written=totals["bytes_written"], rounds=rounds)
      `),
      );
      console.log(
        `integrity under load (${server.name}): ${result.writes} writes (${result.fua_writes} FUA, ` +
          `${result.flushes} flushes), ${result.bytes_written} bytes written, ` +
          `${result.rounds.map((round) => round.bytes_verified).join(" + ")} bytes verified, ` +
          `peak ${result.peak_in_flight} in flight`,
      );
      expect(result.failures).toEqual([]);
      expect(result.peak_in_flight).toBeGreaterThanOrEqual(CONNECTIONS * DEPTH);
      for (const round of result.rounds) {
        expect(round).toMatchObject({ bad_bytes: 0, bad_reads: [], bytes_verified: DISK });
        expect(round.sha256).toBe(round.expected_sha256);
      }
    },
  );
});
