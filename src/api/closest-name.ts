/**
 * "Did you mean …?": the known name a mistyped one most likely meant (`writeat` → `writeAt`,
 * `get_size` → `getSize`, `ENOSPACE` → `ENOSPC`), or nothing when none is close. Case and
 * underscores are ignored first, then up to two edits (letters inserted, removed, changed or
 * swapped), fewer for short names, so an author's own helper names are rarely taken for typos.
 */

/** Lower case, no underscores or dashes: `get_size` and `getSize` read the same. */
function fold(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, "");
}

/** Edits from `a` to `b` (optimal string alignment: a swap of neighbours is one edit). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const change = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + change);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(best);
    }
  }
  return rows[a.length][b.length];
}

/** The edits allowed for a name this long: none for 1-3 letters, one up to 5, else two. */
function allowance(name: string): number {
  if (name.length <= 3) return 0;
  return name.length <= 5 ? 1 : 2;
}

/**
 * The name among `known` that `name` most likely meant, or undefined when none is close enough.
 * `aliases` maps other spellings to a known name (nbdkit's C names: `pread` → `readAt`).
 */
export function closestName(
  name: string,
  known: readonly string[],
  aliases: Readonly<Record<string, string>> = {},
): string | undefined {
  const folded = fold(name);
  for (const [alias, meant] of Object.entries(aliases)) if (fold(alias) === folded) return meant;
  let best: string | undefined;
  let bestDistance = allowance(folded) + 1;
  for (const candidate of known) {
    const edits = distance(folded, fold(candidate));
    if (edits < bestDistance) {
      best = candidate;
      bestDistance = edits;
    }
  }
  return best;
}
