// The data plugin as a plugin: data=/raw=/base64= (exactly one), size=, allocator=, extra
// parameters for $VAR, the hooks for <FILE, <(SCRIPT) and the environment, and a writable
// in-memory disk with nbdkit's data plugin capabilities.

import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import {
  CACHE_MODE,
  EXTENT,
  FUA_MODE,
  type Handle,
  type Offset,
  THREAD_MODEL,
} from "../../src/api/plugin.ts";
import { createDataPlugin, type DataHooks } from "../../src/plugins/data.ts";

async function open(params: [string, string][], hooks: DataHooks = {}): Promise<Handle> {
  const plugin = createDataPlugin(hooks);
  for (const [key, value] of params) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  await plugin.getReady?.();
  return plugin.open(false, "");
}

async function contents(params: [string, string][], hooks: DataHooks = {}): Promise<string> {
  const handle = await open(params, hooks);
  const buf = new Uint8Array(Number(await handle.getSize()));
  await handle.readAt(buf, 0);
  return new TextDecoder("latin1").decode(buf);
}

function refusal(params: [string, string][], hooks: DataHooks = {}): Promise<string> {
  return open(params, hooks).then(() => "no error", (error: Error) => {
    expect(error).toBeInstanceOf(ConfigError);
    return error.message;
  });
}

const encode = (text: string) => new TextEncoder().encode(text);

/** Files in memory; "/dev/urandom" is endless and refuses to be read whole. */
const files: DataHooks = {
  readFile(path, offset, length) {
    if (path === "/dev/urandom") {
      if (length === undefined) throw new Error("would never end");
      return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
    }
    const text = { hello: "hello", "dir/file name": "x" }[path];
    if (text === undefined) throw new Error("No such file or directory");
    const bytes = encode(text);
    return bytes.subarray(offset, length === undefined ? undefined : offset + length);
  },
};

/** A shell that knows a few scripts; "yes" is endless. */
function shell(calls: [string, number | undefined][] = []): DataHooks {
  return {
    runCommand(script, limit) {
      calls.push([script, limit]);
      if (script === "yes") {
        if (limit === undefined) throw new Error("would never end");
        return { output: encode("y\n".repeat(limit)).subarray(0, limit), status: 141 };
      }
      if (script === "false") return { output: encode("partial"), status: 1 };
      return { output: encode(`ran ${script}\n`), status: 0 };
    },
  };
}

describe("data plugin parameters", () => {
  test("describes itself as nbdkit's data plugin does", async () => {
    const plugin = createDataPlugin();
    expect(plugin.name).toBe("data");
    expect(plugin.magicConfigKey).toBe("data");
    expect(plugin.configHelp).toMatch(/data\|raw\|base64=/);
    expect(await plugin.threadModel?.()).toBe(THREAD_MODEL.PARALLEL);
    expect(await plugin.dumpPlugin?.()).toContain("data_base64=yes");
  });

  test("raw= serves the text's UTF-8 bytes", async () => {
    expect(await contents([["raw", "Hello, world!"]])).toBe("Hello, world!");
    expect(await contents([["raw", "é"]])).toBe("\xc3\xa9");
    expect(await contents([["raw", ""]])).toBe("");
  });

  test("base64= decodes strictly, ignoring white space, as GnuTLS does", async () => {
    expect(await contents([["base64", "MTIz"]])).toBe("123");
    expect(await contents([["base64", " MT\tIz\n"]])).toBe("123");
    expect(await contents([["base64", "MTIzNA=="]])).toBe("1234");
    expect(await contents([["base64", "+/+/"]])).toBe("\xfb\xff\xbf");
    expect(await contents([["base64", ""]])).toBe("");
    for (
      const bad of ["MTI", "MTIzNA", "MTIzNA=", "M!Iz", "TR==", "====", "MT=z", "MTIzNA==MTIz"]
    ) {
      expect(await refusal([["base64", bad]])).toMatch(/^base64: Base64 decoding error/);
    }
  });

  test("size= truncates or pads with zeroes; without it the data sets the size", async () => {
    expect(await contents([["data", "1 2 3"], ["size", "2"]])).toBe("\x01\x02");
    expect(await contents([["data", "1 2 3"], ["size", "5"]])).toBe("\x01\x02\x03\0\0");
    expect(await contents([["base64", "MTIz"], ["size", "1k"]])).toBe("123" + "\0".repeat(1021));
    expect(await (await open([["raw", "abc"], ["size", "1M"]])).getSize()).toBe(1 << 20);
  });

  test("exactly one of data, raw and base64 is required", async () => {
    expect(await refusal([])).toBe("raw|base64|data parameter was not specified");
    expect(await refusal([["size", "10"]])).toBe("raw|base64|data parameter was not specified");
    const twice = "raw|base64|data parameter must be specified exactly once";
    expect(await refusal([["raw", "a"], ["data", "1"]])).toBe(twice);
    expect(await refusal([["data", "1"], ["data", "2"]])).toBe(twice);
  });

  test("other parameters are variables, allowed only with data=", async () => {
    expect(await contents([["data", "$x $x"], ["x", "0x41"], ["x", "0x42"]])).toBe("AA");
    expect(await refusal([["raw", "a"], ["x", "3"]])).toBe(
      "extra parameters passed and not using data='...'",
    );
    expect(await refusal([["data", "1"], ["size", "lots"]])).toMatch(/could not parse size/);
  });

  test("allocator= picks the store; unknown allocators are refused", async () => {
    expect(await contents([["data", "1 2"], ["allocator", "malloc"]])).toBe("\x01\x02");
    expect(await refusal([["data", "1"], ["allocator", "zstd"]])).toMatch(/zstd/);
    expect(await refusal([["data", "1"], ["allocator", "bogus"]])).toMatch(/unknown allocator/);
  });
});

describe("data plugin hooks", () => {
  test("<FILE and <(SCRIPT) fail clearly when the runtime gives no hook", async () => {
    expect(await refusal([["data", "<hello"]])).toBe("<hello: reading files is not available here");
    expect(await refusal([["data", "<(echo hi)"]])).toBe(
      "<(echo hi): running commands is not available here",
    );
    expect(await refusal([["data", "$HOME"]])).toBe("$HOME: variable not found");
  });

  test("<FILE reads the file; errors name it", async () => {
    expect(await contents([["data", "<hello 1"]], files)).toBe("hello\x01");
    expect(await contents([["data", "<hello*2"]], files)).toBe("hellohello");
    expect(await refusal([["data", "<missing"]], files)).toBe(
      "missing: No such file or directory",
    );
    expect(await contents([["data", "<missing*0"]], files)).toBe(""); // never read
    expect(await contents([["data", "<missing -> \\a"]], files)).toBe(""); // never used
  });

  test("<FILE[N:M] reads only that part, clipped at end of file, as nbdkit does", async () => {
    expect(await contents([["data", "<hello[1:3]"]], files)).toBe("el");
    expect(await contents([["data", "(<hello)[1:3]"]], files)).toBe("el");
    expect(await contents([["data", '(<hello "")[1:100]']], files)).toBe("ello");
    expect(await contents([["data", "<hello[1:100]"]], files)).toBe("ello");
    expect(await contents([["data", "<hello[10:]"]], files)).toBe("");
    expect(await contents([["data", "<hello[:-2]"]], files)).toBe("");
    expect(await contents([["data", "<missing[2:2]"]], files)).toBe("");
    expect(await refusal([["data", "<hello[:-3]"]], files)).toBe(
      "<FILE[N:M] does not describe a valid slice",
    );
    expect(await refusal([["data", "<hello[3:1]"]], files)).toBe(
      "<FILE[N:M] does not describe a valid slice",
    );
  });

  test("an endless file is read only as far as a slice asks (man page)", async () => {
    const disk = await contents([["data", " </dev/urandom[:512]*16 "]], files);
    expect(disk.length).toBe(8192);
    expect(disk.slice(0, 512).repeat(16)).toBe(disk);
  });

  test("a file name ends at white space, '*', '[' or ')'", async () => {
    expect(await contents([["data", "(<hello)"]], files)).toBe("hello");
    expect(await refusal([["data", "< hello"]], files)).toBe(
      "data parameter <FILE not a filename",
    );
  });

  test("<(SCRIPT) substitutes the output; a failing script is an error", async () => {
    expect(await contents([["data", "<(echo (a))"]], shell())).toBe("ran echo (a)\n");
    expect(await refusal([["data", "<(false)"]], shell())).toMatch(
      /^<\(false\): external command failed/,
    );
    expect(await refusal([["data", "<(echo"]], shell())).toMatch(/parsing error at offset 2/);
    expect(await refusal([["data", "<()"]], shell())).toMatch(/parsing error at offset 2/);
  });

  test("<(SCRIPT)[:LEN] stops reading after LEN bytes and ignores the exit status", async () => {
    const calls: [string, number | undefined][] = [];
    expect(await contents([["data", "<(yes)[:6]"]], shell(calls))).toBe("y\ny\ny\n");
    expect(await contents([["data", "<(false)[:3]"]], shell(calls))).toBe("par");
    expect(calls).toEqual([["yes", 6], ["false", 3]]);
  });

  test("<(SCRIPT)[:] and [0:] give nothing, as in nbdkit 1.32.5", async () => {
    expect(await contents([["data", "<(echo hi)[:]"]], shell())).toBe("");
    expect(await contents([["data", "<(echo hi)[0:]"]], shell())).toBe("");
    expect(await contents([["data", "<(echo hi)[1:4]"]], shell())).toBe("an ");
  });

  test("a name bound to a script runs it once however often it is used", async () => {
    const calls: [string, number | undefined][] = [];
    const disk = await contents([["data", "<(x) -> \\s \\s \\s (\\s)*3"]], shell(calls));
    expect(disk).toBe("ran x\n".repeat(5));
    expect(calls).toEqual([["x", undefined]]);
  });

  test("$VAR falls back to the environment hook; parameters come first", async () => {
    const env: DataHooks = { getEnv: (name) => (name === "PAT" ? "0x55 0xAA" : undefined) };
    expect(await contents([["data", "$PAT*2"]], env)).toBe("\x55\xaa\x55\xaa");
    expect(await contents([["data", "$PAT"], ["PAT", "0x41"]], env)).toBe("A");
  });
});

describe("data plugin disk", () => {
  test("answers capabilities as nbdkit's data plugin does", async () => {
    const handle = await open([["data", "1"]]);
    expect(await handle.canMultiConn?.()).toBe(true);
    expect(await handle.canFua?.()).toBe(FUA_MODE.NATIVE);
    expect(await handle.canCache?.()).toBe(CACHE_MODE.NATIVE);
    expect(await handle.canFastZero?.()).toBe(true);
    expect(handle.writeAt && handle.zero && handle.trim && handle.flush).toBeTruthy();
  });

  test("writes, zeroes and trims change the disk; every handle sees one disk", async () => {
    const plugin = createDataPlugin();
    await plugin.config?.("data", '"abcdef" @8192');
    await plugin.configComplete?.();
    await plugin.getReady?.();
    const a = await plugin.open(false, "");
    const b = await plugin.open(false, "");
    await a.writeAt?.(encode("XY"), 1, 0);
    await a.zero?.(1, 3, 0);
    await a.trim?.(1, 4, 0);
    const buf = new Uint8Array(7);
    await b.readAt(buf, 0);
    expect(new TextDecoder().decode(buf)).toBe("aXY\0\0f\0");
  });

  test("extents show data where the expression wrote and holes elsewhere", async () => {
    const handle = await open([["data", "1 @0x100000 2 @0x200000"]]);
    const list: [Offset, Offset, number][] = [];
    await handle.extents?.(2 << 20, 0, 0, { add: (o, l, t) => list.push([o, l, t]) });
    const data = list.filter(([, , type]) => type === EXTENT.DATA);
    expect(data.map(([offset]) => offset)).toEqual([0, 1 << 20]);
  });
});
