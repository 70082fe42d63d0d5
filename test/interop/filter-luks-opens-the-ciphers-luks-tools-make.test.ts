/**
 * --filter=luks reads and writes the LUKSv1 ciphers that cryptsetup and qemu-img make: AES-128
 * and AES-256 in XTS, AES-128, -192 and -256 in CBC, with plain or plain64 IVs, key slots hashed
 * with md5, sha1, sha224, sha256, sha384 or sha512 (Web Crypto's PBKDF2 or ours). Each disk is
 * filled through qemu's LUKS driver, read back through the server, written through it, and read
 * again by qemu.
 *
 * Beyond nbdkit 1.32.5, whose GnuTLS has neither, nbdts also opens ESSIV IVs (cbc-essiv:sha256,
 * cryptsetup's default before 1.6, and xts-essiv:sha256) and AES-192 in XTS: those cases run
 * against nbdts alone (nbdkit refuses them, as the refusal test shows for other ciphers), as does
 * a key slot hashed with ripemd160 (nbdkit's GnuTLS refuses PBKDF2 with it). So does
 * cryptsetup's AES-192-CBC, whose key material (24 × 4000 bytes) ends mid-sector: nbdkit
 * deciphers whole sectors only and finds no key slot, and qemu 7.2 aborts on it; nbdts opens it,
 * so there the test writes through the server and reads back through it, without qemu.
 */

import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { cryptsetupLuks, fillLuks, PASSPHRASE, qemuLuks, readLuks } from "../helpers/luks-disks.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const SIZE = 1 << 20;

interface Case {
  readonly name: string;
  /** Makes the disk in `dir`; returns its path. */
  make(dir: string): string;
  /** The tool that makes it. */
  readonly tool: string;
  /** Whether nbdkit 1.32.5 opens it. */
  readonly nbdkit: boolean;
  /** Whether qemu's LUKS driver reads it. */
  readonly qemu: boolean;
}

function cryptsetup(name: string, args: string[], nbdkit = true, qemu = true): Case {
  return {
    name: `cryptsetup ${args.join(" ")}`,
    make: (dir) =>
      cryptsetupLuks(dir, `${name}.luks`, SIZE + (2 << 20), ["--type", "luks1", ...args]),
    tool: "cryptsetup",
    nbdkit,
    qemu,
  };
}

function qemuImg(name: string, options: string[], nbdkit = true): Case {
  return {
    name: `qemu-img ${options.join(",")}`,
    make: (dir) => qemuLuks(dir, `${name}.luks`, SIZE, options),
    tool: "qemu-img",
    nbdkit,
    qemu: true,
  };
}

const CASES: readonly Case[] = [
  cryptsetup("default", []),
  cryptsetup("xts128", ["--cipher", "aes-xts-plain64", "--key-size", "256", "--hash", "sha512"]),
  cryptsetup("cbc256", ["--cipher", "aes-cbc-plain", "--key-size", "256", "--hash", "sha1"]),
  cryptsetup("cbc128", ["--cipher", "aes-cbc-plain64", "--key-size", "128", "--hash", "sha384"]),
  qemuImg("cbc128", ["cipher-alg=aes-128", "cipher-mode=cbc", "ivgen-alg=plain", "hash-alg=sha1"]),
  cryptsetup("sha224", ["--hash", "sha224"]),
  qemuImg("md5", ["hash-alg=md5"]),
  cryptsetup("ripemd160", ["--hash", "ripemd160"], false),
  cryptsetup("essiv", ["--cipher", "aes-cbc-essiv:sha256", "--key-size", "256"], false),
  cryptsetup("xtsessiv", ["--cipher", "aes-xts-essiv:sha256"], false),
  qemuImg("xts192", ["cipher-alg=aes-192", "cipher-mode=xts"], false),
  cryptsetup("cbc192", ["--cipher", "aes-cbc-plain64", "--key-size", "192"], false, false),
];

/** 2 KiB written at 8 KiB through the server. */
const WRITTEN = new TextEncoder().encode("written through the filter ".repeat(80).slice(0, 2048));

/** Reads the disk through the server (comparing with `source` when given), then writes. */
async function readAndWrite(server: Server, image: string, source: string | undefined) {
  return await libnbd(
    server,
    ["file", image, "--filter=luks", `passphrase=${PASSPHRASE}`],
    `
    h = connect()
    same = ${
      source === undefined
        ? "None"
        : `h.pread(${SIZE}, 0) == open(${JSON.stringify(source)}, "rb").read()`
    }
    h.pwrite(${JSON.stringify(new TextDecoder().decode(WRITTEN))}.encode(), 8192)
    report(same=same)
  `,
  );
}

/** What the server reads back at 8 KiB. */
async function readBack(server: Server, image: string) {
  return await libnbd(
    server,
    ["file", image, "--filter=luks", `passphrase=${PASSPHRASE}`],
    `
    h = connect()
    report(back=h.pread(2048, 8192).decode())
  `,
  );
}

describe.each(servers)("luks filter ($name)", (server) => {
  for (const c of CASES) {
    test(`opens ${c.name}`, async (context) => {
      if (!c.nbdkit && server.name === "nbdkit") context.skip("nbdkit 1.32.5 cannot open it");
      requireClients(context, "nbdsh", "qemu-img", c.tool);
      const image = c.make(scratchDir());
      if (!c.qemu) {
        expect(await readAndWrite(server, image, undefined)).toMatchObject({ same: null });
        expect(await readBack(server, image)).toEqual({ back: new TextDecoder().decode(WRITTEN) });
        return;
      }
      const plain = randomBytes(SIZE);
      fillLuks(image, plain);
      expect(await readAndWrite(server, image, `${image}.source`)).toMatchObject({ same: true });
      const expected = Uint8Array.from(plain);
      expected.set(WRITTEN, 8192);
      expect(Buffer.compare(readLuks(image).subarray(0, SIZE), expected)).toBe(0);
    });
  }
});
