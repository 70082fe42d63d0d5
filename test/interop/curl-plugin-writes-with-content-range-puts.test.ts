/**
 * curl without -r: a write is a PUT of its bytes with `Content-Range: bytes A-B/…`, as nbdkit's
 * curl plugin sends it. A web server that takes such PUTs gets the bytes in place; one that
 * refuses them (405) fails that write with EIO and the export goes on serving reads.
 */

import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { startHttpDisk } from "../helpers/http-disk-server.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("curl plugin writes with Content-Range PUTs ($name)", (server) => {
  test("writes and zeroes land in the server's file and read back", async (context) => {
    requireClients(context, "python3");
    const image = randomBytes(256 * 1024);
    const before = Buffer.from(image);
    const web = await startHttpDisk(image, { writable: true });
    const reported = await libnbd(
      server,
      ["curl", web.url],
      `
      h = connect()
      h.pwrite(b"\\xab" * 4096, 8192)
      h.pwrite(b"tail", 256 * 1024 - 4)
      h.zero(1000, 70000)
      report(
        read=h.pread(4096, 8192).hex(), tail=h.pread(4, 256 * 1024 - 4).decode(),
        zeroed=h.pread(1000, 70000).hex(), read_only=h.is_read_only(),
        flush=h.can_flush(), trim=h.can_trim(), multi_conn=h.can_multi_conn(),
      )
      `,
    );
    expect(reported).toEqual({
      read: "ab".repeat(4096),
      tail: "tail",
      zeroed: "00".repeat(1000),
      read_only: false,
      flush: false,
      trim: false,
      multi_conn: false,
    });
    const expected = Buffer.from(before);
    expected.fill(0xab, 8192, 8192 + 4096);
    expected.write("tail", 256 * 1024 - 4);
    expected.fill(0, 70000, 71000);
    expect(Buffer.from(web.data).equals(expected)).toBe(true);
    const puts = web.requests.filter((request) => request.method === "PUT");
    expect(puts.length).toBeGreaterThanOrEqual(3);
    expect(puts[0].headers["content-range"]).toMatch(/^bytes 8192-\d+\/(\*|-1)$/);
  });

  test("a server refusing PUT fails the write with EIO and reads go on", async (context) => {
    requireClients(context, "python3");
    const image = randomBytes(64 * 1024);
    const web = await startHttpDisk(image);
    const reported = await libnbd(
      server,
      ["curl", web.url],
      `
      h = connect()
      report(write=outcome(lambda: h.pwrite(b"x" * 512, 0)), read=h.pread(16, 0).hex())
      `,
    );
    expect(reported).toEqual({ write: "EIO", read: image.subarray(0, 16).toString("hex") });
  });

  test("with -r the export is read-only and nothing is PUT", async (context) => {
    requireClients(context, "python3");
    const web = await startHttpDisk(randomBytes(4096), { writable: true });
    const reported = await libnbd(
      server,
      ["-r", "curl", web.url],
      `
      h = connect()
      report(read_only=h.is_read_only(), write=outcome(lambda: h.pwrite(b"x", 0)))
      `,
    );
    expect(reported).toEqual({ read_only: true, write: "EPERM" });
    expect(web.requests.some((request) => request.method === "PUT")).toBe(false);
  });
});
