/** nbdkit_parse_delay's forms as the time-limit filter reads them (src/filters/time-limit.ts). */

import { expect, test } from "vitest";
import { parseDelayMicroseconds } from "../../src/filters/time-limit.ts";

test("seconds, fractions and each unit, in whole microseconds", () => {
  expect(parseDelayMicroseconds("t", "60")).toBe(60_000_000);
  expect(parseDelayMicroseconds("t", "1.5")).toBe(1_500_000);
  expect(parseDelayMicroseconds("t", "2s")).toBe(2_000_000);
  expect(parseDelayMicroseconds("t", "500ms")).toBe(500_000);
  expect(parseDelayMicroseconds("t", "1.2us")).toBe(1);
  expect(parseDelayMicroseconds("t", "120μs")).toBe(120);
  expect(parseDelayMicroseconds("t", "3000ns")).toBe(3);
  expect(() => parseDelayMicroseconds("t", "-1")).toThrow("t: could not parse delay: '-1'");
  expect(() => parseDelayMicroseconds("t", "1h")).toThrow("could not parse delay");
});
