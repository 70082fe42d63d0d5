/**
 * passphrase= of --filter=luks reads the secret as nbdkit_read_password does: `+FILE` and
 * `-FD` take the first line without its newline, `-` asks on the terminal ("password: ", echo
 * off, the line not shown), and refuses when stdin is not a terminal or is the client's
 * connection (-s), or when FD is stdin, stdout or stderr or not open. The terminal is a pty
 * made by script(1); the secret is typed only once the prompt shows.
 */

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  captive,
  clientEnv,
  expectSuccess,
  killGroup,
  runServer,
  scratchDir,
  shellQuote,
} from "../helpers/captive.ts";
import { PASSPHRASE, qemuLuks } from "../helpers/luks-disks.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const SIZE = 1 << 20;
let disk: string | undefined;
const DIR = scratchDir();

/** One qemu-made disk for every test, as qemu-img takes seconds to time PBKDF2 first. */
function luksDisk(): string {
  disk ??= qemuLuks(DIR, "disk.luks", SIZE);
  return disk;
}

/** The secret on the first line of a file, with a second line that must be ignored. */
function secretFile(): string {
  const path = join(scratchDir(), "secret");
  writeFileSync(path, `${PASSPHRASE}\nnot the passphrase\n`);
  return path;
}

/** The size nbdinfo reads through the filter opened with `passphrase`, by a shell `redirect`. */
async function sizeWith(server: Server, passphrase: string, redirect = ""): Promise<string> {
  const command = [...server.argv, "-U", "-", "file", luksDisk(), "--filter=luks"]
    .map(shellQuote).join(" ");
  const script = `${command} ${shellQuote(`passphrase=${passphrase}`)} ` +
    `--run 'nbdinfo --size "$uri"' ${redirect}`;
  const result = expectSuccess(await captiveShell(script));
  return result.stdout.trim();
}

/** Runs a bash command line (for its redirections) to completion. */
function captiveShell(script: string) {
  return runServer({ name: "bash", argv: ["/bin/bash", "-c"] }, [script]);
}

/**
 * Runs the server on a terminal (script(1)'s pty), types the passphrase once "password: " shows,
 * and returns everything the terminal showed.
 */
function onTerminal(server: Server): Promise<string> {
  const command = [...server.argv, "-U", "-", "file", luksDisk(), "--filter=luks", "passphrase=-"]
    .map(shellQuote).join(" ") + ` --run 'nbdinfo --size "$uri"'`;
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: clientEnv(),
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    let shown = "";
    let typed = false;
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      shown += chunk.toString();
      if (!typed && shown.includes("password: ")) {
        typed = true;
        child.stdin.write(`${PASSPHRASE}\n`);
      }
    });
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(shown);
    });
  });
}

describe.each(servers)("luks filter ($name)", (server) => {
  test("+FILE and -FD give the first line of a file or descriptor", async (context) => {
    requireClients(context, "nbdinfo", "qemu-img");
    const file = secretFile();
    expect(await sizeWith(server, `+${file}`)).toBe(String(SIZE));
    expect(await sizeWith(server, "-3", `3<${shellQuote(file)}`)).toBe(String(SIZE));
    // A pipe, still open after the line: only the line is read.
    const pipe = `3< <(printf '%s\\n' ${shellQuote(PASSPHRASE)}; sleep 1)`;
    expect(await sizeWith(server, "-3", pipe)).toBe(String(SIZE));
  });

  test("- asks on the terminal, echo off", async (context) => {
    requireClients(context, "nbdinfo", "qemu-img", "script");
    expect(await onTerminal(server)).toBe(`password: \r\n${SIZE}\r\n`);
  });

  test("- refuses a stdin that is not a terminal, or is the connection", async (context) => {
    requireClients(context, "qemu-img");
    const args = ["file", luksDisk(), "--filter=luks", "passphrase=-"];
    const notTty = await captive(server, args, "true");
    expect(notTty.status).toBe(1);
    expect(notTty.stderr).toContain("stdin is not a tty, cannot read password interactively");
    const single = await runServer(server, ["-s", ...args]);
    expect(single.status).toBe(1);
    expect(single.stderr).toContain("stdin is not available for reading password");
  });

  test("-FD refuses stdin, stdout and stderr, and a descriptor not open", async (context) => {
    requireClients(context, "qemu-img");
    for (const fd of ["0", "1", "2"]) {
      const result = await captive(server, [
        "file",
        luksDisk(),
        "--filter=luks",
        `passphrase=-${fd}`,
      ], "true");
      expect(result.stderr).toContain("cannot use password -FD for stdin/stdout/stderr");
    }
    const closed = await captive(
      server,
      ["file", luksDisk(), "--filter=luks", "passphrase=-99"],
      "true",
    );
    expect(closed.status).toBe(1);
    expect(closed.stderr).toContain("fdopen 99: Bad file descriptor");
    const missing = await captive(server, [
      "file",
      luksDisk(),
      "--filter=luks",
      "passphrase=+/no/such/file",
    ], "true");
    expect(missing.stderr).toContain("open /no/such/file: No such file or directory");
  });
});
