/**
 * --filter=evil (man nbdkit-evil-filter): reads are corrupted, writes are not. cosmic-rays
 * flips random bits; stuck-bits sticks bits of the disk, the same on every read however it is
 * aligned; stuck-wires sticks bits of every request, wherever it reads. nbdkit 1.32.5 lacks
 * this filter (it came in nbdkit 1.36), so these tests follow its manual and run against nbdts
 * alone. The disk is zeroes, so a stuck-high or flipped bit shows as a 1.
 */

import { describe, expect, test } from "vitest";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name !== "nbdkit");

if (ours.length === 0) test.skip("evil filter: no nbdts server is selected", () => {});

/** Python: how many 1 bits a read holds. */
const BITS = "def bits(data): return sum(bin(b).count('1') for b in data)";

describe.each(ours)("evil filter ($name)", (server) => {
  test("cosmic rays flip about P of the bits read, differently each time", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=evil", "memory", "1M", "evil=cosmic-rays", "evil-probability=1e-3"],
      `
      ${BITS}
      h = connect()
      first, second = bytes(h.pread(1 << 20, 0)), bytes(h.pread(1 << 20, 0))
      report(flipped=bits(first), same=first == second)
    `,
    );
    // 8 Mi bits at 1e-3: about 8389 expected.
    expect(result.flipped).toBeGreaterThan(4000);
    expect(result.flipped).toBeLessThan(16000);
    expect(result.same).toBe(false);
  });

  test("stuck bits belong to the disk: every read sees them, however aligned; writes are kept", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=evil", "memory", "1M", "evil-probability=1e-3", "evil-seed=42"],
      `
      ${BITS}
      h = connect()
      whole = bytes(h.pread(65536, 0))
      pieces = b"".join(bytes(h.pread(4096, o)) for o in range(0, 65536, 4096))
      other = bytes(h.pread(65536, 65536))
      h.pwrite(b"\\xff" * 512, 0)
      report(stuck=bits(whole), same=whole == pieces, elsewhere=other != whole,
             written=bits(bytes(h.pread(512, 0))))
    `,
    );
    expect(result.stuck).toBeGreaterThan(0);
    expect(result.same).toBe(true);
    expect(result.elsewhere).toBe(true);
    expect(result.written).toBeLessThanOrEqual(512 * 8); // stuck-low bits may read as 0
    expect(result.written).toBeGreaterThan(512 * 8 - 64);
  });

  test("stuck wires belong to the request: reads anywhere see the same bits", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=evil", "memory", "1M", "evil=stuck-wires", "evil-probability=1e-3"],
      `
      ${BITS}
      h = connect()
      a, b = bytes(h.pread(65536, 0)), bytes(h.pread(65536, 131072))
      report(stuck=bits(a), same=a == b)
    `,
    );
    expect(result.stuck).toBeGreaterThan(0);
    expect(result.same).toBe(true);
  });

  test("probability 0 reads the plugin's bytes; 1 flips every bit", async (context) => {
    requireClients(context, "nbdsh");
    const read = (p: string) =>
      libnbd(
        server,
        ["--filter=evil", "memory", "1M", "evil=cosmic", `evil-probability=${p}`],
        `${BITS}\nreport(bits=bits(bytes(connect().pread(4096, 0))))`,
      );
    expect(await read("0")).toEqual({ bits: 0 });
    expect(await read("1:1")).toEqual({ bits: 4096 * 8 });
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    const refused = (param: string) => refusedStart(server, ["--filter=evil", "null", param]);
    expect(await refused("evil=lasers")).toContain("evil: unknown mode: lasers");
    expect(await refused("evil-probability=2")).toContain(
      "evil-probability: probability out of range, should be [0..1]",
    );
    expect(await refused("evil-stuck-probability=x")).toContain(
      "evil-stuck-probability: could not parse 'x' as a probability",
    );
    expect(await refused("evil-seed=-1")).toContain("evil-seed: negative numbers are not allowed");
    expect(await filterHelp(server, "evil")).toBe(
      "evil=cosmic-rays|stuck-bits|stuck-wires\n" +
        "                               Set the mode (default: cosmic-rays).\n" +
        "evil-probability=PROB          Probability of flipped or stuck bit.\n" +
        "evil-seed=SEED                 Random number seed.\n" +
        "evil-stuck-probability=PROB    Probability of stuck bit being stuck.",
    );
  });
});
