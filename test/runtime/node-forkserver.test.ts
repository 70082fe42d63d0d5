// Node's PluginHost.spawn through shell helpers (src/runtime/node-forkserver.ts): what a
// program gets and gives back is what a direct start would give, and helpers are reused.

import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { forkserverSpawner } from "../../src/runtime/node-forkserver.ts";
import { scratchDir } from "../helpers/captive.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("forkserverSpawner", () => {
  const spawn = forkserverSpawner();
  const env = { greeting: "hello" };

  test("stdout, stderr, status and the environment; arguments come through whole", async () => {
    const odd = 'it\'s a "quote" $HOME `x` \\ and\na newline';
    const result = await spawn(
      ["/bin/sh", "-c", 'printf "%s|%s" "$greeting" "$1"; echo oops >&2; exit 3', "sh", odd],
      { env },
    );
    expect(result.status).toBe(3);
    expect(text(result.stdout)).toBe(`hello|${odd}`);
    expect(text(result.stderr)).toBe("oops\n");
    expect(result.signal).toBeUndefined();
  });

  test("stdin bytes reach the program; without them stdin is empty", async () => {
    const data = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
    const fed = await spawn(["/bin/sh", "-c", "cat"], { env, stdin: data });
    expect(fed.stdout).toEqual(data);
    const empty = await spawn(["/bin/sh", "-c", "wc -c"], { env });
    expect(text(empty.stdout).trim()).toBe("0");
  });

  test("output past the limit is counted, not kept", async () => {
    const result = await spawn(["/bin/sh", "-c", "head -c 5000 /dev/zero"], {
      env,
      stdoutLimit: 100,
    });
    expect(result.stdout.length).toBe(100);
    expect(result.stdoutLength).toBe(5000);
  });

  test("a program killed by a signal says which", async () => {
    const result = await spawn(["/bin/sh", "-c", "kill -9 $$"], { env });
    expect(result.signal).toBe(9);
  });

  test("a file without #! runs under /bin/sh; a missing one fails with 127", async () => {
    const dir = scratchDir();
    const script = join(dir, "bare");
    writeFileSync(script, 'echo "bare $1"\n');
    chmodSync(script, 0o755);
    expect(text((await spawn([script, "yes"], { env })).stdout)).toBe("bare yes\n");
    expect((await spawn([join(dir, "missing")], { env })).status).toBe(127);
  });

  test("aborting kills the program and what it started, and rejects", async () => {
    const dir = scratchDir();
    const pidFile = join(dir, "pid");
    const controller = new AbortController();
    const running = spawn(
      ["/bin/sh", "-c", `sleep 3600 & echo $! > '${pidFile}'; wait`],
      { env, signal: controller.signal },
    );
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8") === "") {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    controller.abort(new Error("too slow"));
    await expect(running).rejects.toThrow("too slow");
    const pid = Number(readFileSync(pidFile, "utf8"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    let state = "gone";
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      state = stat.slice(stat.lastIndexOf(")") + 2)[0];
    } catch {
      // reaped
    }
    expect(["gone", "Z"]).toContain(state);
    // The next call starts a new helper and works.
    expect((await spawn(["/bin/sh", "-c", "echo again"], { env })).status).toBe(0);
  });

  test("calls in parallel each get their own helper", async () => {
    const results = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) =>
          spawn(["/bin/sh", "-c", `sleep 0.1; echo ${i}`], { env }).then((r) =>
            text(r.stdout).trim()
          ),
      ),
    );
    expect(results).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
  });
});
