/**
 * Partitioned disk images for the partition filter's tests, made by the real tools: sfdisk
 * (util-linux) for MBR and GPT, sgdisk (gdisk) for GPT. Each partition's first and last
 * sector are filled with its number, so a read shows which partition it reached. Also turns an
 * image's tables into a data plugin expression, for maps both servers report alike.
 */

import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { clientEnv } from "./captive.ts";

export const SECTOR = 512;

/** One partition as `sfdisk -J` lists it, in sectors. */
export interface Partition {
  readonly number: number;
  readonly start: number;
  readonly size: number;
}

/** Runs a partitioning tool on `image`, failing with its output if it fails. */
function partitionTool(argv: readonly string[], input?: string): string {
  const result = spawnSync(argv[0], argv.slice(1), { input, env: clientEnv(), encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${argv.join(" ")} failed: ${result.stderr}${result.error ?? ""}`);
  }
  return result.stdout;
}

/** A new sparse image of `bytes` bytes in `dir`. */
function emptyImage(dir: string, name: string, bytes: number): string {
  const image = join(dir, name);
  writeFileSync(image, new Uint8Array(0));
  truncateSync(image, bytes);
  return image;
}

/** The partitions sfdisk finds in `image`, each filled with its number at both ends. */
function partitionsOf(image: string): Partition[] {
  const table = JSON.parse(partitionTool(["sfdisk", "-J", image])) as {
    partitiontable: { partitions: { node: string; start: number; size: number; type: string }[] };
  };
  const found = table.partitiontable.partitions
    .filter((part) => !["5", "f", "85"].includes(part.type)) // extended: a container only
    .map((part) => ({
      number: Number(/(\d+)$/.exec(part.node)![1]),
      start: part.start,
      size: part.size,
    }));
  const fd = openSync(image, "r+");
  for (const part of found) {
    const fill = new Uint8Array(SECTOR).fill(part.number);
    writeSync(fd, fill, 0, SECTOR, part.start * SECTOR);
    writeSync(fd, fill, 0, SECTOR, (part.start + part.size - 1) * SECTOR);
  }
  closeSync(fd);
  return found;
}

/** An 8 MiB disk called `name` in `dir`, partitioned by sfdisk reading `script`. */
function sfdiskDisk(dir: string, name: string, script: readonly string[]) {
  const image = emptyImage(dir, name, 8 * 1024 * 1024);
  partitionTool(["sfdisk", "-q", image], [...script, ""].join("\n"));
  return { image, partitions: partitionsOf(image) };
}

/**
 * An 8 MiB MBR disk by sfdisk: primaries 1 and 2, an extended partition 3 holding logical
 * partitions 5 and 6; slot 4 is empty.
 */
export function mbrDisk(dir: string): { image: string; partitions: Partition[] } {
  return sfdiskDisk(dir, "mbr.img", [
    "label: dos",
    "start=2048, size=2048, type=83",
    "start=4096, size=1024, type=83",
    "start=6144, size=8192, type=5",
    "start=6208, size=1024, type=83",
    "start=8192, size=2048, type=83",
  ]);
}

/** An 8 MiB GPT disk by sfdisk: partitions 1 to 3. */
export function gptDisk(dir: string): { image: string; partitions: Partition[] } {
  return sfdiskDisk(dir, "gpt.img", [
    "label: gpt",
    "start=2048, size=2048",
    "start=4096, size=4096",
    "start=8192, size=2048",
  ]);
}

/** An 8 MiB GPT disk by sgdisk: partitions 1 and 3, entry 2 left unused. */
export function sgdiskDisk(dir: string): { image: string; partitions: Partition[] } {
  const image = emptyImage(dir, "sgdisk.img", 8 * 1024 * 1024);
  partitionTool(["sgdisk", "-o", "-n", "1:2048:4095", "-n", "3:8192:12287", image]);
  return { image, partitions: partitionsOf(image) };
}

/**
 * A data plugin expression for the tables of `image`: every run of non-zero bytes outside its
 * `partitions`, at its offset, so that the partitions are unwritten; then `extra`.
 */
export function tablesExpression(
  image: string,
  partitions: readonly Partition[],
  extra = "",
): string {
  const bytes = readFileSync(image);
  const inside = (at: number) =>
    partitions.some((part) => at >= part.start * SECTOR && at < (part.start + part.size) * SECTOR);
  const parts: string[] = [];
  for (let at = 0; at < bytes.length;) {
    if (bytes[at] === 0 || inside(at)) {
      at++;
      continue;
    }
    const run: number[] = [];
    const start = at;
    while (at < bytes.length && bytes[at] !== 0) run.push(bytes[at++]);
    parts.push(`@${start} ${run.join(" ")}`);
  }
  return `${parts.join(" ")} ${extra}`.trim();
}
