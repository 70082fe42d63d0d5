/**
 * The export lists a script's list_exports and default_export print, read exactly as nbdkit's
 * sh plugin reads them (plugins/sh/methods.c, parse_exports): a first line choosing the form
 * (NAMES, INTERLEAVED, NAMES+DESCRIPTIONS; anything else is NAMES without that line), then
 * lines. As there, only whole lines count: a last name without its newline is dropped, and so
 * is a last description without one.
 */

import type { ExportEntry } from "../../api/plugin.ts";

const INTERLEAVED = "INTERLEAVED\n";
const NAMES_AND_DESCRIPTIONS = "NAMES+DESCRIPTIONS\n";
const NAMES = "NAMES\n";

/** The exports listed in `text` (already cut at its first NUL). */
export function parseExports(text: string): ExportEntry[] {
  if (text.startsWith(INTERLEAVED)) return interleaved(text, INTERLEAVED.length);
  if (text.startsWith(NAMES_AND_DESCRIPTIONS)) {
    return namesThenDescriptions(text, NAMES_AND_DESCRIPTIONS.length);
  }
  return namesOnly(text, text.startsWith(NAMES) ? NAMES.length : 0);
}

/** The name default_export printed: the first line after the form line, or all that is left. */
export function parseDefaultExport(text: string): string {
  let start = 0;
  for (const form of [INTERLEAVED, NAMES_AND_DESCRIPTIONS, NAMES]) {
    if (text.startsWith(form)) {
      start = form.length;
      break;
    }
  }
  const end = text.indexOf("\n", start);
  return text.slice(start, end < 0 ? text.length : end);
}

function namesOnly(text: string, start: number): ExportEntry[] {
  const entries: ExportEntry[] = [];
  for (let at = start, end; (end = text.indexOf("\n", at)) >= 0; at = end + 1) {
    entries.push({ name: text.slice(at, end) });
  }
  return entries;
}

/**
 * Name and description lines in turn. A description with no newline after it reads as empty,
 * and the scan then goes on from its second character, as nbdkit's does.
 */
function interleaved(text: string, start: number): ExportEntry[] {
  const entries: ExportEntry[] = [];
  let at = start;
  for (;;) {
    const nameEnd = text.indexOf("\n", at);
    if (nameEnd < 0) return entries;
    const found = text.indexOf("\n", nameEnd + 1);
    const descriptionEnd = found < 0 ? nameEnd + 1 : found;
    entries.push({
      name: text.slice(at, nameEnd),
      description: text.slice(nameEnd + 1, descriptionEnd),
    });
    at = descriptionEnd + (descriptionEnd < text.length ? 1 : 0);
  }
}

/** The first half of the lines are names, the second half their descriptions, in order. */
function namesThenDescriptions(text: string, start: number): ExportEntry[] {
  // Move `descriptions` one line on for every two lines found from `start`.
  let descriptions = start;
  for (let scan = start, found; (found = text.indexOf("\n", scan)) >= 0;) {
    const next = text.indexOf("\n", found + 1);
    descriptions = text.indexOf("\n", descriptions) + 1;
    if (next < 0) break;
    scan = next + 1;
  }
  const entries: ExportEntry[] = [];
  for (let name = start, description = descriptions; name < descriptions;) {
    const nameEnd = text.indexOf("\n", name);
    const found = text.indexOf("\n", description);
    const descriptionEnd = found < 0 ? description : found;
    entries.push({
      name: text.slice(name, nameEnd),
      description: text.slice(description, descriptionEnd),
    });
    name = nameEnd + 1;
    description = descriptionEnd + 1;
  }
  return entries;
}
