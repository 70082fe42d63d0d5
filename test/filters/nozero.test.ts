import { describe, expect, test } from "vitest";
import { createNozeroFilter } from "../../src/filters/nozero.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { applyParams } from "../../src/backend/configure.ts";
import { Backend } from "../../src/backend/backend.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

describe("nozero filter", () => {
  test("notrim and plugin refuse an export whose layer below offers no zeroes", async () => {
    // Two independent copies: the inner one (zeromode=none by default) takes zeroes away.
    const top = stackFilters([createNozeroFilter(), createNozeroFilter()], ramPlugin().plugin);
    await applyParams(top, [{ key: "zeromode", value: "notrim" }]);
    await expect(Backend.open(top, false, "")).rejects.toThrow(
      "zeromode 'notrim' requires plugin zero support",
    );
    const backend = await Backend.open(top, true, "");
    expect(backend.caps.writable).toBe(false);
    await backend.close();
  });
});
