// readPassphrase reads passphrase= as nbdkit_read_password does, through the PluginHost.

import { describe, expect, test } from "vitest";
import { readPassphrase } from "../../../src/filters/luks/passphrase.ts";
import type { PluginHost } from "../../../src/io.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A host whose files and terminal hold what the test says; it records the paths read. */
function host(files: Record<string, string>, terminal?: string) {
  const read: string[] = [];
  const fake = {
    readFirstLine(path: string) {
      read.push(path);
      if (!(path in files)) return Promise.reject(new Error("No such file or directory"));
      const all = files[path];
      const end = all.indexOf("\n");
      return Promise.resolve(new TextEncoder().encode(end < 0 ? all : all.slice(0, end + 1)));
    },
    readPassword(prompt: string) {
      expect(prompt).toBe("password: ");
      return Promise.resolve(
        terminal === undefined ? undefined : new TextEncoder().encode(terminal),
      );
    },
  } as unknown as PluginHost;
  return { fake, read };
}

describe("readPassphrase", () => {
  test("a plain value is the passphrase itself, newline and all", async () => {
    expect(text(await readPassphrase("secret\n"))).toBe("secret\n");
  });

  test("+FILE is the file's first line without its newline", async () => {
    const { fake } = host({ "/k": "secret\nsecond\n" });
    expect(text(await readPassphrase("+/k", fake))).toBe("secret");
  });

  test("a line with a NUL ends there, as a C string does", async () => {
    const { fake } = host({ "/k": "sec\0ret\n" });
    expect(text(await readPassphrase("+/k", fake))).toBe("sec");
  });

  test("-FD reads /dev/fd/FD; 0, 1 and 2 are refused", async () => {
    const { fake, read } = host({ "/dev/fd/7": "secret" });
    expect(text(await readPassphrase("-7", fake))).toBe("secret");
    expect(read).toEqual(["/dev/fd/7"]);
    for (const fd of ["-0", "-1", "-2"]) {
      await expect(readPassphrase(fd, fake)).rejects.toThrow(
        "cannot use password -FD for stdin/stdout/stderr",
      );
    }
    await expect(readPassphrase("-x", fake)).rejects.toThrow(
      "password file descriptor: empty string where we expected a number",
    );
    await expect(readPassphrase("-9", fake)).rejects.toThrow("fdopen 9: Bad file descriptor");
  });

  test("- reads the terminal, or says why it cannot", async () => {
    expect(text(await readPassphrase("-", host({}, "typed\n").fake))).toBe("typed");
    await expect(readPassphrase("-", host({}).fake)).rejects.toThrow(
      "stdin is not a tty, cannot read password interactively",
    );
    await expect(readPassphrase("-", {} as PluginHost)).rejects.toThrow(
      "stdin is not available for reading password",
    );
  });

  test("a file that cannot be read is named", async () => {
    await expect(readPassphrase("+/none", host({}).fake)).rejects.toThrow(
      "open /none: No such file or directory",
    );
    await expect(readPassphrase("+/none")).rejects.toThrow(
      "open /none: this runtime gives no files",
    );
  });
});
