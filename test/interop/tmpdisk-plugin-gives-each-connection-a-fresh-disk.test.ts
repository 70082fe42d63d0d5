/**
 * The tmpdisk plugin (nbdkit-tmpdisk-plugin(1)): each connection gets a disk of its own, made
 * when it connects by mkfs (ext4 by default) or by `command=`, a shell fragment that sees $disk,
 * $size and every other parameter as a shell variable; the disk is unlinked at once, so it is
 * gone from $TMPDIR while the client uses it and with it when it leaves.
 */

import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { captive, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const GREETING =
  `command=truncate -s $size "$disk"; printf %s "$greeting" | dd of="$disk" conv=notrunc status=none`;

describe.each(servers)(
  "the tmpdisk plugin gives each connection a fresh disk ($name)",
  (server) => {
    test("by default an ext4 file system of the size asked for", async (context) => {
      requireClients(context, "nbdsh", "mkfs.ext4");
      const tmpdir = scratchDir();
      const result = await libnbd(
        server,
        ["tmpdisk", "16M"],
        `
      import os
      h = connect()
      report(size=h.get_size(), magic=bytes(h.pread(2, 1080)).hex(), trim=h.can_trim(),
             multi_conn=h.can_multi_conn(), left=os.listdir(os.environ["TMPDIR"]))
    `,
        { env: { TMPDIR: tmpdir } },
      );
      expect(result).toEqual({
        size: 16 << 20,
        magic: "53ef",
        trim: true,
        multi_conn: false,
        left: [],
      });
      expect(readdirSync(tmpdir)).toEqual([]);
    });

    test("command= sees $disk, $size and the other parameters; each connection has its own disk", async (context) => {
      requireClients(context, "nbdsh");
      const result = await libnbd(
        server,
        ["tmpdisk", "size=1M", GREETING, "greeting=it's $me"],
        `
      a = connect()
      b = connect()
      a.pwrite(b"mine", 100)
      report(size=a.get_size(), a=bytes(a.pread(104, 0)).decode(errors="replace"),
             b=bytes(b.pread(104, 0)).decode(errors="replace"))
    `,
        { env: { TMPDIR: scratchDir() } },
      );
      const fresh = "it's $me".padEnd(100, "\0");
      expect(result).toEqual({ size: 1 << 20, a: `${fresh}mine`, b: `${fresh}\0\0\0\0` });
    });

    test("a command that fails fails the connection; size is required and disk= refused", async (context) => {
      requireClients(context, "nbdinfo");
      const failed = await captive(
        server,
        ["tmpdisk", "1M", "command=exit 3"],
        'nbdinfo --size "$uri"',
        {
          env: { TMPDIR: scratchDir() },
        },
      );
      expect(failed.status).not.toBe(0);
      expect(failed.stderr).toMatch(/command exited with code 3/);
      const sizeless = await captive(server, ["tmpdisk", "type=ext4"], "true");
      expect(sizeless.stderr).toMatch(/error: size parameter is required/);
      const disk = await captive(server, ["tmpdisk", "1M", "disk=/x"], "true");
      expect(disk.stderr).toMatch(/error: 'disk' parameter cannot be set on the command line/);
    });
  },
);
