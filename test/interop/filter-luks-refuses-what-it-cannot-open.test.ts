/**
 * --filter=luks refuses, with nbdkit's messages, a wrong passphrase, a LUKSv2 disk, a disk
 * with no LUKS header or too small for one, ciphers it cannot do, and a missing passphrase.
 * The client cannot open the export; the server says why on stderr. What follows differs:
 * nbdts answers the client's NBD_OPT_GO with an error and serves on, where nbdkit 1.32.5
 * crashes (its close frees the handle prepare never filled), so only the message is compared.
 */

import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, scratchDir } from "../helpers/captive.ts";
import { refusedStart } from "../helpers/filters.ts";
import { cryptsetupLuks, PASSPHRASE, qemuLuks } from "../helpers/luks-disks.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

/** Made once for every server, as qemu-img takes seconds to time PBKDF2 first. */
let qemuDisk: string | undefined;
const DIR = scratchDir();

/** The server's stderr when a client fails to open the export `image` serves with `passphrase`. */
async function refusal(server: Server, image: string, passphrase = PASSPHRASE): Promise<string> {
  const args = ["file", image, "--filter=luks", `passphrase=${passphrase}`];
  const result = await captive(server, args, `nbdsh -u "$uri" -c 'print("opened")'`);
  expect(result.stdout).not.toContain("opened");
  expect(result.status).not.toBe(0);
  return result.stderr;
}

/** A 4 MiB LUKSv1 disk from cryptsetup with `cipher`. */
function luks1(name: string, cipher: string): string {
  return cryptsetupLuks(scratchDir(), name, 4 << 20, ["--type", "luks1", "--cipher", cipher]);
}

/** A LUKSv1 disk from cryptsetup with its header patched at `at` to `text`. */
function patchedDisk(name: string, cipher: string, at: number, text: string): string {
  const image = luks1(name, cipher);
  const bytes = new TextEncoder().encode(text + "\0");
  const fd = openSync(image, "r+");
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
  return image;
}

describe.each(servers)("luks filter ($name)", (server) => {
  test("a wrong passphrase opens no key slot", async (context) => {
    requireClients(context, "nbdsh", "qemu-img");
    qemuDisk ??= qemuLuks(DIR, "disk.luks", 1 << 20);
    expect(await refusal(server, qemuDisk, "wrong")).toContain(
      "LUKS passphrase is not correct, no key slot could be unlocked",
    );
  });

  test("a LUKSv2 disk is refused: only LUKSv1 is read", async (context) => {
    requireClients(context, "nbdsh", "cryptsetup");
    const image = cryptsetupLuks(scratchDir(), "v2.luks", 32 << 20, [
      "--type",
      "luks2",
      "--pbkdf",
      "pbkdf2",
    ]);
    expect(await refusal(server, image)).toContain(
      "this disk contains a LUKS version 2 header, but this filter only supports LUKSv1",
    );
  });

  test("a disk without a LUKS header, or too small for one, is refused", async (context) => {
    requireClients(context, "nbdsh");
    const dir = scratchDir();
    writeFileSync(join(dir, "zero.img"), new Uint8Array(1 << 20));
    writeFileSync(join(dir, "small.img"), new Uint8Array(8192));
    expect(await refusal(server, join(dir, "zero.img"))).toContain(
      "this disk does not contain a LUKS header",
    );
    expect(await refusal(server, join(dir, "small.img"))).toContain(
      "disk is too small to be LUKS-encrypted",
    );
  });

  test("ciphers it cannot do are refused, naming them", async (context) => {
    requireClients(context, "nbdsh", "cryptsetup");
    const ctr = luks1("ctr.luks", "aes-ctr-plain64");
    expect(await refusal(server, ctr)).toContain(
      "cipher algorithm aes-256 in mode ctr is not supported",
    );
    const ecb = luks1("ecb.luks", "aes-ecb");
    expect(await refusal(server, ecb)).toContain(
      'incorrect cipher_mode header, expecting mode-ivgenerator but got "ecb"',
    );
    expect(await refusal(server, patchedDisk("twofish.luks", "aes-xts-plain64", 8, "twofish")))
      .toContain('unknown cipher algorithm: twofish (expecting "aes", etc)');
    expect(await refusal(server, patchedDisk("hash.luks", "aes-xts-plain64", 72, "whirlpool")))
      .toContain('unknown hash algorithm: whirlpool (expecting "md5", "sha1", "sha224", etc)');
  });

  test("without passphrase= the server does not start", async () => {
    expect(await refusedStart(server, ["--filter=luks", "null", "1M"])).toContain(
      'LUKS "passphrase" parameter is missing',
    );
  });
});
