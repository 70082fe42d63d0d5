/**
 * The info plugin (nbdkit-info-plugin(1)) serves what the server saw of the connection, as
 * nbdkit's tests read it back with nbdsh: the export name asked for (raw, or decoded from
 * base64), the client's address ("unix" on a Unix socket, "IP:PORT" over TCP), and clocks read
 * afresh on every read (12 bytes: seconds and microseconds, big-endian): the time of day, the
 * server's uptime, the connection's age. The disk is read-only; only the export-name modes allow
 * multi-conn.
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, expectSuccess, run } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Python reading the whole disk as hex, and its flags. */
const READ = `
report(data=bytes(h.pread(h.get_size(), 0)).hex() if h.get_size() else "",
       read_only=h.is_read_only(), multi_conn=h.can_multi_conn())
`;

const hex = (text: string | Uint8Array) => Buffer.from(text).toString("hex");

describe.each(servers)("the info plugin serves what the server saw ($name)", (server) => {
  test("mode=exportname (the default): the name asked for, as bytes", async (context) => {
    requireClients(context, "nbdsh");
    for (const name of ["hello", "", "héllo ✓ with spaces"]) {
      const result = await libnbd(
        server,
        ["info"],
        `h = connect(export=${JSON.stringify(name)})\n${READ}`,
      );
      expect(result).toEqual({ data: hex(name), read_only: true, multi_conn: true });
    }
  });

  test("mode=base64exportname: binary bytes sent as base64; bad base64 cannot be opened", async (context) => {
    requireClients(context, "nbdsh");
    const bytes = Uint8Array.of(0, 1, 2, 0xfe, 0xff, 0x55, 0xaa);
    const name = Buffer.from(bytes).toString("base64");
    const result = await libnbd(
      server,
      ["info", "base64exportname"],
      `h = connect(export="${name}")\n${READ}`,
    );
    expect(result).toEqual({ data: hex(bytes), read_only: true, multi_conn: true });
    const bad = await libnbd(
      server,
      ["info", "mode=base64-export-name"],
      `report(result=outcome(lambda: connect(export="not base64!")))`,
    );
    expect(bad.result).not.toBe("ok");
  });

  test("mode=address: 'unix' on a Unix socket, IP:PORT over TCP", async (context) => {
    requireClients(context, "nbdsh");
    const unix = await libnbd(server, ["info", "address"], `h = connect()\n${READ}`);
    expect(unix).toEqual({ data: hex("unix"), read_only: true, multi_conn: false });
    const background = await startServer(server, ["info", "mode=address"], {
      tcp: { host: "127.0.0.1" },
    });
    const { stdout } = expectSuccess(
      await run([
        "nbdsh",
        "-u",
        `nbd://127.0.0.1:${background.ports!.ipv4}/`,
        "-c",
        "print(h.pread(h.get_size(), 0).decode())",
      ]),
    );
    expect(stdout.trim()).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(Number(stdout.trim().split(":")[1])).not.toBe(background.ports!.ipv4);
  });

  test("time, uptime and conntime: clocks read afresh on every read", async (context) => {
    requireClients(context, "nbdsh");
    const clocks = async (mode: string) =>
      await libnbd(
        server,
        ["info", mode],
        `
        import struct, time
        h = connect()
        def read():
            s, us = struct.unpack(">qi", h.pread(12, 0))
            return s + us / 1e6
        first = read()
        time.sleep(0.2)
        report(size=h.get_size(), first=first, second=read(), now=time.time(),
               multi_conn=h.can_multi_conn())
      `,
      ) as { size: number; first: number; second: number; now: number; multi_conn: boolean };
    const time = await clocks("time");
    expect(time.size).toBe(12);
    expect(Math.abs(time.first - time.now)).toBeLessThan(5);
    expect(time.second - time.first).toBeGreaterThanOrEqual(0.19);
    expect(time.multi_conn).toBe(false);
    const uptime = await clocks("UPTIME");
    expect(uptime.first).toBeGreaterThan(0);
    expect(uptime.first).toBeLessThan(30);
    expect(uptime.second - uptime.first).toBeGreaterThanOrEqual(0.19);
    const conntime = await clocks("conntime");
    expect(conntime.first).toBeGreaterThanOrEqual(0);
    expect(conntime.first).toBeLessThan(uptime.first + 5);
    expect(conntime.second - conntime.first).toBeGreaterThanOrEqual(0.19);
  });

  test("an unknown mode or parameter is one line in nbdkit's words", async () => {
    const mode = await captive(server, ["info", "mode=sideways"], "true");
    expect(mode.status).toBe(1);
    expect(mode.stderr).toMatch(/error: unknown mode: 'sideways'/);
    const key = await captive(server, ["info", "colour=blue"], "true");
    expect(key.stderr).toMatch(/error: unknown parameter 'colour'/);
  });
});
