/**
 * nbdinfo --map and --map --totals of one disk, for comparing a server's output with nbdkit's
 * byte for byte: the script that prints both, and the expected text, written as nbdinfo prints it.
 */

/** Shell text that prints `nbdinfo --map`, a line "---", then `nbdinfo --map --totals`. */
export const MAP_AND_TOTALS = 'nbdinfo --map "$uri" && echo --- && nbdinfo --map --totals "$uri"';

/**
 * What MAP_AND_TOTALS prints, from the two outputs as template literals whose first line break
 * (after the opening backtick) is left out.
 */
export function mapAndTotals(map: string, totals: string): string {
  return `${map.replace(/^\n/, "")}---\n${totals.replace(/^\n/, "")}`;
}
