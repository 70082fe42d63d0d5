/**
 * The nbd plugin serves what another NBD server serves: writes reach it, reads, zeroes and trims
 * come back as it answers them, its map and its flags pass through unchanged. The server behind
 * is nbdkit's memory plugin or qemu-nbd; in front is each nbdts runtime, and nbdkit's own nbd
 * plugin as the oracle.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { startNbdkitBackend } from "../helpers/nbd-backend.ts";
import { startQemuNbd } from "../helpers/qemu-nbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Writes, zeroes and trims through the proxy, then what the proxy and the server each show. */
const BODY = `
  direct = nbd.NBD()
  direct.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
  direct.connect_uri(os.environ["backend"])
  h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
  h.pwrite(bytes(range(256)) * 256, 0, nbd.CMD_FLAG_FUA if h.can_fua() else 0)
  h.zero(65536, 131072)
  h.pwrite(b"\\xaa" * 4096, 262144)
  h.trim(4096, 262144)
  h.flush()
  flags = ["is_read_only", "can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero",
           "can_multi_conn", "can_cache", "is_rotational", "can_df"]
  report(
    proxied=h.pread(65536, 0) == bytes(range(256)) * 256,
    behind=direct.pread(65536, 0) == bytes(range(256)) * 256,
    zeroed=h.pread(65536, 131072) == bytes(65536),
    size=h.get_size(),
    same_size=h.get_size() == direct.get_size(),
    flags={name: getattr(h, name)() for name in flags},
    direct_flags={name: getattr(direct, name)() for name in flags},
    map=extents(h, h.get_size(), 0),
    direct_map=extents(direct, direct.get_size(), 0),
    meta=h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
  )
`;

type Seen = {
  proxied: boolean;
  behind: boolean;
  zeroed: boolean;
  size: number;
  flags: Record<string, boolean>;
  direct_flags: Record<string, boolean>;
  map: number[][];
  direct_map: number[][];
  meta: boolean;
};

describe.each(servers)("nbd plugin ($name)", (server) => {
  test("proxies nbdkit's memory plugin: bytes, flags and map as the server has them", async (context) => {
    requireClients(context, "python3");
    const backend = await startNbdkitBackend(["memory", "1M"]);
    const seen = await libnbd<Seen>(server, ["nbd", `socket=${backend.socket}`], BODY, {
      env: { backend: backend.uri },
    });
    expect(seen).toMatchObject({ proxied: true, behind: true, zeroed: true, size: 1048576 });
    expect(seen.meta).toBe(true);
    expect(seen.flags).toEqual(seen.direct_flags);
    expect(seen.map).toEqual(seen.direct_map);
  });

  test("proxies qemu-nbd by uri=: bytes, flags and map as qemu-nbd has them", async (context) => {
    requireClients(context, "python3", "qemu-nbd");
    const qemu = await startQemuNbd(1048576);
    const seen = await libnbd<Seen>(server, ["nbd", qemu.uri], BODY, {
      env: { backend: qemu.uri },
    });
    expect(seen).toMatchObject({ proxied: true, behind: true, zeroed: true, size: 1048576 });
    expect(seen.flags).toEqual(seen.direct_flags);
    expect(seen.map).toEqual(seen.direct_map);
  });
});
