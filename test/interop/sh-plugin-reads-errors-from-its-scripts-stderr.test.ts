/**
 * The shape of nbdkit's tests/test-sh-errors.sh, and nastier scripts: a method that exits 1
 * (or 4 to 255) fails with the errno its stderr starts with, in any case ("eperm"), whitespace
 * and a message after it; anything else, or no message at all, is EIO, as are a status 3 where
 * no question was asked, a read of the wrong length, binary on stderr and a script killed by a
 * signal. The client sees the errno the NBD protocol has for it, the log the script's first
 * line, and the server goes on serving. A zero that answers ENOTSUP falls back to pwrite; stderr
 * of a method that succeeds is ignored.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { captive } from "../helpers/captive.ts";
import { writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/**
 * [what the script does at that offset, the errno the client gets]. A read answers EOVERFLOW
 * and ENOTSUP with EINVAL on the wire (nbdkit keeps them for the commands that may fail so). A
 * read of the wrong length comes after one that failed with EIO: nbdkit 1.32.5 fails it with
 * whatever errno its thread was left with, where nbdts says EIO.
 */
const READS: readonly (readonly [string, string])[] = [
  ["printf ENOMEM >&2; exit 1", "ENOMEM"],
  ["echo eperm >&2; exit 1", "EPERM"],
  ["echo ENOSPC custom message does not reach client >&2; exit 1", "ENOSPC"],
  [`printf 'ESHUTDOWN\\nline one\\nline two\\n' >&2; exit 1`, "ESHUTDOWN"],
  ["echo EPIPE >&2; exit 1", "EIO"],
  ["echo EINVALID >&2; exit 1", "EIO"],
  ["echo 'EINVAL   spaced out' >&2; exit 1", "EINVAL"],
  ["echo EROFS >&2; exit 1", "EPERM"],
  ["echo EDQUOT >&2; exit 1", "ENOSPC"],
  ["echo EFBIG >&2; exit 1", "ENOSPC"],
  ["echo EOVERFLOW >&2; exit 1", "EINVAL"],
  ["echo ENOTSUP >&2; exit 1", "EINVAL"],
  ["echo EOPNOTSUPP >&2; exit 1", "EINVAL"],
  ["echo ENOSPC reserved status >&2; exit 7", "ENOSPC"],
  ["echo EPERM high status >&2; exit 99", "EPERM"],
  ["echo EFOOBAR no such errno name >&2; exit 1", "EIO"],
  ["printf short", "EIO"],
  ["exit 1", "EIO"],
  ["head -c 513 /dev/zero", "EIO"],
  ["exit 3", "EIO"],
  ["head -c 300 /dev/urandom >&2; exit 1", "EIO"],
  ["printf 'EPERM \\001\\033[31m\\377' >&2; exit 1", "EPERM"],
  ["kill -9 $$", "EIO"],
];

/** The offset whose read does `action`. */
const at = (action: string) => READS.findIndex(([a]) => a === action) * 512;

function errorScript(): string {
  const arms = READS.map(([action], i) => `    ${i * 512}) ${action} ;;`).join("\n");
  return writeScript(`case "$1" in
  get_size) echo 'EINVAL ignored when get_size succeeds' >&2; echo 1M ;;
  can_write|can_zero) echo ENOMEM >&2; exit 0 ;;
  pread)
    case $4 in
${arms}
      *) dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
    esac ;;
  pwrite) echo ENOSPC >&2; exit 1 ;;
  zero) echo ENOTSUP falls back to pwrite >&2; exit 1 ;;
  *) exit 2 ;;
esac
`);
}

describe.each(servers)("the sh plugin reads errors from its script's stderr ($name)", (server) => {
  test("each read fails with the errno its script names, and the server goes on", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["sh", errorScript()],
      `
      h = connect()
      reads = [outcome(lambda: h.pread(512, i * 512)) for i in range(${READS.length})]
      report(reads=reads, zero=outcome(lambda: h.zero(512, 0)),
             after=outcome(lambda: h.pread(512, 1 << 19)))
    `,
    );
    expect(result).toEqual({ reads: READS.map(([, errno]) => errno), zero: "ENOSPC", after: "ok" });
  });

  test("the log names the script and its first line; a multi-line message is cut", async (context) => {
    requireClients(context, "nbdsh");
    const script = errorScript();
    const result = await captive(
      server,
      ["sh", script],
      `nbdsh -u "$uri" -c 'for off in ${
        JSON.stringify([
          at("echo ENOSPC custom message does not reach client >&2; exit 1"),
          at(READS[3][0]),
          at("echo EPIPE >&2; exit 1"),
          at("exit 3"),
          at("printf short"),
          at("head -c 513 /dev/zero"),
        ])
      }:
  try:
    h.pread(512, off)
  except nbd.Error:
    pass'`,
    );
    expect(result.status, result.stderr).toBe(0);
    const logged = result.stderr.split("\n").filter((line) => line.includes(`${script}: `))
      .map((line) => line.slice(line.indexOf(`${script}: `) + script.length + 2));
    expect(logged).toEqual([
      "custom message does not reach client",
      "line one",
      "EPIPE",
      `pread method returned unexpected code (3/false)`,
      "incorrect amount of data read: expecting 512 bytes but received 5 bytes from the script",
      "incorrect amount of data read: expecting 512 bytes but received 513 bytes from the script",
    ]);
  });

  test("a get_size that prints garbage fails the open: the client cannot connect", async (context) => {
    requireClients(context, "nbdinfo");
    const script = writeScript(`case "$1" in
  get_size) echo lots ;;
  *) exit 2 ;;
esac
`);
    const result = await captive(server, ["sh", script], 'nbdinfo --size "$uri"');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`${script}: could not parse output from get_size method: lots`);
  });
});
