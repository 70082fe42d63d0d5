// The luks filter over a RAM disk holding a LUKSv1 image made with OpenSSL (helpers/luks-image):
// it unlocks with each hash nbdkit names, refuses a wrong passphrase, and under random reads,
// writes and zeroes across sector boundaries reads back a plain model while the disk below
// deciphers (with OpenSSL) to the same model.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createLuksFilter } from "../../../src/filters/luks/luks.ts";
import { failure, filtered } from "../../helpers/filtered.ts";
import { luksImage } from "../../helpers/luks-image.ts";
import { ramPlugin } from "../../helpers/ram-plugin.ts";

const PAYLOAD = 64 * 1024;

function disk(mode: "xts" | "cbc", hash: string) {
  const image = luksImage({ passphrase: "pass phrase", mode, hash, payloadBytes: PAYLOAD });
  const ram = ramPlugin({ size: image.bytes.length });
  ram.write(0, image.bytes);
  return { image, ram };
}

describe("luks filter", () => {
  for (const hash of ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "ripemd160"]) {
    test(`opens a key slot hashed with ${hash} and serves the payload`, async () => {
      const { ram } = disk("xts", hash);
      const { backend } = await filtered(createLuksFilter(), ["passphrase=pass phrase"], ram);
      expect(backend.caps.size).toBe(PAYLOAD);
      const buf = new Uint8Array(1000);
      await backend.readAt(buf, 100);
      expect(buf.every((byte) => byte === 0)).toBe(true);
    });
  }

  test("a wrong passphrase opens no key slot", async () => {
    const { ram } = disk("cbc", "sha256");
    expect(String(await failure(() => filtered(createLuksFilter(), ["passphrase=wrong"], ram))))
      .toContain("LUKS passphrase is not correct, no key slot could be unlocked");
  });

  for (const mode of ["xts", "cbc"] as const) {
    test(`random ${mode} reads, writes and zeroes agree with a model and with OpenSSL`, async () => {
      const { image, ram } = disk(mode, "sha256");
      const { backend } = await filtered(createLuksFilter(), ["passphrase=pass phrase"], ram);
      const model = new Uint8Array(PAYLOAD);
      const span = fc.integer({ min: 0, max: PAYLOAD - 1 }).chain((offset) =>
        fc.record({
          offset: fc.constant(offset),
          count: fc.integer({ min: 1, max: Math.min(3000, PAYLOAD - offset) }),
        })
      );
      const op = fc.oneof(
        span.map((s) => ({ kind: "read" as const, ...s })),
        span.map((s) => ({ kind: "zero" as const, ...s })),
        span.chain((s) =>
          fc.uint8Array({ minLength: s.count, maxLength: s.count }).map((data) => ({
            kind: "write" as const,
            ...s,
            data,
          }))
        ),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 20 }), async (ops) => {
          for (const o of ops) {
            if (o.kind === "write") {
              await backend.writeAt(o.data, o.offset, false);
              model.set(o.data, o.offset);
            } else if (o.kind === "zero") {
              await backend.zero(o.count, o.offset, false, false, false);
              model.fill(0, o.offset, o.offset + o.count);
            } else {
              const buf = new Uint8Array(o.count);
              await backend.readAt(buf, o.offset);
              expect(buf).toEqual(model.subarray(o.offset, o.offset + o.count));
            }
          }
          const below = ram.read(0, image.bytes.length);
          expect(image.decipher(below, 0, PAYLOAD)).toEqual(model);
        }),
        { seed: 1619, numRuns: 15 },
      );
    });
  }
});
