/**
 * qemu 8.2 and later (qemu 10 here) negotiate extended headers and then zero more than 4 GiB
 * in one request and map a disk of several TiB with 64-bit block status. Each case runs against
 * qemu-nbd, a reference server that speaks extended headers, and against nbdts; the answers
 * must be the same. nbdkit has no extended headers (its protocol manual says "Not supported"):
 * these tests run against nbdts alone. With --no-extended-headers qemu falls back to
 * structured replies and still gets the same map.
 */

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { captive, expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { type Qemu, qemuImgMap, requireQemuExtendedHeaders } from "../helpers/qemu.ts";
import { servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

const SIZE = "4T";
/** Writes at scattered places, 64 KiB aligned so every server maps them alike. */
const WRITES = ["write -P 1 0 64k", "write -P 2 1T 128k", "write -P 3 3T 64k"];
/** One WRITE_ZEROES of 6 GiB: past what a 32-bit length can say. */
const BIG_ZERO = "write -z -n 2T 6G";

/** A qemu-io command line against "$uri", tracing qemu's NBD client to stderr. */
function qemuIo(qemu: Qemu, commands: readonly string[]): string {
  const cs = commands.map((c) => `-c '${c}'`).join(" ");
  return `${qemu.dir}/qemu-io --trace 'nbd_*' -f raw ${cs} "$uri"`;
}

function qemuImg(qemu: Qemu, args: string): string {
  return `${qemu.dir}/qemu-img ${args}`;
}

/** The script run against each server: writes, one big zero, the map, a convert and compare. */
function script(qemu: Qemu, out: string): string {
  return [
    qemuIo(qemu, [...WRITES, BIG_ZERO, "read -P 2 1T 128k", "read -P 0 2T 64k"]),
    `${qemuImg(qemu, "map --output=json -f raw")} "$uri"`,
    `${qemuImg(qemu, "convert -f raw -O raw")} "$uri" ${out}`,
    `${qemuImg(qemu, "compare -f raw -F raw")} "$uri" ${out}`,
  ].join(" && ");
}

/** Runs `text` with $uri naming a qemu-nbd serving a fresh 4 TiB sparse file. */
async function againstQemuNbd(qemu: Qemu, text: string) {
  const dir = scratchDir();
  const disk = join(dir, "disk");
  expectSuccess(await run([`${qemu.dir}/qemu-img`, "create", "-f", "raw", disk, SIZE]));
  const socket = join(dir, "sock");
  const server = spawn(`${qemu.dir}/qemu-nbd`, ["-k", socket, "-f", "raw", "-t", disk], {
    stdio: "ignore",
  });
  cleanups.push(() => server.kill());
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 25));
  return await run(["sh", "-c", text], { env: { uri: `nbd+unix:///?socket=${socket}` } });
}

// With NBD_SERVERS naming only nbdkit there is nothing to run: say so rather than fail empty.
if (ours.length === 0) test.skip("extended headers: no nbdts server is selected", () => {});

describe.each(ours)("qemu 10 uses extended headers past 4 GiB ($name)", (server) => {
  test(
    "the same writes, 6 GiB zero, map, convert and compare as against qemu-nbd",
    async (context) => {
      const qemu = requireQemuExtendedHeaders(context);
      const reference = expectSuccess(
        await againstQemuNbd(qemu, script(qemu, join(scratchDir(), "out"))),
      );
      const ours = expectSuccess(
        await captive(server, ["memory", SIZE], script(qemu, join(scratchDir(), "out")), {
          serverOptions: ["-v"],
          timeoutMs: 120_000,
        }),
      );
      for (const result of [reference, ours]) {
        // qemu's trace: the option acknowledged, then one 6 GiB WRITE_ZEROES request.
        expect(result.stderr).toMatch(/option reply 11 \(extended headers\), type 1 \(ack\)/);
        expect(result.stderr).toMatch(/\.len = 6442450944, .*\.type = 6 \(write zeroes\)/);
        expect(result.stdout).toMatch(/wrote 6442450944\/6442450944 bytes at offset 2199023255552/);
        expect(result.stdout).toMatch(/Images are identical/);
        expect(result.stdout).not.toMatch(/fail|error/i);
      }
      expect(qemuImgMap(ours.stdout)).toEqual(qemuImgMap(reference.stdout));
      // The server's -v: extended headers in use, and the zero reached the plugin in one call.
      expect(ours.stderr).toMatch(/NBD_OPT_EXTENDED_HEADERS: client requested extended headers/);
      expect(ours.stderr).toMatch(/using extended headers/);
      expect(ours.stderr).toMatch(/memory: zero count=6442450944 offset=2199023255552/);
    },
    180_000,
  );

  test(
    "with --no-extended-headers qemu falls back to structured replies, same map",
    async (context) => {
      const qemu = requireQemuExtendedHeaders(context);
      const text = `${qemuIo(qemu, WRITES)} && ${qemuImg(qemu, "map --output=json -f raw")} "$uri"`;
      const [withEh, without] = await Promise.all([
        captive(server, ["memory", SIZE], text),
        captive(server, ["memory", SIZE], text, { serverOptions: ["--no-extended-headers"] }),
      ]);
      expectSuccess(withEh);
      expectSuccess(without);
      expect(without.stderr).toMatch(
        /option reply 11 \(extended headers\), type 2147483649 \(unsupported\)/,
      );
      expect(without.stderr).toMatch(/option reply 8 \(structured reply\), type 1 \(ack\)/);
      expect(qemuImgMap(without.stdout)).toEqual(qemuImgMap(withEh.stdout));
    },
    120_000,
  );
});
