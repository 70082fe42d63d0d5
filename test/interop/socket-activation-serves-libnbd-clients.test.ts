/**
 * libnbd's clients start a private server per command by socket activation
 * (nbd_connect_systemd_socket_activation: a Unix socket at descriptor 3, LISTEN_PID and
 * LISTEN_FDS): nbdinfo, nbdcopy both ways and nbdsh are served, and once the client is done
 * (it sends SIGTERM and waits) no server process is left.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { processesMentioning } from "../helpers/socket-activation.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;

/**
 * `[ SERVER -P PIDFILE args… ]`, for a client's `--` form. The pid file's path, unique to the
 * test, finds the server among processes afterwards (nbdts removes the file when it stops).
 */
function bracketed(argv: readonly string[], args: readonly string[]) {
  const pidFile = join(scratchDir(), "pid");
  return { command: ["[", ...argv, "-P", pidFile, ...args, "]"], pidFile };
}

/** No process started with `pidFile` is left now that its client has exited. */
function expectGone(pidFile: string): void {
  expect(processesMentioning(pidFile)).toEqual([]);
}

/** nbdkit's pattern plugin: each 8-byte word holds its own offset, big-endian. */
function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += 8) bytes.writeBigUInt64BE(BigInt(offset), offset);
  return bytes;
}

describe.each(servers)("socket activation by libnbd's clients ($name)", (server) => {
  test("nbdinfo --size -- [ SERVER memory 1M ] prints the size", async (context) => {
    requireClients(context, "nbdinfo");
    const { command, pidFile } = bracketed(server.argv, ["memory", "1M"]);
    const result = expectSuccess(await run(["nbdinfo", "--size", "--", ...command]));
    expect(result.stdout).toBe("1048576\n");
    expectGone(pidFile);
  });

  test("nbdcopy -- [ SERVER pattern 1M ] FILE copies the disk out", async (context) => {
    requireClients(context, "nbdcopy");
    const copy = join(scratchDir(), "copy.img");
    const { command, pidFile } = bracketed(server.argv, ["pattern", "1M"]);
    expectSuccess(await run(["nbdcopy", "--", ...command, copy]));
    expect(readFileSync(copy).equals(pattern(MiB))).toBe(true);
    expectGone(pidFile);
  });

  test("nbdcopy FILE -- [ SERVER file DISK ] copies a file in", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const disk = join(dir, "disk.img");
    const data = randomBytes(MiB);
    writeFileSync(source, data);
    writeFileSync(disk, Buffer.alloc(MiB));
    const { command, pidFile } = bracketed(server.argv, ["file", disk]);
    expectSuccess(await run(["nbdcopy", "--flush", source, "--", ...command]));
    expect(readFileSync(disk).equals(data)).toBe(true);
    expectGone(pidFile);
  });

  test("nbdsh's h.connect_systemd_socket_activation writes and reads back", async (context) => {
    requireClients(context, "nbdsh");
    const pidFile = join(scratchDir(), "pid");
    const argv = JSON.stringify([...server.argv, "-P", pidFile, "memory", "1M"]);
    const script = [
      `h.connect_systemd_socket_activation(${argv})`,
      `h.pwrite(b"socket activation", 512 * 1024)`,
      `assert h.pread(17, 512 * 1024) == b"socket activation"`,
      `assert h.pread(4, 0) == bytearray(4)`,
      `print(h.get_size())`,
    ].join("\n");
    const result = expectSuccess(await run(["nbdsh", "-c", script]));
    expect(result.stdout).toBe("1048576\n");
    expectGone(pidFile);
  });
});
