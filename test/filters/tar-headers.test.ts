import { describe, expect, test } from "vitest";
import { findTarMember, TarError } from "../../src/filters/tar-headers.ts";
import { failure } from "../helpers/filtered.ts";

/** A 512-byte header for `name` of `type`, its size field `size` (bytes, or a number in octal). */
function header(name: string, type: string, size: number | Uint8Array): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, at: number) => block.set(new TextEncoder().encode(text), at);
  put(name, 0);
  if (typeof size === "number") put(size.toString(8).padStart(11, "0"), 124);
  else block.set(size, 124);
  block[156] = type.charCodeAt(0);
  put("ustar\u000000", 257);
  block.fill(0x20, 148, 156);
  const sum = block.reduce((total, byte) => total + byte, 0);
  put(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148);
  return block;
}

/** An archive of the given pieces, each padded to 512 bytes, ended by two zero blocks. */
function archive(...pieces: Uint8Array[]): Uint8Array {
  const padded = pieces.map((piece) => {
    const out = new Uint8Array(Math.ceil(piece.length / 512) * 512);
    out.set(piece);
    return out;
  });
  const total = padded.reduce((sum, piece) => sum + piece.length, 1024);
  const out = new Uint8Array(total);
  let at = 0;
  for (const piece of padded) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

function find(bytes: Uint8Array, entry: string, limit = 0) {
  const read = (count: number, offset: number) =>
    Promise.resolve(bytes.slice(offset, offset + count));
  return findTarMember(read, bytes.length, entry, limit);
}

describe("tar headers", () => {
  test("a member is found after the members before it, its data just past its header", async () => {
    const tar = archive(header("a", "0", 600), new Uint8Array(600), header("b/c", "0", 3));
    expect(await find(tar, "b/c")).toEqual({ offset: 2048, size: 3 });
    expect(await find(tar, "b")).toEqual({ offset: 2048, size: 3 }); // under the directory b
  });

  test("a pax record's path and size stand for the member's own", async () => {
    const record = (text: string) => {
      let length = text.length + 3;
      while (`${length} ${text}\n`.length !== length) length++;
      return `${length} ${text}\n`;
    };
    const pax = new TextEncoder().encode(record("path=long/name.img") + record("size=5"));
    const tar = archive(
      header("x", "x", pax.length),
      pax,
      header("short", "0", 0),
      new Uint8Array(5),
    );
    expect(await find(tar, "long/name.img")).toEqual({ offset: 1536, size: 5 });
  });

  test("a size in base-256 is read", async () => {
    const size = new Uint8Array(12);
    size[0] = 0x80;
    size[11] = 7;
    expect(await find(archive(header("big", "0", size), new Uint8Array(7)), "big")).toEqual({
      offset: 512,
      size: 7,
    });
  });

  test("a bad checksum, a sparse member, a cut-short member and tar-limit are refused", async () => {
    const damaged = archive(header("a", "0", 0));
    damaged[0] = 0x62;
    expect(await failure(() => find(damaged, "a"))).toBeInstanceOf(TarError);
    expect(String(await failure(() => find(archive(header("s", "S", 0)), "s")))).toContain(
      "sparse",
    );
    const short = archive(header("a", "0", 5000)).subarray(0, 2048);
    expect(String(await failure(() => find(short, "a")))).toContain("cut short");
    const two = archive(header("a", "0", 0), header("b", "0", 0));
    expect(String(await failure(() => find(two, "b", 512)))).toContain("really exists");
    expect(await find(two, "b", 513)).toEqual({ offset: 1024, size: 0 });
  });
});
