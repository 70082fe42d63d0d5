/**
 * The shape of nbdkit's tests/test-multi-conn.sh (without its multi-conn filter): a script that
 * keeps a private copy of the disk for each connection (the handle its open printed names it)
 * and publishes a connection's writes when that connection flushes. Four clients at once see
 * what each connection's reads, writes and flushes make of it, in the same order on every
 * server, and can_multi_conn is false, as the script never says otherwise.
 */

import { describe, expect, test } from "vitest";
import { libnbd } from "../helpers/libnbd.ts";
import { writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Each connection reads and writes its own copy of $tmpdir/0; flush writes its writes back. */
const CACHING = `
copy() { [ -f "$tmpdir/$1" ] || cp "$tmpdir/0" "$tmpdir/$1"; }
case "$1" in
  get_ready) printf '%-32s' 'Initial contents' > "$tmpdir/0"; echo 0 > "$tmpdir/counter" ;;
  get_size) echo 32 ;;
  can_write|can_flush) exit 0 ;;
  open) n=$(( $(cat "$tmpdir/counter") + 1 )); echo $n > "$tmpdir/counter"; echo "c$n" ;;
  pread) copy "$2"; dd if="$tmpdir/$2" skip=$4 count=$3 iflag=skip_bytes,count_bytes status=none ;;
  pwrite)
    copy "$2"
    dd of="$tmpdir/$2" seek=$4 conv=notrunc oflag=seek_bytes status=none
    echo "$3 $4" >> "$tmpdir/$2.written" ;;
  flush)
    if [ -f "$tmpdir/$2.written" ]; then
      while read -r count offset; do
        dd if="$tmpdir/$2" of="$tmpdir/0" skip=$offset seek=$offset count=$count \\
           conv=notrunc iflag=skip_bytes,count_bytes oflag=seek_bytes status=none
      done < "$tmpdir/$2.written"
    fi
    rm -f "$tmpdir/$2" "$tmpdir/$2.written" ;;
  *) exit 2 ;;
esac
`;

describe.each(servers)("sh: connections see each other's writes after flush ($name)", (server) => {
  test("reads are cached per connection until it flushes; writes show once flushed", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["sh", writeScript(CACHING)],
      `
      h = [connect() for _ in range(4)]
      seen = [h[0].can_multi_conn()]
      read = lambda i: seen.append(bytes(h[i].pread(4, 0)).decode())
      read(0)
      h[1].pwrite(b"next ", 0)
      read(0); read(1); read(2)
      h[2].flush()
      read(0); read(1); read(2)
      h[1].flush()
      read(0); read(1); read(2); read(3)
      h[0].flush()
      h[2].flush()
      read(0); read(2)
      report(seen=seen)
    `,
    );
    expect(result.seen).toEqual([
      false,
      "Init",
      "Init",
      "next",
      "Init",
      "Init",
      "next",
      "Init",
      "Init",
      "next",
      "Init",
      "next",
      "next",
      "next",
    ]);
  });
});
