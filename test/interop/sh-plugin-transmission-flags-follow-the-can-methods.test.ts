/**
 * The shape of nbdkit's tests/test-eflags.sh: a script answering some can_* and is_* methods
 * (exit 0 true, 3 false, "none"/"emulate"/"native" for can_fua and can_cache, the rest missing)
 * gives the transmission flags nbdkit gives for it, as libnbd reads them off the wire: writes
 * off unless can_write says yes, trim, zero and FUA only with writes, zeroes emulated (and so
 * fast zeroes refused at once) when can_zero is missing, FUA emulated by flush, -r over it all,
 * multi-conn only where connections run in parallel. As there, the script's $tmpdir shows that
 * no method is asked twice for one connection. (nbdkit's cases that need the nozero, nocache
 * and noparallel filters are left out: nbdts has none of them.)
 */

import { describe, expect, test } from "vitest";
import { scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { callLog, writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

interface Case {
  readonly name: string;
  readonly options?: readonly string[];
  /** Shell case arms besides get_size. */
  readonly arms: string;
  /** The flags libnbd sees set besides HAS_FLAGS. */
  readonly flags: readonly string[];
}

const CASES: readonly Case[] = [
  { name: "nothing but get_size", arms: "", flags: ["READ_ONLY", "SEND_DF"] },
  { name: "--no-sr", options: ["--no-sr"], arms: "", flags: ["READ_ONLY"] },
  { name: "-r", options: ["-r"], arms: "", flags: ["READ_ONLY", "SEND_DF"] },
  {
    name: "can_write",
    arms: "can_write) exit 0 ;;",
    flags: ["SEND_WRITE_ZEROES", "SEND_DF", "SEND_FAST_ZERO"],
  },
  {
    name: "-r can_write",
    options: ["-r"],
    arms: "can_write) exit 0 ;;",
    flags: ["READ_ONLY", "SEND_DF"],
  },
  {
    name: "can_write false, can_trim and can_zero true",
    arms: "can_write) exit 3 ;; can_trim|can_zero) exit 0 ;;",
    flags: ["READ_ONLY", "SEND_DF"],
  },
  {
    name: "can_write can_trim",
    arms: "can_write|can_trim) exit 0 ;;",
    flags: ["SEND_TRIM", "SEND_WRITE_ZEROES", "SEND_DF", "SEND_FAST_ZERO"],
  },
  {
    name: "can_write is_rotational",
    arms: "can_write|is_rotational) exit 0 ;;",
    flags: ["ROTATIONAL", "SEND_WRITE_ZEROES", "SEND_DF", "SEND_FAST_ZERO"],
  },
  {
    name: "-r can_write is_rotational",
    options: ["-r"],
    arms: "can_write|is_rotational) exit 0 ;;",
    flags: ["READ_ONLY", "ROTATIONAL", "SEND_DF"],
  },
  {
    name: "can_write can_fua=native",
    arms: "can_write) exit 0 ;; can_fua) echo native ;;",
    flags: ["SEND_FUA", "SEND_WRITE_ZEROES", "SEND_DF", "SEND_FAST_ZERO"],
  },
  {
    name: "-r can_write can_fua=native",
    options: ["-r"],
    arms: "can_write) exit 0 ;; can_fua) echo native ;;",
    flags: ["READ_ONLY", "SEND_DF"],
  },
  {
    name: "-r can_write can_flush",
    options: ["-r"],
    arms: "can_write|can_flush) exit 0 ;;",
    flags: ["READ_ONLY", "SEND_FLUSH", "SEND_DF"],
  },
  {
    name: "can_write can_flush: FUA emulated",
    arms: "can_write|can_flush) exit 0 ;;",
    flags: ["SEND_FLUSH", "SEND_FUA", "SEND_WRITE_ZEROES", "SEND_DF", "SEND_FAST_ZERO"],
  },
  {
    name: "can_write can_flush can_fua=none",
    arms: "can_write|can_flush) exit 0 ;; can_fua) echo NONE ;;",
    flags: ["SEND_FLUSH", "SEND_WRITE_ZEROES", "SEND_DF", "SEND_FAST_ZERO"],
  },
  {
    name: "-r can_multi_conn",
    options: ["-r"],
    arms: "can_multi_conn) exit 0 ;;",
    flags: ["READ_ONLY", "SEND_DF", "CAN_MULTI_CONN"],
  },
  {
    name: "-r can_multi_conn under serialize_connections",
    options: ["-r"],
    arms: "can_multi_conn) exit 0 ;; thread_model) echo serialize_connections ;;",
    flags: ["READ_ONLY", "SEND_DF"],
  },
  {
    name: "-r can_cache=emulate",
    options: ["-r"],
    arms: "can_cache) echo emulate ;;",
    flags: ["READ_ONLY", "SEND_DF", "SEND_CACHE"],
  },
  {
    name: "-r can_fast_zero",
    options: ["-r"],
    arms: "can_fast_zero) exit 0 ;;",
    flags: ["READ_ONLY", "SEND_DF"],
  },
  {
    name: "can_write can_zero: no fast zero without can_fast_zero",
    arms: "can_write|can_zero) exit 0 ;;",
    flags: ["SEND_WRITE_ZEROES", "SEND_DF"],
  },
  {
    name: "can_write can_zero can_fast_zero=false",
    arms: "can_write|can_zero) exit 0 ;; can_fast_zero) exit 3 ;;",
    flags: ["SEND_WRITE_ZEROES", "SEND_DF"],
  },
  {
    name: "can_write can_fast_zero=false, can_zero missing",
    arms: "can_write) exit 0 ;; can_fast_zero) exit 3 ;;",
    flags: ["SEND_WRITE_ZEROES", "SEND_DF"],
  },
  {
    name: "can_write can_zero can_fast_zero",
    arms: "can_write|can_zero|can_fast_zero) exit 0 ;;",
    flags: ["SEND_WRITE_ZEROES", "SEND_DF", "SEND_FAST_ZERO"],
  },
];

/** Each flag as libnbd tells it, in the order of the bits. */
const FLAGS_OF = `
flags = [name for name, on in [
    ("READ_ONLY", h.is_read_only()), ("SEND_FLUSH", h.can_flush()), ("SEND_FUA", h.can_fua()),
    ("ROTATIONAL", h.is_rotational()), ("SEND_TRIM", h.can_trim()),
    ("SEND_WRITE_ZEROES", h.can_zero()), ("SEND_DF", h.can_df()),
    ("CAN_MULTI_CONN", h.can_multi_conn()), ("SEND_CACHE", h.can_cache()),
    ("SEND_FAST_ZERO", h.can_fast_zero())] if on]
`;

describe.each(servers)(
  "transmission flags follow the sh script's can methods ($name)",
  (server) => {
    test.for(CASES)("$name", async ({ options, arms, flags }, context) => {
      requireClients(context, "nbdsh");
      const dir = scratchDir();
      const repeats = callLog(dir);
      // As test-eflags.sh: a method seen before on this server is logged as a repeat.
      const script = writeScript(
        `if test -f "$tmpdir/seen_$1"; then ${repeats.line}; else touch "$tmpdir/seen_$1"; fi
case "$1" in
  get_size) echo 1M ;;
  ${arms}
  *) exit 2 ;;
esac
`,
        dir,
      );
      const result = await libnbd(
        server,
        ["sh", script],
        `
      h = connect()
      ${FLAGS_OF.trim().split("\n").join("\n      ")}
      report(flags=flags)
    `,
        { serverOptions: options },
      );
      expect(result.flags).toEqual(flags);
      expect(repeats.calls()).toEqual([]);
    });
  },
);
