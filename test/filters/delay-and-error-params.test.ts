import { describe, expect, test } from "vitest";
import { parseDelay } from "../../src/filters/delay.ts";
import { parseRate } from "../../src/filters/error.ts";

describe("delay and error parameters", () => {
  test("delays are seconds, or milliseconds with ms (sscanf's leading digits)", () => {
    expect(parseDelay("rdelay", "2")).toBe(2000);
    expect(parseDelay("rdelay", "0x10")).toBe(16000);
    expect(parseDelay("rdelay", "250ms")).toBe(250);
    expect(parseDelay("rdelay", " 12abcms")).toBe(12);
    expect(() => parseDelay("rdelay", "ms")).toThrow("empty string where we expected a number");
    expect(() => parseDelay("rdelay", "-1")).toThrow("negative numbers are not allowed");
    expect(() => parseDelay("rdelay", "4294968")).toThrow(
      "seconds parameter rdelay is too large: 4294968",
    );
  });

  test("rates are probabilities or percentages from 0 to 1", () => {
    expect(parseRate("error-rate", "0.25")).toBe(0.25);
    expect(parseRate("error-rate", "25%")).toBe(0.25);
    expect(parseRate("error-rate", "1e-1")).toBe(0.1);
    expect(parseRate("error-rate", ".5")).toBe(0.5);
    expect(() => parseRate("error-rate", "25 %")).toThrow("could not parse rate '25 %'");
    expect(() => parseRate("error-rate", "2")).toThrow("rate out of range: '2' parsed as 2");
    expect(() => parseRate("error-rate", "0.1234567%")).not.toThrow();
  });
});
