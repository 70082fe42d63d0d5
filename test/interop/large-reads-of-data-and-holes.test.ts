/**
 * 1 MiB READs of a memory disk where data and holes interleave return exactly what was written
 * (with and without structured replies, and over TLS); READs racing TRIMs of the same range and
 * WRITEs elsewhere return, for each byte, its own value or zero, never another offset's;
 * and once the READs are answered or their client is gone, trimmed pages are holes again.
 * (nbdts sends such replies straight from the disk's pages, pinned while they are queued.)
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

/** Python: a model of the disk, filled with data runs and holes, and 1 MiB reads checked on it. */
const MIXED_DISK = dedent(`
MiB = 1024 * 1024
model = bytearray(8 * MiB)
def put(h, offset, data):
    h.pwrite(data, offset)
    model[offset:offset + len(data)] = data
def fill(h):
    put(h, 0, os.urandom(MiB))                     # a whole read of data
    put(h, MiB + 12345, os.urandom(70000))         # data inside a hole, unaligned
    for page in range(2 * 256, 3 * 256, 3):        # every third page
        put(h, page * 4096, os.urandom(4096))
    put(h, 5 * MiB - 100, os.urandom(200))         # across a MiB boundary
def reads_match(h):
    offsets = [0, MiB, 2 * MiB, 3 * MiB, 4 * MiB + 4000, 5 * MiB - 4096 * 3 - 1, 7 * MiB]
    return [bytes(h.pread(MiB, at)) == bytes(model[at:at + MiB]) for at in offsets]
`);

/** Python: waits until [0, length) of the disk is one hole in base:allocation. */
const HOLE_AGAIN = dedent(`
import time
def hole_again(h, length):
    deadline = time.time() + 10
    while True:
        found = extents(h, length, 0)
        if found == [[length, 3]] or time.time() > deadline:
            return found
        time.sleep(0.05)
`);

const withBlockStatus = "lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)";

describe.each(servers)("large reads of data and holes ($name)", (server) => {
  test("1 MiB reads return the written bytes and zeroes, with and without structured replies", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      MIXED_DISK + dedent(`
      h = connect()
      fill(h)
      simple = connect(lambda h: h.set_request_structured_replies(False))
      report(structured=h.get_structured_replies_negotiated(), sr=reads_match(h),
             simple=simple.get_structured_replies_negotiated(), plain=reads_match(simple))
      `),
    );
    expect(result).toEqual({
      structured: true,
      sr: Array(7).fill(true),
      simple: false,
      plain: Array(7).fill(true),
    });
  });

  test("reads racing trims of their range and writes elsewhere show their own bytes or zeroes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "16M"],
      `
      MiB = 1024 * 1024
      def stamped(offset, length, tag):
          # Each 8-byte word holds its own offset and a tag: a page from elsewhere cannot match.
          return b"".join((tag << 56 | (offset + i)).to_bytes(8, "big") for i in range(0, length, 8))
      h = connect()
      bad = 0
      for round in range(12):
          h.pwrite(stamped(0, 2 * MiB, 1), 0)
          reads = [nbd.Buffer(MiB) for _ in range(3)]
          for at, buf in zip((0, MiB, 0), reads):
              h.aio_pread(buf, at)
          h.aio_trim(2 * MiB, 0)
          h.aio_pwrite(stamped(8 * MiB, 2 * MiB, 2), 8 * MiB)   # may reuse freed pages
          while h.aio_in_flight() > 0:
              h.poll(-1)
          for at, buf in zip((0, MiB, 0), reads):
              got = bytes(buf.to_bytearray())
              want = stamped(at, MiB, 1)
              for p in range(0, MiB, 4096):
                  page = got[p:p + 4096]
                  if page != want[p:p + 4096] and page != bytes(4096):
                      # Torn between its bytes and zeroes is allowed (a reply may be partly sent
                      # when the trim runs); a byte that is neither came from elsewhere.
                      bad += any(b != 0 and b != w for b, w in zip(page, want[p:p + 4096]))
          h.trim(16 * MiB, 0)
      report(bad=bad)
      `,
    );
    expect(result).toEqual({ bad: 0 });
  });

  test("over TLS, 1 MiB reads return the written bytes, and trimmed pages are holes after", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      MIXED_DISK + HOLE_AGAIN + dedent(`
      h = nbd.NBD()
      h.set_uri_allow_local_file(True)
      h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
      h.connect_uri("nbds+unix:///?socket=%s&tls-certificates=%s" % (unixsocket, ${
        JSON.stringify(pki.clientDir)
      }))
      fill(h)
      same = reads_match(h)
      h.trim(8 * MiB, 0)
      report(tls=h.get_tls_negotiated(), same=same, map=hole_again(h, 8 * MiB))
      `),
      { serverOptions: ["--tls=require", `--tls-certificates=${pki.serverDir}`] },
    );
    expect(result).toEqual({ tls: true, same: Array(7).fill(true), map: [[8388608, 3]] });
  });

  test("a client that leaves with 1 MiB replies unread keeps no pages from being freed", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["memory", "8M"],
      HOLE_AGAIN + dedent(`
      MiB = 1024 * 1024
      first = connect()
      first.pwrite(os.urandom(8 * MiB), 0)
      buffers = [nbd.Buffer(MiB) for _ in range(32)]
      for i, buf in enumerate(buffers):
          first.aio_pread(buf, i % 8 * MiB)
      first.poll(0)
      first.shutdown()    # gone with up to 32 MiB of replies not read
      second = connect(${withBlockStatus})
      second.trim(8 * MiB, 0)
      report(map=hole_again(second, 8 * MiB))
      `),
    );
    expect(result).toEqual({ map: [[8388608, 3]] });
  });
});
