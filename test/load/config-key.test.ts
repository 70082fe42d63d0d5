import { describe, expect, test } from "vitest";
import {
  isConfigKey,
  isPluginName,
  isShortPluginName,
  pluginNameMistake,
} from "../../src/load/config-key.ts";

describe("isConfigKey follows nbdkit's is_config_key", () => {
  test("a letter, then letters, digits, '.', '_' or '-'", () => {
    for (const key of ["size", "a", "Z", "tls-certificates", "a.b_c-d9", "x123"]) {
      expect(isConfigKey(key), key).toBe(true);
    }
  });

  test("empty, a non-letter first, or any other character is not a key", () => {
    for (const key of ["", "1x", "_a", "-a", ".a", "1 2 ", "a b", "a/b", "a:b", "é", "aé"]) {
      expect(isConfigKey(key), key).toBe(false);
    }
  });
});

describe("isPluginName follows nbdkit's backend_load", () => {
  test("an ASCII letter or digit, then letters, digits or dashes", () => {
    for (const name of ["memory", "sparse-random", "9p", "A1"]) {
      expect(isPluginName(name), name).toBe(true);
    }
  });

  test("empty, a leading dash, or other characters are refused", () => {
    for (const name of ["", "-x", "a_b", "a.b", "a/b", "é"]) {
      expect(isPluginName(name), name).toBe(false);
    }
  });
});

describe("isShortPluginName tells a built-in name from a module path", () => {
  test("a word without '/' or '.' is a short name", () => {
    expect(isShortPluginName("memory")).toBe(true);
    expect(isShortPluginName("sparse-random")).toBe(true);
  });

  test("any '/' or '.' makes it a path", () => {
    expect(isShortPluginName("./plugin")).toBe(false);
    expect(isShortPluginName("plugin.ts")).toBe(false);
    expect(isShortPluginName("/abs/plugin")).toBe(false);
    expect(isShortPluginName("dir/plugin")).toBe(false);
  });
});

describe("pluginNameMistake says why, in nbdkit's words", () => {
  test("each rule of backend_load has its message; valid names have none", () => {
    expect(pluginNameMistake("my-plugin")).toBeUndefined();
    expect(pluginNameMistake("")).toBe("field must not be empty");
    expect(pluginNameMistake("-x")).toBe(
      "('-x') field must begin with an ASCII alphanumeric character",
    );
    expect(pluginNameMistake("my_plugin")).toBe(
      "('my_plugin') field must contain only ASCII alphanumeric or dash characters",
    );
    expect(pluginNameMistake(7)).toBe("must be a string");
  });
});
