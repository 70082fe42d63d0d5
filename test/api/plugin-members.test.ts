import { describe, expect, expectTypeOf, test } from "vitest";
import {
  HANDLE_CALLBACKS,
  PLUGIN_CALLBACKS,
  type UnlistedHandleMember,
  type UnlistedPluginMember,
} from "../../src/api/plugin-members.ts";

describe("the member lists cover the plugin API", () => {
  test("every Plugin and Handle member is listed (checked by tsc)", () => {
    expectTypeOf<UnlistedPluginMember>().toEqualTypeOf<never>();
    expectTypeOf<UnlistedHandleMember>().toEqualTypeOf<never>();
  });

  test("nbdkit's names are each given once", () => {
    const names = [...Object.values(PLUGIN_CALLBACKS), ...Object.values(HANDLE_CALLBACKS)];
    expect(new Set(names).size).toBe(names.length);
  });
});
