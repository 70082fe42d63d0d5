/**
 * qemu-io, QEMU's block-layer client, writes patterns, zeroes and discards through its NBD
 * driver and verifies them by reading back.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** A qemu-io command line running each command against the captive server's $uri. */
function qemuIo(...commands: string[]): string {
  return `qemu-io -f raw "$uri" ${commands.map((command) => `-c '${command}'`).join(" ")}`;
}

describe.each(servers)("qemu-io reads and writes ($name)", (server) => {
  test("a pattern written with write -P reads back with read -P", async (context) => {
    requireClients(context, "qemu-io");
    const result = expectSuccess(
      await captive(
        server,
        ["memory", "4M"],
        qemuIo(
          "write -P 0x55 0 64k",
          "write -P 0xaa 100000 3000",
          "read -P 0x55 0 64k",
          "read -P 0xaa 100000 3000",
          "read -P 0 103000 1000",
        ),
      ),
    );
    expect(result.stdout).not.toMatch(/fail/i);
    expect(result.stdout.match(/^read \d+\/\d+ bytes/gm)).toHaveLength(3);
  });

  test("write -z zeroes a range inside written data", async (context) => {
    requireClients(context, "qemu-io");
    const result = expectSuccess(
      await captive(
        server,
        ["memory", "4M"],
        qemuIo(
          "write -P 0x11 0 64k",
          "write -z 4k 8k",
          "read -P 0x11 0 4k",
          "read -P 0 4k 8k",
          "read -P 0x11 12k 52k",
        ),
      ),
    );
    expect(result.stdout).not.toMatch(/fail/i);
  });

  test("discard succeeds and the discarded range of a memory disk reads as zeroes", async (context) => {
    requireClients(context, "qemu-io");
    const result = expectSuccess(
      await captive(
        server,
        ["memory", "4M"],
        qemuIo(
          "write -P 0x22 0 1M",
          "discard 256k 512k",
          "read -P 0x22 0 256k",
          "read -P 0 256k 512k",
          "read -P 0x22 768k 256k",
        ),
      ),
    );
    expect(result.stdout).toMatch(/^discard 524288\/524288 bytes at offset 262144/m);
    expect(result.stdout).not.toMatch(/fail/i);
  });

  test("a failed verification is noticed (the check above can fail)", async (context) => {
    requireClients(context, "qemu-io");
    const result = await captive(server, ["memory", "4M"], qemuIo("read -P 0x77 0 4k"));
    expect(result.stdout).toMatch(/verification failed/i);
  });

  test("a FUA write (write -f) reads back", async (context) => {
    requireClients(context, "qemu-io");
    const result = expectSuccess(
      await captive(
        server,
        ["memory", "4M"],
        qemuIo(
          "write -f -P 0x33 1M 4k",
          "flush",
          "read -P 0x33 1M 4k",
        ),
      ),
    );
    expect(result.stdout).not.toMatch(/fail/i);
  });
});
