/**
 * nbdinfo's default report, made comparable between servers and machines, and what it reports
 * for nbdkit 1.32.5 serving a writable 1 MiB memory disk with -o (oldstyle).
 */

/** The report without the lines that differ by run or machine: the URI and file(1)'s guess. */
export function portableInfo(stdout: string): string {
  return stdout.split("\n").filter((line) => !/^\t(uri|content):/.test(line)).join("\n");
}

/** portableInfo() of `nbdinfo URI` for `nbdkit -o memory 1M`. */
export const OLDSTYLE_MEMORY_1M = `protocol: oldstyle without TLS, using simple packets
export="":
	export-size: 1048576 (1M)
	is_rotational: false
	is_read_only: false
	can_cache: true
	can_df: false
	can_fast_zero: true
	can_flush: true
	can_fua: true
	can_multi_conn: true
	can_trim: true
	can_zero: true
`;
