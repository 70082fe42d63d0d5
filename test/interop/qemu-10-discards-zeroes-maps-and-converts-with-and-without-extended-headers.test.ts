/**
 * qemu 10 discards past 4 GiB, zeroes more than 4 GiB, maps a 4 TiB disk with data scattered
 * over it and converts it, with extended headers and without, getting the same answers from
 * nbdts as from a reference server. With extended headers the reference is qemu-nbd 10 (a sparse
 * raw file, --discard=unmap so a discard frees what it covers as the memory plugin does), and
 * qemu's trace shows one 6 GiB WRITE_ZEROES; with `--no-extended-headers` on nbdts the reference
 * is nbdkit, which has none (qemu-nbd cannot turn them off), and no request is longer than 32
 * bits allow. Every map, in both modes, is the same. qemu-io discards at most 2 GiB - 512 bytes
 * a command (it says "length cannot exceed 2147483136"), so the discards are of 1 GiB, across
 * the 4 GiB line and at 1 TiB.
 */

import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, run, type RunResult, scratchDir } from "../helpers/captive.ts";
import {
  type Qemu,
  qemuImgMap,
  requireQemuExtendedHeaders,
  startQemuNbd,
} from "../helpers/qemu.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
const nbdkit = { name: "nbdkit", argv: ["nbdkit"] };

const SIZE = "4T";
const GiB = 1024 ** 3;
const TiB = 1024 * GiB;

/**
 * The qemu-io commands: data at 0, 4 GiB - 64 KiB, 5 GiB, 1 TiB, 2 TiB and 3 TiB, then a 1 GiB
 * discard across the 4 GiB line, another over the data at 1 TiB and one 6 GiB zero (unmapping)
 * over the data at 2 TiB, then reads that check what is left.
 */
const IO = [
  "write -P 1 0 64k",
  "write -P 6 4194240k 128k",
  "write -P 4 5G 64k",
  "write -P 2 1T 128k",
  "write -P 5 2T 1M",
  "write -P 3 3T 64k",
  "discard 4G 1G",
  "discard 1T 1G",
  "write -z -u -n 2T 6G",
  "read -P 1 0 64k",
  "read -P 6 4194240k 64k",
  "read -P 0 4G 64k",
  "read -P 4 5G 64k",
  "read -P 0 1T 128k",
  "read -P 0 2T 1M",
  "read -P 3 3T 64k",
];

/** The script: qemu-io traced, then the map, a convert and a compare of the copy. */
function script(qemu: Qemu): string {
  const out = join(scratchDir(), "copy.raw");
  const io = IO.map((c) => `-c '${c}'`).join(" ");
  return [
    `${qemu.dir}/qemu-io --trace 'nbd_*' -f raw ${io} "$uri"`,
    `${qemu.dir}/qemu-img map --output=json -f raw "$uri"`,
    `${qemu.dir}/qemu-img convert -f raw -O raw "$uri" ${out}`,
    `${qemu.dir}/qemu-img compare -f raw -F raw "$uri" ${out}`,
  ].join(" && ");
}

/** The lengths of the requests qemu's trace shows it sent. */
function requestLengths(stderr: string): number[] {
  return [...stderr.matchAll(/\.len = (\d+), .*\.type = \d+ \(/g)].map((m) => Number(m[1]));
}

/** What every run must show: each command done, the copy identical. */
function expectDone(result: RunResult): void {
  expectSuccess(result);
  expect(result.stdout).toMatch(/discard 1073741824\/1073741824 bytes at offset 4294967296/);
  expect(result.stdout).toMatch(/discard 1073741824\/1073741824 bytes at offset 1099511627776/);
  expect(result.stdout).toMatch(/wrote 6442450944\/6442450944 bytes at offset 2199023255552/);
  expect(result.stdout.match(/^read /gm)?.length).toBe(7);
  expect(result.stdout).toMatch(/Images are identical/);
  expect(result.stdout).not.toMatch(/fail|error|Pattern verification/i);
}

/** Both runs print the same map: data where it is left, holes elsewhere. */
function expectSameScatteredMap(ours: RunResult, theirs: RunResult): void {
  const map = qemuImgMap(ours.stdout);
  expect(map).toEqual(qemuImgMap(theirs.stdout));
  const data = (map as { start: number; length: number; data: boolean }[])
    .filter((extent) => extent.data)
    .map(({ start, length }) => [start, length]);
  expect(data).toEqual([[0, 65536], [4 * GiB - 65536, 65536], [5 * GiB, 65536], [3 * TiB, 65536]]);
}

/** Each reference run once for the file, whichever server asks first. */
const references = new Map<string, Promise<RunResult>>();
function reference(name: string, start: () => Promise<RunResult>): Promise<RunResult> {
  if (!references.has(name)) references.set(name, start());
  return references.get(name)!;
}

if (ours.length === 0) test.skip("extended headers: no nbdts server is selected", () => {});

describe.each(ours)("qemu 10 with and without extended headers ($name)", (server) => {
  test(
    "extended headers: discards past 4 GiB, one 6 GiB zero, map and convert as against qemu-nbd",
    async (context) => {
      const qemu = requireQemuExtendedHeaders(context);
      const text = script(qemu);
      const theirs = await reference("qemu-nbd", async () => {
        const served = await startQemuNbd(qemu, SIZE, ["--discard=unmap"]);
        return await run(["sh", "-c", text], { env: { uri: served.uri }, timeoutMs: 120_000 });
      });
      const ours = await captive(server, ["memory", SIZE], text, {
        serverOptions: ["-v"],
        timeoutMs: 120_000,
      });
      for (const result of [theirs, ours]) {
        expectDone(result);
        expect(result.stderr).toMatch(/option reply 11 \(extended headers\), type 1 \(ack\)/);
        expect(result.stderr).toMatch(/\.len = 6442450944, .*\.type = 6 \(write zeroes\)/);
      }
      expectSameScatteredMap(ours, theirs);
      // nbdts' -v: extended headers in use; the zero and a discard past 4 GiB, each one call.
      const lines = [
        "using extended headers",
        "memory: zero count=6442450944 offset=2199023255552",
        "memory: trim count=1073741824 offset=4294967296",
      ];
      for (const line of lines) expect(ours.stderr).toContain(line);
    },
    300_000,
  );

  test(
    "--no-extended-headers: the same in 32-bit pieces, map and convert as against nbdkit",
    async (context) => {
      const qemu = requireQemuExtendedHeaders(context);
      requireClients(context, "nbdkit");
      const text = script(qemu);
      const theirs = await reference(
        "nbdkit",
        () => captive(nbdkit, ["memory", SIZE], text, { timeoutMs: 120_000 }),
      );
      const ours = await captive(server, ["memory", SIZE], text, {
        serverOptions: ["-v", "--no-extended-headers"],
        timeoutMs: 120_000,
      });
      for (const result of [theirs, ours]) {
        expectDone(result);
        expect(result.stderr).toMatch(
          /option reply 11 \(extended headers\), type 2147483649 \(unsupported\)/,
        );
        expect(result.stderr).toMatch(/option reply 8 \(structured reply\), type 1 \(ack\)/);
        const lengths = requestLengths(result.stderr);
        expect(lengths.length).toBeGreaterThan(0);
        expect(Math.max(...lengths)).toBeLessThan(2 ** 32);
      }
      expectSameScatteredMap(ours, theirs);
      expect(ours.stderr).not.toMatch(/using extended headers/);
    },
    300_000,
  );
});
