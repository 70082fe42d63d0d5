// The sh and eval plugins' callbacks (src/plugins/sh/), over a stand-in host whose "scripts"
// are functions: which method runs with which arguments, and what nbdkit does when one is
// missing, prints nonsense or never ends, without starting a process.

import { describe, expect, test } from "vitest";
import { NbdError } from "../../../src/api/errors.ts";
import { CACHE_MODE, FLAG, FUA_MODE, type Handle, type Plugin } from "../../../src/api/plugin.ts";
import type { PluginHost, SpawnOptions, SpawnResult } from "../../../src/io.ts";
import { createEvalPlugin } from "../../../src/plugins/eval.ts";
import { createShPlugin } from "../../../src/plugins/sh.ts";

/** What a stand-in script does for a method: its exit status, stdout and stderr. */
type Answer = { status?: number; stdout?: string | Uint8Array; stderr?: string } | "hang";
type Script = (method: string, args: string[], stdin?: Uint8Array) => Answer | undefined;

const encoder = new TextEncoder();

function fakeHost(script: Script, env: Record<string, string> = {}) {
  const calls: string[] = [];
  const files = new Map<string, string>();
  const host: PluginHost = {
    realpath: (path) => Promise.resolve(path),
    openReadOnly: () => Promise.reject(new Error("unused")),
    readFile: () => Promise.reject(new Error("unused")),
    runCommand: () => Promise.reject(new Error("unused")),
    getEnv: (name) => env[name],
    makeTempDir: () => Promise.resolve("/tmp/fake"),
    writeFile(path, data) {
      files.set(path, new TextDecoder().decode(data));
      return Promise.resolve();
    },
    removePath(path) {
      files.delete(path);
      return Promise.resolve();
    },
    spawn(argv: readonly string[], options: SpawnOptions = {}): Promise<SpawnResult> {
      const [path, method, ...args] = argv;
      calls.push([method, ...args].join(" "));
      expect(options.env).toEqual({ tmpdir: "/tmp/fake" });
      const given = files.get(path);
      const answer = given !== undefined && path.endsWith("/missing")
        ? { status: 2 }
        : script(method, args, options.stdin) ?? { status: 2 };
      if (answer === "hang") {
        return new Promise((_, reject) =>
          options.signal?.addEventListener("abort", () => reject(options.signal!.reason))
        );
      }
      const stdout = typeof answer.stdout === "string"
        ? encoder.encode(answer.stdout)
        : answer.stdout ?? new Uint8Array();
      const limit = options.stdoutLimit ?? Infinity;
      return Promise.resolve({
        status: answer.status ?? 0,
        stdout: stdout.subarray(0, limit),
        stdoutLength: stdout.length,
        stderr: encoder.encode(answer.stderr ?? ""),
      });
    },
  };
  return { host, calls, files };
}

async function shOver(script: Script, env?: Record<string, string>) {
  const fake = fakeHost(script, env);
  const plugin = createShPlugin(fake.host);
  await plugin.load!();
  await plugin.config!("script", "/s.sh");
  await plugin.configComplete!();
  return { plugin, ...fake };
}

async function opened(plugin: Plugin): Promise<Handle> {
  return await plugin.open(false, "");
}

describe("sh plugin", () => {
  test("config order: load, magic_config_key, then config_complete and thread_model", async () => {
    const { calls, plugin } = await shOver((method) =>
      method === "thread_model" ? { stdout: "Serialize-Requests\n" } : undefined
    );
    expect(calls).toEqual(["load", "magic_config_key", "config_complete", "thread_model"]);
    expect(await plugin.threadModel!()).toBe(2);
    expect(calls.length).toBe(4); // kept, not asked again
  });

  test("can_fua missing asks can_flush once for the connection; can_fast_zero falls on can_zero", async () => {
    const { calls, plugin } = await shOver((method) =>
      method === "can_flush" || method === "can_zero" ? { status: 0 } : undefined
    );
    const handle = await opened(plugin);
    calls.length = 0;
    expect(await handle.canFua!()).toBe(FUA_MODE.EMULATE);
    expect(await handle.canFlush!()).toBe(true);
    expect(await handle.canFastZero!()).toBe(false);
    expect(await handle.canZero!()).toBe(true);
    expect(await handle.canCache!()).toBe(CACHE_MODE.NONE);
    expect(calls).toEqual(["can_fua ", "can_flush ", "can_fast_zero ", "can_zero ", "can_cache "]);
  });

  test("requests carry count, offset and the flags as words", async () => {
    const { calls, plugin } = await shOver((method) => {
      if (method === "open") return { stdout: "h1\n" };
      if (method === "pread") return { stdout: "abcd" };
      if (method === "extents") return { stdout: "0 2\n2 2 hole,zero\n" };
      return method === "pwrite" || method === "zero" ? { status: 0 } : undefined;
    });
    const handle = await opened(plugin);
    calls.length = 0;
    const buf = new Uint8Array(4);
    await handle.readAt(buf, 7);
    expect(new TextDecoder().decode(buf)).toBe("abcd");
    await handle.writeAt!(Uint8Array.of(1), 9007199254740993n, FLAG.FUA);
    await handle.zero!(512, 0, FLAG.FUA | FLAG.MAY_TRIM | FLAG.FAST_ZERO);
    const added: number[][] = [];
    await handle.extents!(4, 0, FLAG.REQ_ONE, {
      add: (offset, length, type) => added.push([Number(offset), Number(length), type]),
    });
    expect(calls).toEqual([
      "pread h1 4 7",
      "pwrite h1 1 9007199254740993 fua",
      "zero h1 512 0 fua,may_trim,fast",
      "extents h1 4 0 req_one",
    ]);
    expect(added).toEqual([[0, 2, 0], [2, 2, 3]]);
  });

  test("missing methods: zero is ENOTSUP (the server then writes), pwrite and pread fail", async () => {
    const { plugin } = await shOver(() => undefined);
    const handle = await opened(plugin);
    await expect(handle.zero!(1, 0, 0)).rejects.toMatchObject({ errno: "EOPNOTSUPP" });
    await expect(handle.writeAt!(Uint8Array.of(1), 0, 0)).rejects.toThrow(
      "pwrite not implemented",
    );
    await expect(handle.readAt(new Uint8Array(1), 0)).rejects.toThrow(
      "/s.sh: the pread method is required",
    );
    await expect(handle.getSize()).rejects.toThrow("/s.sh: the get_size method is required");
    await handle.flush!(0); // missing: nothing to do
    await handle.trim!(1, 0, 0);
    expect(await handle.blockSize!()).toBeUndefined();
    expect(await handle.exportDescription!()).toBeUndefined();
  });

  test("a short read, status 3 from pread and garbage sizes are EIO", async () => {
    const { plugin } = await shOver((method) => {
      if (method === "pread") return { stdout: "ab" };
      if (method === "get_size") return { stdout: "lots\n" };
      if (method === "block_size") return { stdout: "512 4k" };
      if (method === "can_fua") return { stdout: "sometimes" };
      return method === "flush" ? { status: 3 } : undefined;
    });
    const handle = await opened(plugin);
    await expect(handle.readAt(new Uint8Array(3), 0)).rejects.toThrow(
      "expecting 3 bytes but received 2 bytes",
    );
    await expect(handle.getSize()).rejects.toThrow(
      "/s.sh: could not parse output from get_size method: lots",
    );
    await expect(handle.blockSize!()).rejects.toThrow("block_size method cannot be parsed");
    await expect(handle.canFua!()).rejects.toThrow("could not parse output from can_fua method");
    await expect(handle.flush!(0)).rejects.toThrow(
      "flush method returned unexpected code (3/false)",
    );
  });

  test("an error names the script, takes its errno from stderr, and a missing message is said", async () => {
    const { plugin } = await shOver((method, args) => {
      if (method !== "pread") return undefined;
      return args[2] === "0" ? { status: 1, stderr: "enospc disk full\n" } : { status: 1 };
    });
    const handle = await opened(plugin);
    const full = await Promise.resolve(handle.readAt(new Uint8Array(1), 0)).catch((e) => e);
    expect(full).toBeInstanceOf(NbdError);
    expect(full).toMatchObject({ errno: "ENOSPC", message: "/s.sh: disk full" });
    await expect(handle.readAt(new Uint8Array(1), 1)).rejects.toMatchObject({
      errno: "EIO",
      message: "/s.sh: script exited with error, but did not print an error message on stderr",
    });
  });

  test("a script that never ends is given up after NBDTS_SCRIPT_TIMEOUT, load-time calls never", async () => {
    const { plugin } = await shOver(
      (method) => (method === "pread" ? "hang" : undefined),
      { NBDTS_SCRIPT_TIMEOUT: "0.05" },
    );
    const handle = await opened(plugin);
    await expect(handle.readAt(new Uint8Array(1), 0)).rejects.toMatchObject({
      errno: "EIO",
      message: expect.stringContaining("pread did not finish in 0.05 s, killed it"),
    });
  });

  test("a deadline that is no number is refused when the plugin loads", async () => {
    const plugin = createShPlugin(fakeHost(() => undefined, { NBDTS_SCRIPT_TIMEOUT: "soon" }).host);
    await expect(plugin.load!()).rejects.toThrow("NBDTS_SCRIPT_TIMEOUT=soon: expected a number");
  });

  test("open before configComplete (--dump-plugin's look) runs nothing", async () => {
    const fake = fakeHost(() => undefined);
    const plugin = createShPlugin(fake.host);
    await plugin.load!();
    await plugin.config!("script", "/s.sh");
    const handle = await plugin.open(false, "");
    await handle.close!();
    expect(typeof handle.readAt).toBe("function");
    expect(fake.calls).toEqual(["load", "magic_config_key"]);
  });

  test("without a host that starts programs it refuses to load", async () => {
    await expect(createShPlugin(undefined).load!()).rejects.toThrow("cannot run scripts");
  });
});

describe("eval plugin", () => {
  test("snippets are saved with a final newline; can_* are made up for the methods given", async () => {
    const fake = fakeHost(() => ({ status: 0 }));
    const plugin = createEvalPlugin(fake.host);
    await plugin.load!();
    await plugin.config!("pwrite", "cat >/dev/null");
    await plugin.config!("cache", "exit 0");
    await plugin.config!("can_trim", "exit 3");
    await plugin.config!("trim", "exit 0");
    await plugin.configComplete!();
    expect(Object.fromEntries(fake.files)).toEqual({
      "/tmp/fake/missing": "exit 2\n",
      "/tmp/fake/pwrite": "cat >/dev/null\n",
      "/tmp/fake/cache": "exit 0\n",
      "/tmp/fake/can_trim": "exit 3\n",
      "/tmp/fake/trim": "exit 0\n",
      "/tmp/fake/can_write": "exit 0\n",
      "/tmp/fake/can_cache": "echo native\n",
    });
    await plugin.unload!();
    expect(fake.calls).toEqual(["config_complete", "thread_model", "unload"]);
  });
});
