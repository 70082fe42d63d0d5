#!/usr/bin/env node
/**
 * `node scripts/bench-luks.mjs [--reps=5] [--size=64] [--iter-time=10]`: the luks filter's
 * throughput beside nbdkit's, in one interleaved run. A LUKSv1 disk of SIZE MiB (qemu-img's
 * default cipher, aes-256-xts-plain64; PBKDF2 timed to ITER-TIME ms, where qemu-img's default of
 * 2000 makes opening the disk cost more than reading it) is made in bench-out/luks/; then each
 * server in turn (nbdkit, nbdts on Node, Deno, Bun) serves it with `--filter=luks` and nbdcopy
 * reads the whole payload to null: and writes it back from a random file. Each time counts from nbdcopy's start to its
 * end inside `--run`, so it includes every connection's open (nbdcopy makes four) but not the
 * server's own start. Prints the median MB/s (10^6 bytes) of each, and the ratio to nbdkit.
 * Needs qemu-img, nbdcopy and nbdkit; never run in CI.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const DIR = path.join(REPO, "bench-out", "luks");
const ENV = { ...process.env, PATH: ["/usr/bin", "/bin", process.env.PATH ?? ""].join(":") };
const option = (name, fallback) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const REPS = option("reps", 5);
const MIB = option("size", 64);
const ITER_TIME = option("iter-time", 10);
const PASS = "bench passphrase";

const SERVERS = [
  ["nbdkit", ["nbdkit"]],
  ["nbdts-node", [process.execPath, path.join(REPO, "nbd.js")]],
  ["nbdts-deno", [
    path.join(REPO, "node_modules/.bin/deno"),
    "run",
    "-A",
    "--quiet",
    path.join(REPO, "nbd.ts"),
  ]],
  ["nbdts-bun", [path.join(REPO, "node_modules/.bin/bun"), path.join(REPO, "nbd.ts")]],
];

fs.mkdirSync(DIR, { recursive: true });
const image = path.join(DIR, "disk.luks");
const source = path.join(DIR, "source.raw");
fs.rmSync(image, { force: true });
for (let attempt = 1; !fs.existsSync(image); attempt++) {
  // qemu-img times PBKDF2 with CPU time first, which fails now and then on a busy machine.
  const made = spawnSync("qemu-img", [
    "create",
    "-q",
    "-f",
    "luks",
    "--object",
    `secret,id=sec0,data=${PASS}`,
    "-o",
    `key-secret=sec0,iter-time=${ITER_TIME}`,
    image,
    `${MIB}M`,
  ], { env: ENV });
  if (made.status !== 0 && attempt >= 10) throw new Error(String(made.stderr));
}
const bytes = new Uint8Array(MIB * 1024 * 1024);
randomFillSync(bytes);
fs.writeFileSync(source, bytes);

/** Seconds nbdcopy took, timed inside the server's --run. */
function timed(argv, copy) {
  const script = `s=$(date +%s.%N); ${copy}; e=$(date +%s.%N); echo "$s $e"`;
  const out = execFileSync(argv[0], [
    ...argv.slice(1),
    "-U",
    "-",
    "file",
    image,
    "--filter=luks",
    `passphrase=${PASS}`,
    "--run",
    script,
  ], { env: ENV, cwd: DIR }).toString().trim().split("\n").at(-1).split(" ");
  return Number(out[1]) - Number(out[0]);
}

const results = {};
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, argv] of SERVERS) {
    for (
      const [op, copy] of [["read", `nbdcopy "$uri" null:`], ["write", `nbdcopy ${source} "$uri"`]]
    ) {
      ((results[name] ??= {})[op] ??= []).push(timed(argv, copy));
    }
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const rate = (s) => (MIB * 1024 * 1024) / 1e6 / s;
console.log(`| server | read MB/s | × nbdkit | write MB/s | × nbdkit |`);
console.log(`| --- | --- | --- | --- | --- |`);
for (const [name] of SERVERS) {
  const r = rate(median(results[name].read));
  const w = rate(median(results[name].write));
  const rr = r / rate(median(results.nbdkit.read));
  const wr = w / rate(median(results.nbdkit.write));
  console.log(
    `| ${name} | ${r.toFixed(0)} | ${rr.toFixed(2)} | ${w.toFixed(0)} | ${wr.toFixed(2)} |`,
  );
}
