// parseHeader decodes a LUKSv1 header and refuses a bad one with nbdkit's messages.

import { describe, expect, test } from "vitest";
import {
  checkDiskSize,
  HEADER_SIZE,
  keyMaterialSectors,
  parseHeader,
} from "../../../src/filters/luks/header.ts";

const DISK = 16n << 20n;

/** A header as cryptsetup writes one for aes-xts-plain64 sha256, with slot 0 enabled. */
function header(): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
  view.setUint16(6, 1);
  const text = (at: number, value: string) => bytes.set(new TextEncoder().encode(value), at);
  text(8, "aes");
  text(40, "xts-plain64");
  text(72, "sha256");
  view.setUint32(104, 4096); // payload offset, sectors
  view.setUint32(108, 64); // key bytes
  bytes.fill(0xd1, 112, 132);
  view.setUint32(164, 1000);
  text(168, "4a8bf223-6107-45d8-aca6-b003d86b951d");
  for (let slot = 0; slot < 8; slot++) {
    const at = 208 + 48 * slot;
    view.setUint32(at, slot === 0 ? 0x00ac71f3 : 0x0000dead);
    view.setUint32(at + 4, 2000);
    view.setUint32(at + 40, 8 + 512 * slot);
    view.setUint32(at + 44, 4000);
  }
  return { bytes, view };
}

describe("parseHeader", () => {
  test("decodes the fields and the enabled key slots", () => {
    const parsed = parseHeader(header().bytes, DISK);
    expect(parsed).toMatchObject({
      cipherName: "aes",
      cipherMode: "xts-plain64",
      hashSpec: "sha256",
      payloadOffset: 4096,
      keyBytes: 64,
      mkDigestIterations: 1000,
      uuid: "4a8bf223-6107-45d8-aca6-b003d86b951d",
    });
    expect(parsed.slots.map((slot) => [slot.index, slot.keyMaterialOffset, slot.stripes]))
      .toEqual([[0, 8, 4000]]);
  });

  test("key material is rounded up to whole 4 KiB units, as qemu lays it out", () => {
    expect(keyMaterialSectors(64, 4000)).toBe(504);
    expect(keyMaterialSectors(24, 4000)).toBe(192);
    expect(keyMaterialSectors(32, 4000)).toBe(256);
  });

  const refusals: [string, (h: ReturnType<typeof header>) => void][] = [
    ["this disk does not contain a LUKS header", ({ bytes }) => bytes[4] = 0],
    [
      "this disk contains a LUKS version 2 header, but this filter only supports LUKSv1",
      ({ view }) => view.setUint16(6, 2),
    ],
    [
      "bad LUKSv1 header: payload offset points beyond the end of the disk",
      ({ view }) => view.setUint32(104, 32768),
    ],
    ["bad LUKSv1 header: master key iterations is 0", ({ view }) => view.setUint32(164, 0)],
    ["bad LUKSv1 header: master key is too long", ({ view }) => view.setUint32(108, 1025)],
    [
      "bad LUKSv1 header: key slot 3 has an invalid active flag",
      ({ view }) => view.setUint32(208 + 48 * 3, 1),
    ],
    ["bad LUKSv1 header: key slot 0 is corrupted", ({ view }) => view.setUint32(208 + 44, 0)],
    [
      "bad LUKSv1 header: key slot 0 stripes too large",
      ({ view }) => view.setUint32(208 + 44, 10000),
    ],
    ["bad LUKSv1 header: key slot 0 iterations is 0", ({ view }) => view.setUint32(212, 0)],
    [
      "bad LUKSv1 header: key slot 0 key material length is too large",
      ({ view }) => view.setUint32(108, 600),
    ],
    [
      "bad LUKSv1 header: key slot 0 key material offset points beyond the end of the disk",
      ({ view }) => view.setUint32(208 + 40, 32500),
    ],
  ];
  for (const [message, spoil] of refusals) {
    test(`refuses: ${message}`, () => {
      const h = header();
      spoil(h);
      expect(() => parseHeader(h.bytes, DISK)).toThrow(message);
    });
  }

  test("a disk under 16 KiB is too small to hold one", () => {
    expect(() => checkDiskSize(16383n)).toThrow("disk is too small to be LUKS-encrypted");
    expect(() => checkDiskSize(16384n)).not.toThrow();
  });
});
