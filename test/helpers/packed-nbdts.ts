/**
 * nbdts as a plugin author gets it: the checkout packed as npm would publish it (`npm pack`, of
 * the files already built), installed with npm into a fresh folder outside the checkout. npm
 * never reaches the registry: the dependencies are packed from the checkout's node_modules and
 * put in the folder first, unsaved, so that only nbdts's own package.json keeps them there.
 */

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./servers.ts";

const NODE_MODULES = join(REPO_ROOT, "node_modules");

function npm(args: readonly string[], cwd: string): string {
  return execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Packs `folder` into `into`, without running its scripts; the tarball's path. */
function pack(folder: string, into: string): string {
  const name = npm(["pack", "--ignore-scripts", "--pack-destination", into, folder], REPO_ROOT)
    .trim().split("\n").at(-1)!;
  return join(into, name);
}

/** The packages nbdts needs at run time, with esbuild's binary for this machine. */
function runtimeDependencies(): string[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  const names = Object.keys(manifest.dependencies ?? {});
  const esbuild = JSON.parse(readFileSync(join(NODE_MODULES, "esbuild", "package.json"), "utf8"));
  const binaries = Object.keys(esbuild.optionalDependencies ?? {});
  return [...names, ...binaries.filter((name) => existsSync(join(NODE_MODULES, name)))];
}

/**
 * A new folder in the system's temporary directory, made by `npm init -y` (so, as npm 11 makes
 * it, a CommonJS package), with nbdts installed from its tarball. Returns the folder; its parent
 * holds the tarballs too, for the caller to remove.
 */
export function installPackedNbdts(): string {
  const root = mkdtempSync(join(tmpdir(), "nbdts-author-"));
  const packs = join(root, "packs");
  const project = join(root, "project");
  mkdirSync(packs);
  mkdirSync(project);
  const nbdts = pack(REPO_ROOT, packs);
  const dependencies = runtimeDependencies().map((name) => pack(join(NODE_MODULES, name), packs));
  npm(["init", "-y"], project);
  npm(["install", "--offline", "--no-save", ...dependencies], project);
  npm(["install", "--offline", nbdts], project);
  return project;
}
