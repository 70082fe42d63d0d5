/**
 * Socket activation's decisions, as nbdkit 1.32.5 makes them: which LISTEN_PID and LISTEN_FDS
 * values turn it on, which are ignored (and what is said), which stop the server; the options
 * it refuses; and what it does to the environment and to listening.
 */

import { describe, expect, test } from "vitest";
import { parseCommandLine } from "../../src/cli/args.ts";
import {
  checkSocketActivation,
  listenInherited,
  takeSocketActivation,
  withActivation,
} from "../../src/cli/socket-activation.ts";
import { ConfigError } from "../../src/api/errors.ts";
import type { ListenAddress, Listener, Runtime } from "../../src/io.ts";

const PID = 4242;

describe("checkSocketActivation", () => {
  test("LISTEN_PID naming this process and LISTEN_FDS=N give descriptors 3 to N+2", () => {
    expect(checkSocketActivation("4242", "1", PID)).toEqual({ fds: [3], notes: [] });
    expect(checkSocketActivation("4242", "3", PID)).toEqual({ fds: [3, 4, 5], notes: [] });
  });

  test("numbers are read as nbdkit_parse_unsigned reads them: hex, octal, leading spaces", () => {
    expect(checkSocketActivation("0x1092", "02", PID).fds).toEqual([3, 4]);
    expect(checkSocketActivation(" 4242", " 1", PID).fds).toEqual([3]);
  });

  test("without LISTEN_PID, or without LISTEN_FDS, activation is off and nothing is said", () => {
    expect(checkSocketActivation(undefined, "1", PID)).toEqual({ fds: [], notes: [] });
    expect(checkSocketActivation("4242", undefined, PID)).toEqual({ fds: [], notes: [] });
  });

  test("a LISTEN_PID naming another process is ignored, saying so", () => {
    expect(checkSocketActivation("1", "1", PID)).toEqual({
      fds: [],
      notes: ["LISTEN_PID was not for us (ignored)"],
    });
  });

  test.each([
    ["LISTEN_PID", "abc", "empty string where we expected a number"],
    ["LISTEN_PID", "", "empty string where we expected a number"],
    ["LISTEN_PID", "-4242", "negative numbers are not allowed"],
    ["LISTEN_PID", "4242x", 'could not parse number: "4242x": trailing garbage'],
    ["LISTEN_FDS", "abc", "empty string where we expected a number"],
    ["LISTEN_FDS", "-1", "negative numbers are not allowed"],
    ["LISTEN_FDS", "1 ", 'could not parse number: "1 ": trailing garbage'],
  ])("%s=%j that is not a number is ignored with nbdkit's error line", (name, text, reason) => {
    const [pid, fds] = name === "LISTEN_PID" ? [text, "1"] : ["4242", text];
    expect(checkSocketActivation(pid, fds, PID)).toEqual({
      fds: [],
      notes: [`error: ${name}: ${reason}`],
    });
  });

  test.each(["0", "17", "0x100"])("LISTEN_FDS=%s is out of range: an error, not ignored", (fds) => {
    expect(() => checkSocketActivation("4242", fds, PID)).toThrow(
      new ConfigError(`socket activation: LISTEN_FDS=${fds} out of range`),
    );
  });

  test("16 descriptors are the most nbdkit takes", () => {
    expect(checkSocketActivation("4242", "16", PID).fds).toHaveLength(16);
  });

  test("a LISTEN_PID for another process wins over a bad LISTEN_FDS", () => {
    expect(checkSocketActivation("1", "0", PID).notes).toEqual([
      "LISTEN_PID was not for us (ignored)",
    ]);
  });
});

/** A runtime with only what takeSocketActivation and listenInherited use. */
function fakeRuntime(env: Record<string, string>, listen?: Runtime["listen"]) {
  const stderr: string[] = [];
  const runtime = {
    pid: PID,
    getEnv: (name: string) => env[name],
    unsetEnv: (name: string) => void delete env[name],
    stderr: (text: string) => void stderr.push(text),
    listen,
  } as unknown as Runtime;
  return { runtime, env, stderr };
}

describe("takeSocketActivation", () => {
  test("when activated, removes LISTEN_PID and LISTEN_FDS but keeps LISTEN_FDNAMES", () => {
    const { runtime, env, stderr } = fakeRuntime({
      LISTEN_PID: "4242",
      LISTEN_FDS: "2",
      LISTEN_FDNAMES: "a:b",
      HOME: "/root",
    });
    expect(takeSocketActivation(runtime)).toEqual([3, 4]);
    expect(env).toEqual({ LISTEN_FDNAMES: "a:b", HOME: "/root" });
    expect(stderr).toEqual([]);
  });

  test("when ignored, prints the note and leaves the environment as it was", () => {
    const { runtime, env, stderr } = fakeRuntime({ LISTEN_PID: "1", LISTEN_FDS: "1" });
    expect(takeSocketActivation(runtime)).toEqual([]);
    expect(env).toEqual({ LISTEN_PID: "1", LISTEN_FDS: "1" });
    expect(stderr).toEqual(["nbdts: LISTEN_PID was not for us (ignored)\n"]);
  });
});

describe("options under socket activation", () => {
  const activated = (...argv: string[]) => parseCommandLine(argv, { socketActivation: true });

  test.each([
    [["-p", "10809"], "-p"],
    [["--port=10809"], "-p"],
    [["-U", "/tmp/sock"], "-U"],
    [["--unix", "-"], "-U"],
    [["-i", "127.0.0.1"], "-i"],
    [["--ipaddr=::1"], "-i"],
    [["-s"], "-s"],
    [["--run", "true"], "--run"],
    [["--websocket"], "--websocket"],
  ])("%j is refused with nbdkit's message naming %s", (options, flag) => {
    expect(() => activated(...options, "memory", "1M")).toThrow(
      new ConfigError(`cannot use socket activation with ${flag} flag`),
    );
  });

  test("the refusal comes where nbdkit's getopt loop meets the option", () => {
    // A bad -p value is never read: the option itself is refused first.
    expect(() => activated("-p", "nonsense", "memory")).toThrow(/with -p flag/);
    // An earlier mistake is reported first.
    expect(() => activated("-t", "x", "-p", "1", "memory")).toThrow(/threads/);
  });

  test("other options are accepted, and nothing is refused without activation", () => {
    const line = activated("-f", "-r", "-P", "/tmp/pid", "--vsock", "-v", "memory", "1M");
    expect(line.plugin).toBe("memory");
    expect(parseCommandLine(["-p", "10809", "memory"]).port).toBe(10809);
  });

  test("activation implies -f and --exit-with-parent, and prints no URI", () => {
    const line = withActivation(parseCommandLine(["--print-uri", "memory", "1M"]));
    expect(line).toMatchObject({ foreground: true, exitWithParent: true, printUri: false });
  });
});

describe("listenInherited", () => {
  test("listens on each descriptor; closing the listener closes them all", async () => {
    const asked: ListenAddress[] = [];
    const closed: number[] = [];
    const { runtime } = fakeRuntime({}, (address) => {
      asked.push(address);
      const fd = (address as { fd: number }).fd;
      const listener: Listener = {
        port: fd === 4 ? 10809 : undefined,
        close: () => Promise.resolve(void closed.push(fd)),
      };
      return Promise.resolve(listener);
    });
    const listener = await listenInherited(runtime, [3, 4], () => ({ data() {}, end() {} }));
    expect(asked).toEqual([{ kind: "inherited", fd: 3 }, { kind: "inherited", fd: 4 }]);
    expect(listener.port).toBe(10809);
    await listener.close();
    expect(closed.sort()).toEqual([3, 4]);
  });

  test("a descriptor that cannot be listened on fails with nbdkit's words and the reason", async () => {
    const { runtime } = fakeRuntime({}, () => Promise.reject(new Error("listen EINVAL")));
    await expect(listenInherited(runtime, [3], () => ({ data() {}, end() {} }))).rejects.toThrow(
      new ConfigError("socket activation: invalid file descriptor fd = 3: listen EINVAL"),
    );
  });
});
