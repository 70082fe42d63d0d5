/**
 * Mistakes in the members of a plugin (checked when it loads) and of the handle its open()
 * returns (checked at the first open): a member that is none of ours but close to one
 * (`writeat`, `get_size`, nbdkit's `pread`) is most likely a typo that would pass silently — a
 * handle without writeAt is read-only — so it is named with the member meant; so is a method put
 * on the wrong object, and a callback that is not a function. A member close to no name is taken
 * for the author's own and left alone. Returns warnings; it never throws.
 */

import { closestName } from "../api/closest-name.ts";
import {
  HANDLE_CALLBACKS,
  HANDLE_EXTRAS,
  PLUGIN_CALLBACKS,
  PLUGIN_TEXTS,
  PLUGIN_VALUES,
} from "../api/plugin-members.ts";

export type MemberOwner = "plugin" | "handle";

const CALLBACKS: Record<MemberOwner, readonly string[]> = {
  plugin: Object.keys(PLUGIN_CALLBACKS).filter((name) => !PLUGIN_TEXTS.includes(name as never)),
  handle: Object.keys(HANDLE_CALLBACKS),
};

const KNOWN: Record<MemberOwner, readonly string[]> = {
  plugin: [...Object.keys(PLUGIN_CALLBACKS), ...PLUGIN_VALUES],
  handle: [...Object.keys(HANDLE_CALLBACKS), ...HANDLE_EXTRAS],
};

/** nbdkit's callback names that do not fold into ours (`get_size` does: getSize). */
const NBDKIT_ALIASES: Record<MemberOwner, Readonly<Record<string, string>>> = {
  plugin: {},
  handle: { pread: "readAt", pwrite: "writeAt" },
};

/** Own members, and the methods a class instance has from its prototypes. */
function memberNames(object: object): string[] {
  const names = new Set(Object.keys(object));
  for (
    let proto = Object.getPrototypeOf(object);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name !== "constructor") names.add(name);
    }
  }
  return [...names];
}

/** What is wrong with one member's value, if anything. */
function valueMistake(owner: MemberOwner, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (CALLBACKS[owner].includes(name) && typeof value !== "function") {
    return `${name}: is a ${typeof value}, not a method`;
  }
  if (owner === "plugin" && PLUGIN_TEXTS.includes(name as never) && typeof value !== "string") {
    return `${name}: is a ${typeof value}, not a string`;
  }
  return undefined;
}

/** One warning per mistaken member of `object`, the plugin or one of its handles. */
export function memberWarnings(owner: MemberOwner, object: object): string[] {
  const other: MemberOwner = owner === "plugin" ? "handle" : "plugin";
  const warnings: string[] = [];
  for (const name of memberNames(object)) {
    let value: unknown;
    try {
      value = (object as Record<string, unknown>)[name];
    } catch {
      continue; // a getter that throws is the author's business
    }
    if (KNOWN[owner].includes(name)) {
      const mistake = valueMistake(owner, name, value);
      if (mistake !== undefined) warnings.push(mistake);
    } else if (typeof value === "function" && CALLBACKS[other].includes(name)) {
      const where = owner === "plugin" ? "; return it from open()" : "";
      warnings.push(`${name}: a ${other} method, not a ${owner} one${where}`);
    } else {
      const meant = closestName(name, KNOWN[owner], NBDKIT_ALIASES[owner]);
      if (meant !== undefined) {
        const kind = typeof value === "function" ? "method" : "member";
        warnings.push(`${name}: not a ${owner} ${kind}; did you mean ${meant}?`);
      }
    }
  }
  return warnings;
}
