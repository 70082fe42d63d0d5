#!/usr/bin/env node
/**
 * `npm run bench`: nbdts under Node, Deno and Bun side by side with `nbdkit memory`, in one run.
 *
 * Every server is started as `<argv> -f -U <sock> memory 1G` (64G for the map test; the filter
 * workloads put `--filter=cow` in front of memory, or `--filter=cache` in front of the file
 * plugin serving a copy of the 1 GiB data file; the sh workloads serve `sh read-1G.sh`, a script
 * reading the data file with dd, one process per request; the curl workloads read that file from
 * a web server in this process; the S3 workloads serve one disk from a Ceph gateway the bench
 * starts with scripts/s3-local.sh, every server behind --filter=blocksize). Each
 * workload runs against each server in turn (A B C D, A B C D …) for --reps repetitions; the
 * report gives medians and the ratio of each runtime's median to nbdkit's median from the same
 * run, and marks each target met or missed. Absolute figures wander between runs on shared
 * machines; only ratios from one interleaved run mean anything (see BENCHMARKS.md).
 * Start-up is the exception: `<argv> -U - memory 1M --run true`, each run followed by its bare
 * runtime doing nothing (`node -e 0`, `deno run -A` of an empty file, `bun -e 0`), and each
 * runtime's median is set against its own bare start, not against nbdkit.
 *
 *   node scripts/bench.mjs [--servers=nbdts-node,nbdkit] [--only=seqwrite-1m-qd8,prefill] [--reps=3]
 *                          [--quick] [--runtime=SECONDS] [--no-build] [--no-md]
 *
 * Output: a markdown table on stdout, the same table in BENCHMARKS.md (between the bench
 * markers), every raw figure in bench-out/bench-<time>.json and bench-out/latest.json, server
 * logs and fio output in bench-out/run/. A server that fails to start is reported and skipped.
 * Never run in CI; a full default run takes about 10–15 minutes on a 2-core machine.
 */

import { spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startRangeServer } from "./bench-http.mjs";
import { startS3Store } from "./bench-s3.mjs";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const OUT = path.join(REPO, "bench-out");
const RUN_DIR = path.join(OUT, "run");
const DATA_FILE = path.join(OUT, "random-1G.bin");
/** The file the cache workloads serve: a copy of DATA_FILE, which their writes may change. */
const CACHE_FILE = path.join(OUT, "cache-1G.bin");
/**
 * The script the sh workloads serve, the same for every server: reads of DATA_FILE with dd, one
 * process per request, and thread_model parallel, so that qd32 runs requests at once.
 */
const SH_SCRIPT = path.join(OUT, "read-1G.sh");
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Client tools need Debian's /usr/bin first (nbdsh: a pyenv python3 lacks the nbd module). */
const ENV = {
  ...process.env,
  PATH: ["/usr/bin", "/bin", process.env.PATH ?? ""].join(path.delimiter),
  DENO_NO_UPDATE_CHECK: "1",
  NO_COLOR: "1",
};

const KNOWN_SERVERS = [
  { name: "nbdts-node", argv: [process.execPath, path.join(REPO, "nbd.js")] },
  {
    name: "nbdts-deno",
    argv: [path.join(REPO, "node_modules/.bin/deno"), "run", "-A", path.join(REPO, "nbd.ts")],
  },
  {
    name: "nbdts-bun",
    argv: [path.join(REPO, "node_modules/.bin/bun"), path.join(REPO, "nbd.ts")],
  },
  { name: "nbdkit", argv: ["nbdkit"] },
];
const REFERENCE = "nbdkit";

/** The start-up workload's arguments: serve a small disk to a command that exits at once. */
const STARTUP_ARGS = ["-U", "-", "memory", "1M", "--run", "true"];
/** An empty module for `deno run`: Deno's bare start on the same path as nbd.ts's. */
const EMPTY_MODULE = path.join(OUT, "empty.ts");
/** Each runtime started with nothing to do: what an nbdts start-up is measured over. */
const BARE = {
  "nbdts-node": [process.execPath, "-e", "0"],
  "nbdts-deno": [KNOWN_SERVERS[1].argv[0], "run", "-A", EMPTY_MODULE],
  "nbdts-bun": [KNOWN_SERVERS[2].argv[0], "-e", "0"],
};
/** The most a start-up may take beyond its bare runtime's, in ms. */
const STARTUP_OVER_BARE_MAX = 25;

// ---------------------------------------------------------------------------------------------
// Command line

function usage(status) {
  const names = KNOWN_SERVERS.map((s) => s.name).join(",");
  (status === 0 ? console.log : console.error)(
    `usage: node scripts/bench.mjs [--servers=${names}] [--only=WORKLOAD,…] [--reps=3]\n` +
      `                             [--quick] [--runtime=SECONDS] [--no-build] [--no-md]\n` +
      `  --servers   comma-separated subset (default: all four)\n` +
      `  --only      comma-separated workloads (default: all): ${
        METRICS.map((m) => m.id).join(", ")
      };\n` +
      `              the disk is still prefilled for the 1 GiB workloads, unmeasured when 'prefill'\n` +
      `              is not named; a run with --only leaves BENCHMARKS.md alone\n` +
      `  --reps      interleaved repetitions (default 3)\n` +
      `  --startup-runs  start-ups of each server (and of its bare runtime) per repetition\n` +
      `              (default 10, --quick 4)\n` +
      `  --quick     1 s fio runs without ramp (a smoke run, not a result)\n` +
      `  --runtime   fio --runtime in seconds (default 4, after a 1 s --ramp_time)\n` +
      `  --no-build  do not run 'npm run build:bundle' first\n` +
      `  --no-md     do not rewrite BENCHMARKS.md`,
  );
  process.exit(status);
}

function parseArgs(argv) {
  const opts = {
    servers: KNOWN_SERVERS.map((s) => s.name),
    only: undefined,
    reps: 3,
    startupRuns: undefined,
    quick: false,
    runtime: undefined,
    build: true,
    md: true,
  };
  for (const arg of argv) {
    const [key, value] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    if (key === "--servers" && value) {
      opts.servers = value.split(",").map((s) => s.trim()).filter(Boolean);
      for (const name of opts.servers) {
        if (!KNOWN_SERVERS.some((s) => s.name === name)) {
          console.error(`bench: unknown server "${name}"`);
          usage(1);
        }
      }
    } else if (key === "--only" && value) {
      opts.only = new Set(value.split(",").map((s) => s.trim()).filter(Boolean));
      for (const id of opts.only) {
        if (!METRICS.some((m) => m.id === id)) {
          console.error(`bench: unknown workload "${id}"`);
          usage(1);
        }
      }
      opts.md = false; // a partial table must not replace the full one
    } else if (key === "--reps" && value && /^[1-9]\d*$/.test(value)) opts.reps = Number(value);
    else if (key === "--startup-runs" && value && /^[1-9]\d*$/.test(value)) {
      opts.startupRuns = Number(value);
    } else if (key === "--runtime" && value && Number(value) > 0) opts.runtime = Number(value);
    else if (key === "--quick" && value === undefined) opts.quick = true;
    else if (key === "--no-build" && value === undefined) opts.build = false;
    else if (key === "--no-md" && value === undefined) opts.md = false;
    else if (key === "--help" || key === "-h") usage(0);
    else {
      console.error(`bench: bad argument "${arg}"`);
      usage(1);
    }
  }
  opts.fioRuntime = opts.runtime ?? (opts.quick ? 1 : 4);
  opts.fioRamp = opts.quick ? 0 : 1;
  opts.mapRuns = opts.quick ? 3 : 5;
  opts.startupRuns ??= opts.quick ? 4 : 10;
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function log(message) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Every child we started and have not seen exit, so that Ctrl-C can end them by pid. */
const liveChildren = new Set();

/**
 * Runs a command to completion. `ms` is the wall time from spawn to exit (what a user waits
 * for, process start included). Never uses a shell.
 */
function run(cmd, args, { timeoutMs = 120_000, stdout = "pipe" } = {}) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    let child;
    try {
      child = spawn(cmd, args, { cwd: REPO, env: ENV, stdio: ["ignore", stdout, "pipe"] });
    } catch (error) {
      resolve({ code: -1, signal: null, stdout: "", stderr: String(error), ms: 0 });
      return;
    }
    liveChildren.add(child);
    const out = [];
    const err = [];
    child.stdout?.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    let ms = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("exit", () => {
      ms = Number(process.hrtime.bigint() - start) / 1e6;
    });
    child.on("error", (error) => err.push(Buffer.from(String(error))));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({
        code: timedOut ? -1 : code ?? -1,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString() +
          (timedOut ? `\n(timed out after ${timeoutMs} ms)` : ""),
        ms,
      });
    });
  });
}

function check(result, what) {
  if (result.code !== 0) {
    const tail = result.stderr.trim().split("\n").slice(-3).join(" | ");
    throw new Error(
      `${what} failed (exit ${result.code}${result.signal ? ` ${result.signal}` : ""}): ${tail}`,
    );
  }
  return result;
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { env: ENV, encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0 || !r.stdout) return undefined;
  return r.stdout.trim().split("\n")[0];
}

/** Busy CPU ticks of the whole machine and of this process with its reaped children. */
function cpuSnapshot() {
  try {
    const all = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1)
      .map(Number);
    const self = fs.readFileSync("/proc/self/stat", "utf8");
    const f = self.slice(self.lastIndexOf(")") + 2).split(" ").map(Number);
    // /proc/stat: user nice system …; /proc/self/stat after "comm": utime stime cutime cstime at 11–14.
    return { at: Date.now(), busy: all[0] + all[1] + all[2], ours: f[11] + f[12] + f[13] + f[14] };
  } catch {
    return undefined;
  }
}

/** Average number of cores that other processes kept busy between two snapshots. */
function otherCores(a, b) {
  if (!a || !b || b.at <= a.at) return undefined;
  const ticks = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout?.trim()) ||
    100;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / ticks / ((b.at - a.at) / 1000));
}

function vmHwmMiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Servers

let sockDir;
let serverSerial = 0;

/** One running server process: `<argv> -f -U <sock> memory <size>`, or `<argv> … <plugin>`. */
class Server {
  constructor(spec, size, label, plugin = ["memory", size]) {
    this.name = spec.name;
    this.size = size;
    this.sock = path.join(sockDir, `${serverSerial++}-${spec.name}.sock`);
    this.uri = `nbd+unix:///?socket=${this.sock}`;
    this.logPath = path.join(RUN_DIR, `${spec.name}-${label}.log`);
    this.argv = [...spec.argv, "-f", "-U", this.sock, ...plugin];
  }

  async start(timeoutMs = 30_000) {
    const logFd = fs.openSync(this.logPath, "w");
    try {
      this.child = spawn(this.argv[0], this.argv.slice(1), {
        cwd: REPO,
        env: ENV,
        stdio: ["ignore", logFd, logFd],
      });
    } finally {
      fs.closeSync(logFd);
    }
    liveChildren.add(this.child);
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exitStatus = signal ?? code;
        liveChildren.delete(this.child);
        resolve();
      });
      this.child.on("error", (error) => {
        this.exitStatus = String(error);
        liveChildren.delete(this.child);
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitStatus !== undefined) {
        throw new Error(`exited (${this.exitStatus}) before serving: ${this.logTail()}`);
      }
      if (fs.existsSync(this.sock) && (await greets(this.sock))) {
        this.pid = this.child.pid;
        return this;
      }
      await sleep(50);
    }
    await this.stop();
    throw new Error(`not serving on ${this.sock} after ${timeoutMs} ms: ${this.logTail()}`);
  }

  /** The process we measure: its comm, and a warning when it has children (a wrapper). */
  identity() {
    let comm = "?";
    let children = "";
    try {
      comm = fs.readFileSync(`/proc/${this.pid}/comm`, "utf8").trim();
      children = fs
        .readdirSync(`/proc/${this.pid}/task`)
        .map((t) => fs.readFileSync(`/proc/${this.pid}/task/${t}/children`, "utf8").trim())
        .filter(Boolean)
        .join(" ");
    } catch {
      // gone already
    }
    return { pid: this.pid, comm, children };
  }

  alive() {
    return this.exitStatus === undefined;
  }

  rss() {
    return vmHwmMiB(this.pid);
  }

  logTail() {
    try {
      return fs.readFileSync(this.logPath, "utf8").trim().split("\n").slice(-3).join(" | ") ||
        "(no output)";
    } catch {
      return "(no log)";
    }
  }

  async stop() {
    if (!this.child || this.exitStatus !== undefined) return;
    this.child.kill("SIGTERM");
    await Promise.race([this.exited, sleep(10_000)]);
    if (this.exitStatus === undefined) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/** True when the socket answers with the NBD greeting. */
function greets(sock) {
  return new Promise((resolve) => {
    const conn = net.connect(sock);
    let got = Buffer.alloc(0);
    let settled = false;
    const done = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2000);
    conn.on("data", (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 8) done(got.subarray(0, 8).toString("latin1") === "NBDMAGIC");
    });
    conn.on("error", () => done(false));
    conn.on("close", () => done(false));
  });
}

// ---------------------------------------------------------------------------------------------
// Workloads. Each returns the figure for one server in one repetition.

const CPU_PIN = os.cpus().length > 1 ? "1" : "0";

let opts;

async function fio(server, name, rw, bs, iodepth, { pin = false, size } = {}) {
  const out = path.join(RUN_DIR, `fio-${name}-${server.name}-${server.label}.json`);
  const args = [
    `--name=${name}`,
    "--ioengine=nbd",
    `--uri=${server.uri}`,
    `--rw=${rw}`,
    `--bs=${bs}`,
    `--iodepth=${iodepth}`,
    "--norandommap",
    "--output-format=json",
    `--output=${out}`,
  ];
  if (size) args.push(`--size=${size}`);
  else {
    args.push("--time_based", `--runtime=${opts.fioRuntime}s`);
    if (opts.fioRamp) args.push(`--ramp_time=${opts.fioRamp}s`);
  }
  const timeoutMs = (opts.fioRuntime + opts.fioRamp + 60) * 1000;
  let restore;
  if (pin) restore = pinServer(server.pid, CPU_PIN);
  try {
    const result = pin
      ? await run("taskset", ["-c", CPU_PIN, "fio", ...args], { timeoutMs })
      : await run("fio", args, { timeoutMs });
    check(result, "fio");
    const job = JSON.parse(fs.readFileSync(out, "utf8")).jobs[0];
    if (job.error) throw new Error(`fio job error ${job.error}`);
    const dir = rw.includes("trim") ? job.trim : rw.includes("write") ? job.write : job.read;
    return { iops: dir.iops, bw: dir.bw_bytes, ms: job.job_runtime, ios: dir.total_ios };
  } finally {
    if (restore) restore();
  }
}

/** `taskset -a -p -c CPU PID` on every thread of the server; returns the undo. */
function pinServer(pid, cpu) {
  const r = spawnSync("taskset", ["-p", "-c", String(pid)], { env: ENV, encoding: "utf8" });
  const before = /:\s*([\d,-]+)\s*$/.exec(r.stdout ?? "")?.[1];
  if (!before) throw new Error(`cannot read the affinity of pid ${pid}: ${r.stderr}`);
  const pinned = spawnSync("taskset", ["-a", "-p", "-c", cpu, String(pid)], {
    env: ENV,
    encoding: "utf8",
  });
  if (pinned.status !== 0) throw new Error(`taskset failed: ${pinned.stderr}`);
  return () =>
    spawnSync("taskset", ["-a", "-p", "-c", before, String(pid)], { env: ENV, encoding: "utf8" });
}

async function nbdcopy(args, what) {
  const r = check(await run("nbdcopy", args, { timeoutMs: 300_000 }), what);
  return r.ms;
}

/** Runs python in nbdsh connected to the server; returns its stdout. */
async function nbdsh(server, code, what) {
  const r = check(await run("nbdsh", ["-u", server.uri, "-c", code], { timeoutMs: 300_000 }), what);
  return r.stdout.trim();
}

const SCATTER_CODE = `
import random
r = random.Random(20240901)
blocks = r.sample(range(h.get_size() // 4096), 1000)
buf = bytes(r.getrandbits(8) for _ in range(4096))
for b in blocks:
    h.pwrite(buf, b * 4096)
h.flush()
print(len(blocks))
`;

const ZERO_CODE = `
import time
t = time.perf_counter()
h.zero(1 << 30, 0)
print(time.perf_counter() - t)
`;

/**
 * The metrics reported, in table order. `better`: which way the value is better. `ratio`:
 * "speed" = how many times faster than nbdkit (higher is better), "cost" = ours / nbdkit
 * (lower is better). `target`: {min} or {max} on the ratio, or {absMax} on the value.
 */
const METRICS = [
  {
    id: "randread-qd1",
    label: "4k randread qd1",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.3 },
  },
  {
    id: "randread-qd1-pinned",
    label: "4k randread qd1, pinned (`taskset -c 1`)",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.3 },
  },
  {
    id: "randread-qd32",
    label: "4k randread qd32",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.2 },
  },
  {
    id: "randwrite-qd32",
    label: "4k randwrite qd32",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.2 },
  },
  {
    id: "seqread-1m-qd8",
    label: "1 MiB seq read qd8",
    unit: "B/s",
    better: "higher",
    target: { min: 1.2 },
  },
  {
    id: "seqwrite-1m-qd8",
    label: "1 MiB seq write qd8",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "prefill",
    label: "1 GiB first-touch prefill (`nbdcopy` file → disk)",
    unit: "ms",
    better: "lower",
    ratio: "speed",
    target: { min: 1.0 },
  },
  {
    id: "firsttouch-fio",
    label: "1 GiB first-touch write (fio 1 MiB qd8, 1 connection; info)",
    unit: "B/s",
    better: "higher",
  },
  {
    id: "nbdcopy-null",
    label: "`nbdcopy --no-extents` 1 GiB → `null:`",
    unit: "ms",
    better: "lower",
    ratio: "speed",
    target: { min: 1.0 },
  },
  {
    id: "randtrim-qd32",
    label: "4k randtrim qd32",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "zero-1g",
    label: "write-zeroes 1 GiB (one request, full disk)",
    unit: "ms",
    better: "lower",
    ratio: "speed",
    target: { min: 1.0 },
  },
  {
    id: "cow-randwrite-qd32",
    label: "4k randwrite qd32, `--filter=cow` over memory (fresh overlay)",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "cow-seqread-1m-qd8",
    label: "1 MiB seq read qd8, `--filter=cow` over memory (overlay written in order)",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "cow-seqread-scattered-1m-qd8",
    label: "1 MiB seq read qd8, `--filter=cow` over memory (overlay first written at random)",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "cache-seqread-1m-qd8",
    label: "1 MiB seq read qd8, `--filter=cache cache-on-read=true` over file (cold cache)",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "cache-randread-qd32",
    label: "4k randread qd32, `--filter=cache cache-on-read=true` over file (after that)",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "cache-randwrite-qd32",
    label: "4k randwrite qd32, `--filter=cache` (writeback) over file",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "curl-seqread-1m-qd8",
    label: "1 MiB seq read qd8, `-r curl` from a local web server (node:http, ranges)",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "curl-randread-qd32",
    label: "4k randread qd32, `-r curl` from the same web server",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "s3-seqwrite-1m-qd8",
    label: "1 MiB seq write qd8, `S3` on a local Ceph gateway (64 KiB objects, whole disk)",
    unit: "B/s",
    better: "higher",
    target: { min: 2.0 },
  },
  {
    id: "s3-seqread-1m-qd8",
    label: "1 MiB seq read qd8, `S3` on the same gateway (objects that exist)",
    unit: "B/s",
    better: "higher",
    target: { min: 2.0 },
  },
  {
    id: "s3-randread-qd32",
    label: "4k randread qd32, `S3` on the same gateway (objects that exist)",
    unit: "IOPS",
    better: "higher",
    target: { min: 2.0 },
  },
  {
    id: "nbd-randread-qd32",
    label:
      "4k randread qd32, `nbd socket=` proxying nbdkit memory (1 GiB written); nbdkit: its nbd plugin",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "nbd-seqread-1m-qd8",
    label: "1 MiB seq read qd8, `nbd socket=` proxying nbdkit memory; nbdkit: its nbd plugin",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "client-seqread-1m",
    label:
      "a client reading nbdkit memory (1 GiB) in order: `nbdts/client` in Node, 1 MiB qd8 (nbdts-node column) vs `nbdcopy --no-extents … null:` (nbdkit column)",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "sh-randread-qd1",
    label: "4k randread qd1, `sh` script (dd per request, parallel)",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "sh-randread-qd32",
    label: "4k randread qd32, `sh` script (dd per request, parallel)",
    unit: "IOPS",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "sh-seqread-1m-qd8",
    label: "1 MiB seq read qd8, `sh` script (dd per request, parallel)",
    unit: "B/s",
    better: "higher",
    target: { min: 1.0 },
  },
  {
    id: "map-64g",
    label: "`nbdinfo --map`, 64 GiB disk, 1000 × 4 KiB written",
    unit: "ms",
    better: "lower",
    ratio: "cost",
    target: { max: 0.5 },
  },
  {
    id: "rss-1g",
    label: "peak RSS (VmHWM), 1 GiB written",
    unit: "MiB",
    better: "lower",
    ratio: "cost",
    target: { max: 1.15 },
  },
  {
    id: "rss-64g",
    label: "peak RSS (VmHWM), 64 GiB sparse, 1000 × 4 KiB written",
    unit: "MiB",
    better: "lower",
    ratio: "cost",
    target: { absMax: 80 },
  },
  {
    id: "startup",
    label: "start-up: `-U - memory 1M --run true`, wall (bare runtime, over bare)",
    unit: "ms",
    better: "lower",
    target: { overBareMax: STARTUP_OVER_BARE_MAX },
  },
  {
    id: "rss-end",
    label: "peak RSS (VmHWM) after all 1 GiB workloads (info)",
    unit: "MiB",
    better: "lower",
    ratio: "cost",
  },
];

// ---------------------------------------------------------------------------------------------
// The run

/** results[metric][server] = [value per repetition]; failures[server] = [messages]. */
const results = Object.fromEntries(METRICS.map((m) => [m.id, {}]));
const failures = {};
const identities = {};
const extentCounts = {};
/** bareStarts[server] = the wall ms of its bare runtime, one per start-up, paired by index. */
const bareStarts = {};

function record(metric, server, value) {
  (results[metric][server] ??= []).push(value);
}

function fail(server, what, error) {
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  (failures[server] ??= []).push(message);
  log(`  ${server}: FAILED ${message}`);
}

/**
 * Starts one fresh server per spec (serving `plugin`, default `memory <size>`); those that fail
 * to start are reported and left out.
 */
async function startAll(specs, size, label, plugin = undefined) {
  const started = [];
  for (const spec of specs) {
    const server = new Server(spec, size, label, plugin);
    server.label = label;
    try {
      await server.start();
      identities[spec.name] ??= server.identity();
      if (identities[spec.name].children) {
        log(
          `  warning: ${spec.name} pid ${server.pid} has children (${
            identities[spec.name].children
          }); VmHWM is the parent's`,
        );
      }
      started.push(server);
    } catch (error) {
      fail(spec.name, `start (${size}, ${label})`, error);
    }
  }
  return started;
}

async function stopAll(servers) {
  await Promise.all(servers.map((s) => s.stop()));
}

/** Runs `body` against each server in turn; a failure is reported and the others go on. */
async function each(servers, what, body) {
  log(what);
  for (const server of servers) {
    if (!server.alive()) {
      fail(
        server.name,
        what,
        new Error(`server exited (${server.exitStatus}): ${server.logTail()}`),
      );
      continue;
    }
    try {
      await body(server);
    } catch (error) {
      fail(server.name, what, error);
    }
  }
}

/** Whether --only (if given) names this workload. */
function wanted(...ids) {
  return !opts.only || ids.some((id) => opts.only.has(id));
}

/** The S3 workloads, and the size of their disk (4096 objects of 64 KiB). */
const S3_WORKLOADS = ["s3-seqwrite-1m-qd8", "s3-seqread-1m-qd8", "s3-randread-qd32"];
const S3_DISK = "256M";

/** The bench's own S3 store, started on first use and stopped when the bench ends. */
let s3Started;
function s3Store() {
  s3Started ??= startS3Store();
  return s3Started;
}

/** Stops the S3 store if one was started. */
async function stopS3Store() {
  const store = await s3Started?.catch(() => undefined);
  s3Started = undefined;
  try {
    store?.stop();
  } catch (error) {
    log(`warning: could not stop the S3 store: ${error}`);
  }
}

/** The workloads run on the prefilled 1 GiB disk, in the order they run. */
const PREFILLED = [
  "rss-1g",
  "randread-qd1",
  "randread-qd1-pinned",
  "randread-qd32",
  "seqread-1m-qd8",
  "nbdcopy-null",
  "randwrite-qd32",
  "seqwrite-1m-qd8",
  "zero-1g",
  "randtrim-qd32",
  "rss-end",
];

/**
 * Start-up: each server serves a 1 MiB disk to `true` and exits, and right after, its bare
 * runtime starts with nothing to do; servers take turns, --startup-runs times. Wall time from
 * spawn to exit, as a test suite that starts hundreds of servers waits for it.
 */
async function startups(tag, specs) {
  log(`${tag} startup ×${opts.startupRuns}`);
  for (let i = 0; i < opts.startupRuns; i++) {
    for (const spec of specs) {
      const [program, ...args] = spec.argv;
      const started = await run(program, [...args, ...STARTUP_ARGS], { timeoutMs: 30_000 });
      if (started.code !== 0) {
        fail(spec.name, "startup", new Error(`exit ${started.code}: ${started.stderr.trim()}`));
        continue;
      }
      const bare = BARE[spec.name];
      if (bare) {
        const idle = check(await run(bare[0], bare.slice(1)), `${spec.name} bare runtime`);
        (bareStarts[spec.name] ??= []).push(idle.ms);
      }
      record("startup", spec.name, started.ms);
    }
  }
}

async function repetition(rep, specs) {
  const tag = `rep${rep}`;
  if (wanted("startup")) await startups(tag, specs);
  const fioJob = (metric, rw, bs, qd, extra) =>
    wanted(metric) &&
    each(live, `${tag} ${metric}`, async (s) => {
      const r = await fio(s, metric, rw, bs, qd, extra);
      record(metric, s.name, bs === "1M" ? r.bw : r.iops);
    });

  // First touch through fio, one connection, on fresh servers.
  let live;
  if (wanted("firsttouch-fio")) {
    live = await startAll(specs, "1G", `${tag}-firsttouch`);
    await each(live, `${tag} firsttouch-fio`, async (s) => {
      const r = await fio(s, "firsttouch", "write", "1M", 8, { size: "1G" });
      record("firsttouch-fio", s.name, r.bw);
    });
    await stopAll(live);
  }

  // First-touch prefill with nbdcopy on fresh servers; they then serve the 1 GiB workloads.
  if (wanted("prefill", ...PREFILLED)) {
    live = await startAll(specs, "1G", tag);
    await each(live, `${tag} prefill`, async (s) => {
      const ms = await nbdcopy([DATA_FILE, s.uri], "nbdcopy prefill");
      if (wanted("prefill")) record("prefill", s.name, ms);
      if (wanted("rss-1g")) record("rss-1g", s.name, s.rss());
    });
    await fioJob("randread-qd1", "randread", "4k", 1);
    await fioJob("randread-qd1-pinned", "randread", "4k", 1, { pin: true });
    await fioJob("randread-qd32", "randread", "4k", 32);
    await fioJob("seqread-1m-qd8", "read", "1M", 8);
    if (wanted("nbdcopy-null")) {
      await each(live, `${tag} nbdcopy-null`, async (s) => {
        record(
          "nbdcopy-null",
          s.name,
          await nbdcopy(["--no-extents", s.uri, "null:"], "nbdcopy to null:"),
        );
      });
    }
    await fioJob("randwrite-qd32", "randwrite", "4k", 32);
    await fioJob("seqwrite-1m-qd8", "write", "1M", 8);
    if (wanted("zero-1g", "randtrim-qd32")) {
      await each(live, `${tag} zero-1g`, async (s) => {
        record("zero-1g", s.name, Number(await nbdsh(s, ZERO_CODE, "write-zeroes")) * 1000);
      });
      await each(live, `${tag} refill (not measured)`, async (s) => {
        await nbdcopy([DATA_FILE, s.uri], "nbdcopy refill");
      });
    }
    await fioJob("randtrim-qd32", "randtrim", "4k", 32);
    if (wanted("rss-end")) {
      for (const s of live) if (s.alive()) record("rss-end", s.name, s.rss());
    }
    await stopAll(live);
  }

  // The cow filter over an empty memory disk. Sequential reads of an overlay that nbdcopy wrote
  // in order (not measured), on fresh servers; then, on others, random writes first touching the
  // overlay's 64 KiB blocks (a read-modify-write of each), the whole disk written over them (not
  // measured, so that every server's overlay holds all of it), and the same sequential reads:
  // now nbdts finds the blocks scattered in memory in the order they were first written.
  const cow = ["--filter=cow", "memory", "1G"];
  const fillOverlay = () =>
    each(live, `${tag} cow overlay fill (not measured)`, async (s) => {
      await nbdcopy([DATA_FILE, s.uri], "nbdcopy into the overlay");
    });
  if (wanted("cow-seqread-1m-qd8")) {
    live = await startAll(specs, "1G", `${tag}-cow-in-order`, cow);
    await fillOverlay();
    await fioJob("cow-seqread-1m-qd8", "read", "1M", 8);
    await stopAll(live);
  }
  if (wanted("cow-randwrite-qd32", "cow-seqread-scattered-1m-qd8")) {
    live = await startAll(specs, "1G", `${tag}-cow`, cow);
    await fioJob("cow-randwrite-qd32", "randwrite", "4k", 32);
    if (wanted("cow-seqread-scattered-1m-qd8")) await fillOverlay();
    await fioJob("cow-seqread-scattered-1m-qd8", "read", "1M", 8);
    await stopAll(live);
  }

  // The cache filter over the file plugin: the first sequential pass fills the cache
  // (cache-on-read), random reads then hit it, and writes stay in it (writeback, no flush).
  if (wanted("cache-seqread-1m-qd8", "cache-randread-qd32", "cache-randwrite-qd32")) {
    const plugin = ["--filter=cache", "file", CACHE_FILE, "cache-on-read=true"];
    live = await startAll(specs, "1G", `${tag}-cache`, plugin);
    await fioJob("cache-seqread-1m-qd8", "read", "1M", 8);
    await fioJob("cache-randread-qd32", "randread", "4k", 32);
    await fioJob("cache-randwrite-qd32", "randwrite", "4k", 32);
    await stopAll(live);
  }

  // The curl plugin reading the 1 GiB data file from a web server in this process, which every
  // server's plugin reads from in turn: ranged GETs, 1 MiB at 8 and 4 KiB at 32 in flight.
  if (wanted("curl-seqread-1m-qd8", "curl-randread-qd32")) {
    const web = await startRangeServer(fs.readFileSync(DATA_FILE));
    live = await startAll(specs, "1G", `${tag}-curl`, ["-r", "curl", web.url]);
    await fioJob("curl-seqread-1m-qd8", "read", "1M", 8);
    await fioJob("curl-randread-qd32", "randread", "4k", 32);
    await stopAll(live);
    await web.close();
  }

  // The S3 plugin on a Ceph gateway of the bench's own, one disk of 64 KiB objects that every
  // server serves in turn, each behind --filter=blocksize: nbdkit 1.32.5's S3 plugin takes no
  // request smaller than its objects, nor objects over 64 KiB. The first server fills the disk
  // (not measured); then each server writes the whole disk over it (1 MiB at 8 in flight), and
  // every server reads it, 1 MiB at 8 and 4 KiB at 32, so every object read exists. The bucket
  // is emptied after (the OSD keeps objects in memory).
  if (wanted(...S3_WORKLOADS)) {
    let store;
    try {
      store = await s3Store();
    } catch (error) {
      for (const spec of specs) fail(spec.name, `${tag} S3 store`, error);
    }
    if (store) {
      const plugin = ["--filter=blocksize", ...store.plugin("disk", S3_DISK, "64K")];
      live = await startAll(specs, S3_DISK, `${tag}-s3`, plugin);
      // Every server replaces objects that exist: the gateway makes a new object faster than it
      // replaces one, so without this the first writer of a repetition would be favoured.
      await each(live.slice(0, 1), `${tag} s3 disk fill (not measured)`, async (s) => {
        await fio(s, "s3-fill", "write", "1M", 8, { size: S3_DISK });
      });
      await each(live, `${tag} s3-seqwrite-1m-qd8`, async (s) => {
        const r = await fio(s, "s3-seqwrite-1m-qd8", "write", "1M", 8, { size: S3_DISK });
        if (wanted("s3-seqwrite-1m-qd8")) record("s3-seqwrite-1m-qd8", s.name, r.bw);
      });
      await fioJob("s3-seqread-1m-qd8", "read", "1M", 8);
      await fioJob("s3-randread-qd32", "randread", "4k", 32);
      await stopAll(live);
      await store.empty();
    }
  }

  // The nbd plugin: one nbdkit memory disk, written once, behind each server's nbd plugin in
  // turn (nbdkit's own for nbdkit); then clients alone reading that disk: nbdts/client in Node
  // against nbdcopy.
  if (wanted("nbd-randread-qd32", "nbd-seqread-1m-qd8", "client-seqread-1m")) {
    const backend = await startAll([{ name: "backend", argv: ["nbdkit"] }], "1G", `${tag}-nbd`);
    await each(backend, `${tag} nbd backend fill (not measured)`, async (s) => {
      await nbdcopy([DATA_FILE, s.uri], "nbdcopy into the backend");
    });
    if (backend.length > 0 && wanted("nbd-randread-qd32", "nbd-seqread-1m-qd8")) {
      live = await startAll(specs, "1G", `${tag}-nbd-proxy`, ["nbd", `socket=${backend[0].sock}`]);
      await fioJob("nbd-randread-qd32", "randread", "4k", 32);
      await fioJob("nbd-seqread-1m-qd8", "read", "1M", 8);
      await stopAll(live);
    }
    if (backend.length > 0 && wanted("client-seqread-1m")) {
      log(`${tag} client-seqread-1m`);
      const uri = backend[0].uri;
      const bytes = GiB;
      const ours = check(
        await run(process.execPath, [path.join(REPO, "scripts/bench-client-read.mjs"), uri, "8"]),
        "nbdts/client read",
      );
      record("client-seqread-1m", "nbdts-node", bytes / (Number(ours.stdout.trim()) / 1000));
      const ms = await nbdcopy(["--no-extents", uri, "null:"], "nbdcopy to null:");
      record("client-seqread-1m", REFERENCE, bytes / (ms / 1000));
    }
    await stopAll(backend);
  }

  // The sh plugin: a process started for every request, the same script for every server.
  if (wanted("sh-randread-qd1", "sh-randread-qd32", "sh-seqread-1m-qd8")) {
    live = await startAll(specs, "1G", `${tag}-sh`, ["sh", SH_SCRIPT]);
    await fioJob("sh-randread-qd1", "randread", "4k", 1);
    await fioJob("sh-randread-qd32", "randread", "4k", 32);
    await fioJob("sh-seqread-1m-qd8", "read", "1M", 8);
    await stopAll(live);
  }

  // A 64 GiB sparse disk with 1000 scattered 4 KiB writes: map time and memory.
  if (!wanted("map-64g", "rss-64g")) return;
  live = await startAll(specs, "64G", `${tag}-64g`);
  await each(
    live,
    `${tag} scatter 1000 × 4 KiB`,
    (s) => nbdsh(s, SCATTER_CODE, "scattered writes"),
  );
  for (let i = 0; i < (wanted("map-64g") ? opts.mapRuns : 0); i++) {
    await each(live, `${tag} map-64g #${i + 1}`, async (s) => {
      const r = check(
        await run("nbdinfo", ["--map", s.uri], { timeoutMs: 60_000 }),
        "nbdinfo --map",
      );
      record("map-64g", s.name, r.ms);
      extentCounts[s.name] = r.stdout.trim().split("\n").length;
    });
  }
  if (wanted("rss-64g")) {
    for (const s of live) {
      if (s.alive()) record("rss-64g", s.name, s.rss());
    }
  }
  await stopAll(live);
}

// ---------------------------------------------------------------------------------------------
// Report

function fmtValue(metric, v) {
  if (v === undefined) return "–";
  switch (metric.unit) {
    case "IOPS":
      return v >= 1e4 ? `${(v / 1000).toFixed(1)}k` : `${(v / 1000).toFixed(2)}k`;
    case "B/s":
      return v >= 0.1 * GiB ? `${(v / GiB).toFixed(2)} GiB/s` : `${(v / MiB).toFixed(1)} MiB/s`;
    case "ms":
      return v >= 100
        ? `${v.toFixed(0)} ms`
        : v >= 10
        ? `${v.toFixed(1)} ms`
        : `${v.toFixed(2)} ms`;
    case "MiB":
      return `${v.toFixed(0)} MiB`;
    default:
      return String(v);
  }
}

function ratioOf(metric, ours, ref) {
  if (ours === undefined || ref === undefined || ours <= 0 || ref <= 0) return undefined;
  const kind = metric.ratio ?? "speed";
  const oursBetterWhenHigher = metric.better === "higher";
  if (kind === "speed") return oursBetterWhenHigher ? ours / ref : ref / ours;
  return oursBetterWhenHigher ? ref / ours : ours / ref;
}

function verdict(metric, value, ratio) {
  const t = metric.target;
  if (!t) return undefined;
  if (t.absMax !== undefined) return value === undefined ? undefined : value <= t.absMax;
  if (ratio === undefined) return undefined;
  return t.min !== undefined ? ratio >= t.min : ratio <= t.max;
}

function targetText(metric) {
  const t = metric.target;
  if (!t) return "–";
  if (t.overBareMax !== undefined) return `≤ bare + ${t.overBareMax} ms`;
  if (t.absMax !== undefined) return `≤ ${t.absMax} ${metric.unit}`;
  return t.min !== undefined ? `≥ ${t.min.toFixed(2)}×` : `≤ ${t.max.toFixed(2)}×`;
}

/**
 * A start-up cell: the median, the bare runtime's median and the difference, against the
 * target; the spread is the lowest and highest difference of a start-up and the bare start
 * that followed it. Fills `cell` for the JSON summary.
 */
function overBare(metric, name, med, cell) {
  const mine = results[metric.id][name] ?? [];
  const bare = bareStarts[name] ?? [];
  const bareMed = median(bare);
  if (med === undefined || bareMed === undefined) {
    return { text: med === undefined ? "–" : fmtValue(metric, med), spread: "–" };
  }
  const over = med - bareMed;
  const ok = over <= metric.target.overBareMax;
  Object.assign(cell, { bare: bareMed, bareValues: bare, overBare: over, met: ok });
  const paired = mine.map((v, i) => v - bare[i]).filter((d) => Number.isFinite(d));
  const signed = (ms) => `${ms < 0 ? "−" : "+"}${Math.abs(ms).toFixed(1)} ms`;
  return {
    text: `${fmtValue(metric, med)} (bare ${fmtValue(metric, bareMed)}, ${signed(over)})${
      ok ? " ✅" : " ❌"
    }`,
    spread: paired.length ? `${signed(Math.min(...paired))} … ${signed(Math.max(...paired))}` : "–",
  };
}

function buildReport(serverNames) {
  const ours = serverNames.filter((n) => n !== REFERENCE);
  const hasRef = serverNames.includes(REFERENCE);
  const cols = [...(hasRef ? [REFERENCE] : []), ...ours];
  const summary = {};
  const lines = [];
  lines.push(
    `| workload | target | ${
      cols.map((c) => (c === REFERENCE ? `${c} (median)` : `${c}: median, ratio`)).join(" | ")
    } |`,
  );
  lines.push(`|---|---|${cols.map(() => "--:").join("|")}|`);
  const spread = [`| workload | ${ours.join(" | ")} |`, `|---|${ours.map(() => "--:").join("|")}|`];
  for (const metric of METRICS) {
    if (!wanted(metric.id)) continue;
    const row = results[metric.id];
    const ref = median(row[REFERENCE] ?? []);
    const cells = [];
    const spreadCells = [];
    summary[metric.id] = {};
    for (const name of cols) {
      const med = median(row[name] ?? []);
      const cell = { median: med, values: row[name] ?? [] };
      if (name === REFERENCE) {
        cells.push(fmtValue(metric, med));
      } else if (metric.target?.overBareMax !== undefined) {
        const over = overBare(metric, name, med, cell);
        cells.push(over.text);
        spreadCells.push(over.spread);
      } else {
        const ratio = hasRef ? ratioOf(metric, med, ref) : undefined;
        const ok = verdict(metric, med, ratio);
        cell.ratio = ratio;
        cell.met = ok;
        const mine = row[name] ?? [];
        const theirs = row[REFERENCE] ?? [];
        if (hasRef && mine.length > 1 && mine.length === theirs.length) {
          const paired = mine.map((v, i) => ratioOf(metric, v, theirs[i])).filter((r) =>
            r !== undefined
          );
          cell.pairedRatios = paired;
          if (paired.length) {
            spreadCells.push(
              `${Math.min(...paired).toFixed(2)}–${Math.max(...paired).toFixed(2)}×`,
            );
          } else spreadCells.push("–");
        } else spreadCells.push("–");
        const mark = ok === undefined ? "" : ok ? " ✅" : " ❌";
        cells.push(
          med === undefined
            ? "–"
            : `${fmtValue(metric, med)}, ${
              ratio === undefined ? "–" : `${ratio.toFixed(2)}×`
            }${mark}`,
        );
      }
      summary[metric.id][name] = cell;
    }
    lines.push(`| ${metric.label} | ${targetText(metric)} | ${cells.join(" | ")} |`);
    spread.push(`| ${metric.label} | ${spreadCells.join(" | ")} |`);
  }
  return { table: lines.join("\n"), spread: spread.join("\n"), summary };
}

function machineInfo() {
  const cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? "unknown";
  let osName = "unknown";
  try {
    osName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1] ??
      osName;
  } catch {
    // no os-release
  }
  const nproc = firstLine("nproc", []) ?? String(os.cpus().length);
  return {
    nproc,
    model,
    kernel: `${os.type()} ${os.release()}`,
    os: osName,
    memory: `${(os.totalmem() / GiB).toFixed(1)} GiB`,
    node: process.version,
    deno: firstLine(KNOWN_SERVERS[1].argv[0], ["--version"]),
    bun: firstLine(KNOWN_SERVERS[2].argv[0], ["--version"]),
    nbdkit: firstLine("nbdkit", ["--version"]),
    fio: firstLine("fio", ["--version"]),
    nbdcopy: firstLine("nbdcopy", ["--version"]),
    commit: firstLine("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]),
    dirty: (spawnSync("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    }).stdout ?? "").trim() !== "",
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(" "),
  };
}

function markdownSection(report, info, meta) {
  const m = info;
  const fails = Object.entries(failures);
  return [
    `Measured ${meta.date} in ${meta.minutes} min with`,
    "",
    "```sh",
    meta.command,
    "```",
    "",
    `**Machine:** ${m.nproc} CPUs (\`nproc\`), ${m.model}, ${m.memory} RAM, ${m.os}, kernel ${m.kernel}; ` +
    `load average at the start ${m.loadavg}; ${meta.foreign}.  `,
    `**Versions:** node ${m.node}, ${m.deno ?? "deno: not found"}, bun ${m.bun ?? "not found"}, ${
      m.nbdkit ?? "nbdkit: not found"
    }, ` +
    `${m.fio ?? "fio: not found"}, ${m.nbdcopy ?? "nbdcopy: not found"}; nbdts at ${
      m.commit ?? "?"
    }${m.dirty ? " with uncommitted changes" : ""}.  `,
    `**Settings:** ${meta.reps} interleaved repetitions, fio \`--runtime=${meta.fioRuntime}s\`` +
    `${
      meta.fioRamp ? ` after \`--ramp_time=${meta.fioRamp}s\`` : ""
    }, \`nbdinfo --map\` ${meta.mapRuns}× and ${meta.startupRuns} start-ups per repetition.`,
    "",
    "Medians over the repetitions. Ratio: how many times faster than nbdkit for speeds and times " +
    "with a `≥` target; ours ÷ nbdkit for the `nbdinfo --map` time and for memory (`≤` targets). " +
    "Start-up: each runtime against its own bare start (the runtime doing nothing), not nbdkit.",
    "",
    report.table,
    "",
    "<details><summary>Spread: lowest–highest ratio of the paired runs (same repetition, same slot)</summary>",
    "",
    report.spread,
    "",
    "</details>",
    "",
    `Processes measured (VmHWM read from \`/proc/PID/status\`): ${
      Object.entries(meta.identities)
        .map(([name, id]) => `${name} → \`${id.comm}\``)
        .join(", ")
    }.`,
    "",
    ...(fails.length
      ? [
        "Failures (left out of the medians):",
        "",
        ...fails.flatMap(([name, list]) =>
          list.map((f) => `- ${name}: ${f.replace(/\s+/g, " ").slice(0, 300)}`)
        ),
        "",
      ]
      : []),
  ].join("\n");
}

const BEGIN = "<!-- bench:begin (written by scripts/bench.mjs; edits inside are overwritten) -->";
const END = "<!-- bench:end -->";

function writeBenchmarksMd(section) {
  const file = path.join(REPO, "BENCHMARKS.md");
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    text =
      `# Benchmarks\n\nRun \`npm run bench\`; see scripts/bench.mjs.\n\n## Latest results\n\n${BEGIN}\n${END}\n`;
  }
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) text = `${text.trimEnd()}\n\n## Latest results\n\n${BEGIN}\n${END}\n`;
  const start = text.indexOf(BEGIN) + BEGIN.length;
  const end = text.indexOf(END);
  fs.writeFileSync(file, `${text.slice(0, start)}\n${section}\n${text.slice(end)}`);
  // `npm run check` runs `deno fmt --check` over *.md: leave the file formatted as it wants.
  const fmt = spawnSync(KNOWN_SERVERS[1].argv[0], ["fmt", "--quiet", file], {
    cwd: REPO,
    env: ENV,
  });
  if (fmt.status !== 0) log("warning: could not run deno fmt on BENCHMARKS.md");
}

// ---------------------------------------------------------------------------------------------

function ensureDataFile() {
  let ok = false;
  try {
    ok = fs.statSync(DATA_FILE).size === GiB;
  } catch {
    // missing
  }
  if (!ok) {
    log(`writing 1 GiB of random data to ${path.relative(REPO, DATA_FILE)}`);
    const fd = fs.openSync(DATA_FILE, "w");
    const chunk = Buffer.allocUnsafe(64 * MiB);
    for (let done = 0; done < GiB; done += chunk.length) fs.writeSync(fd, randomFillSync(chunk));
    fs.closeSync(fd);
  }
  if (wanted("cache-seqread-1m-qd8", "cache-randread-qd32", "cache-randwrite-qd32")) {
    fs.copyFileSync(DATA_FILE, CACHE_FILE);
  }
  fs.writeFileSync(
    SH_SCRIPT,
    `#!/bin/sh
case "$1" in
  thread_model) echo parallel ;;
  get_size) echo 1G ;;
  pread) exec dd if='${DATA_FILE}' skip=$4 count=$3 iflag=skip_bytes,count_bytes status=none ;;
  *) exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
  // Read it once so that no server's prefill pays for the disk.
  const fd = fs.openSync(DATA_FILE, "r");
  const buf = Buffer.allocUnsafe(16 * MiB);
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  fs.closeSync(fd);
}

function missingTools() {
  return ["fio", "nbdcopy", "nbdinfo", "nbdsh", "taskset"].filter(
    (tool) => spawnSync("sh", ["-c", `command -v ${tool}`], { env: ENV }).status !== 0,
  );
}

async function main() {
  opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const command = [
    "npm run bench",
    ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : []),
  ].join(" ");
  // Start-up needs no client; every other workload needs them, and the 1 GiB of data.
  const clientWorkloads = METRICS.some((metric) => metric.id !== "startup" && wanted(metric.id));
  const missing = clientWorkloads ? missingTools() : [];
  if (missing.length) {
    console.error(
      `bench: missing ${
        missing.join(", ")
      } (apt-get install -y nbdkit libnbd-bin python3-libnbd fio util-linux)`,
    );
    process.exit(1);
  }
  fs.mkdirSync(OUT, { recursive: true });
  fs.rmSync(RUN_DIR, { recursive: true, force: true });
  fs.mkdirSync(RUN_DIR, { recursive: true });
  fs.writeFileSync(EMPTY_MODULE, "");
  sockDir = fs.mkdtempSync(path.join(os.tmpdir(), "nbdts-bench-"));

  const stopEverything = async (signal) => {
    for (const child of liveChildren) child.kill("SIGKILL");
    await stopS3Store();
    fs.rmSync(sockDir, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.on("SIGINT", stopEverything);
  process.on("SIGTERM", stopEverything);

  if (opts.build && opts.servers.includes("nbdts-node")) {
    log("npm run build:bundle");
    check(await run("npm", ["run", "--silent", "build:bundle"]), "npm run build:bundle");
  }
  if (clientWorkloads) ensureDataFile();
  const info = machineInfo();
  const cpuAtStart = cpuSnapshot();

  // Probe every server once; one that does not start is reported and skipped for the run.
  const specs = [];
  for (const name of opts.servers) {
    const spec = KNOWN_SERVERS.find((s) => s.name === name);
    const probe = new Server(spec, "1G", "probe");
    try {
      await probe.start();
      identities[name] = probe.identity();
      await probe.stop();
      specs.push(spec);
      log(`${name}: serving (pid ${identities[name].pid}, ${identities[name].comm})`);
    } catch (error) {
      fail(name, "start", error);
      await probe.stop();
    }
  }
  if (specs.length === 0) {
    console.error("bench: no server started");
    process.exit(1);
  }
  log(
    `servers: ${
      specs.map((s) => s.name).join(", ")
    }; ${opts.reps} repetitions; fio runtime ${opts.fioRuntime}s`,
  );

  for (let rep = 1; rep <= opts.reps; rep++) await repetition(rep, specs);
  await stopS3Store();

  const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
  // CPU time that neither this script nor its children (reaped, so counted in cutime) used:
  // anything else running on the cores skews the figures, nbdkit's threads most.
  const foreignCores = otherCores(cpuAtStart, cpuSnapshot());
  const foreignText = foreignCores === undefined
    ? "CPU use of other processes unknown"
    : `other processes kept ${
      foreignCores.toFixed(2)
    } of ${info.nproc} cores busy on average during the run` +
      (foreignCores > 0.1 ? " (**a busy machine: the figures are skewed**)" : "");
  log(foreignText.replace(/\*/g, ""));
  const names = specs.map((s) => s.name);
  const report = buildReport(names);
  const meta = {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    minutes,
    command,
    reps: opts.reps,
    fioRuntime: opts.fioRuntime,
    fioRamp: opts.fioRamp,
    mapRuns: opts.mapRuns,
    startupRuns: opts.startupRuns,
    foreign: foreignText,
    foreignCores,
    identities: Object.fromEntries(names.map((n) => [n, identities[n]])),
  };
  const section = markdownSection(report, info, meta);
  console.log(`\n${section}`);

  const json = JSON.stringify(
    {
      meta,
      machine: info,
      servers: names,
      identities,
      extentCounts,
      failures,
      metrics: METRICS,
      results,
      summary: report.summary,
    },
    null,
    2,
  );
  const stamp = meta.date.replace(/[:]/g, "");
  fs.writeFileSync(path.join(OUT, `bench-${stamp}.json`), json);
  fs.writeFileSync(path.join(OUT, "latest.json"), json);
  fs.writeFileSync(path.join(OUT, "latest.md"), `${section}\n`);
  if (opts.md) {
    writeBenchmarksMd(section);
    log("BENCHMARKS.md updated");
  }
  log(
    `done in ${minutes} min; raw figures in ${path.relative(REPO, path.join(OUT, "latest.json"))}`,
  );
  fs.rmSync(sockDir, { recursive: true, force: true });
}

main().catch(async (error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  for (const child of liveChildren) child.kill("SIGKILL");
  await stopS3Store();
  if (sockDir) fs.rmSync(sockDir, { recursive: true, force: true });
  process.exit(1);
});
