/**
 * Reads base:allocation block-status answers the way a spec-following client does, so tests
 * can ask "what is the status at this offset?" without depending on a server's page size.
 */

/** base:allocation status bits (NBD spec, "base:allocation metadata context"). */
export const STATE = { HOLE: 1, ZERO: 2 } as const;

/** One descriptor as libnbd reports it: [length, status flags]. */
export type Descriptor = readonly [length: number, flags: number];

/** A map entry as `nbdinfo --map --json` prints it. */
export interface MapEntry {
  readonly offset: number;
  readonly length: number;
  readonly type: number;
  readonly description?: string;
}

/** Turns descriptors that start at `start` into map entries with absolute offsets. */
export function toMap(descriptors: readonly Descriptor[], start = 0): MapEntry[] {
  let offset = start;
  return descriptors.map(([length, type]) => {
    const entry = { offset, length, type };
    offset += length;
    return entry;
  });
}

/** The status flags covering `offset`, or undefined when the map does not reach it. */
export function statusAt(map: readonly MapEntry[], offset: number): number | undefined {
  return map.find((entry) => entry.offset <= offset && offset < entry.offset + entry.length)?.type;
}

/**
 * Checks the shape rules of the spec ("Block status" section): entries are contiguous from
 * `start`, each length is non-zero, and none runs past the end of the export. Returns the
 * list of problems (empty when the map is well formed).
 */
export function mapProblems(map: readonly MapEntry[], start: number, exportSize: number): string[] {
  const problems: string[] = [];
  if (map.length === 0) problems.push("no entries");
  let expected = start;
  for (const entry of map) {
    if (entry.offset !== expected) {
      problems.push(`entry at ${entry.offset} should start at ${expected}`);
    }
    if (entry.length <= 0) problems.push(`entry at ${entry.offset} has length ${entry.length}`);
    expected = entry.offset + entry.length;
  }
  if (expected > exportSize) {
    problems.push(`map ends at ${expected}, past the export size ${exportSize}`);
  }
  return problems;
}
