/**
 * The rate filter's token bucket (src/filters/rate-bucket.ts), driven by the times it is
 * given: a full bucket lets a burst through, then tokens flow in at the rate; a new rate
 * shrinks what it holds; rate 0 never holds anything back.
 */

import { describe, expect, test } from "vitest";
import { Bucket } from "../../src/filters/rate-bucket.ts";

describe("Bucket", () => {
  test("starts full: a burst up to rate × seconds passes, then the rest is owed", () => {
    const bucket = new Bucket(1000, 2, 0); // 1000 bits/s, 2000 bits held
    const wait = { usecs: 0 };
    expect(bucket.take(1500, 0, wait)).toBe(0);
    expect(bucket.take(1000, 0, wait)).toBe(500);
    expect(wait.usecs).toBe(500_000); // 500 bits at 1000 bits/s
    // Half a second later those 500 bits have flowed in.
    expect(bucket.take(500, 500_000, wait)).toBe(0);
  });

  test("tokens never flow in past the capacity", () => {
    const bucket = new Bucket(1000, 1, 0);
    const wait = { usecs: 0 };
    expect(bucket.take(1000, 0, wait)).toBe(0);
    expect(bucket.take(3000, 60_000_000, wait)).toBe(2000); // a minute idle refills 1000 only
  });

  test("a lower rate caps what the bucket holds; rate 0 is no limit", () => {
    const bucket = new Bucket(1_000_000, 1, 0);
    expect(bucket.adjust(1000)).toBe(1_000_000);
    const wait = { usecs: 0 };
    expect(bucket.take(1500, 0, wait)).toBe(500);
    expect(new Bucket(0, 2, 0).take(1e9, 0, wait)).toBe(0);
  });
});
