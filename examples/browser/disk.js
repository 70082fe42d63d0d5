// The page that uses a disk: connects to an nbdts --websocket server by its nbd+ws URI with the
// client of the edge bundle, shows the export's size and flags, draws its allocation map from
// block status, reads a sector as hex and writes one.
import { connect, STATE } from "../../build/nbdts-edge.js";

const $ = (id) => document.getElementById(id);
const SECTOR = 512;
let disk;

/** The allocation of the whole disk, asked in as many block status requests as it takes. */
async function allocation() {
  const size = Number(disk.size);
  const extents = [];
  for (let at = 0; at < size && extents.length < 100_000;) {
    const count = Math.min(size - at, 0x80000000);
    const got = await disk.blockStatus(count, at);
    if (got.length === 0) break;
    extents.push(...got);
    const last = got[got.length - 1];
    at = Number(last.offset) + Number(last.length); // a bigint only past 2^53
  }
  return extents;
}

/** One pixel column per 1/512 of the disk, coloured by what most of its bytes are. */
async function drawMap() {
  const canvas = $("map");
  const context = canvas.getContext("2d");
  const size = Number(disk.size);
  const columns = canvas.width;
  const colour = { data: "#1f4e9c", zero: "#9cc3f0", hole: "#eef0f4" };
  context.fillStyle = colour.hole;
  context.fillRect(0, 0, columns, 1);
  if (!disk.canBlockStatus) return;
  for (const { offset, length, flags } of await allocation()) {
    const kind = flags & STATE.HOLE ? "hole" : flags & STATE.ZERO ? "zero" : "data";
    if (kind === "hole") continue;
    const from = Math.floor((Number(offset) / size) * columns);
    const to = Math.max(from + 1, Math.ceil(((Number(offset) + Number(length)) / size) * columns));
    context.fillStyle = colour[kind];
    context.fillRect(from, 0, to - from, 1);
  }
}

function hexDump(bytes, base) {
  const lines = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${(base + at).toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join("\n");
}

async function readSector() {
  const offset = Number($("offset").value);
  $("hex").textContent = hexDump(await disk.read(SECTOR, offset), offset);
}

function flagNames() {
  const names = ["readOnly", "canFlush", "canFua", "canTrim", "canZero", "canFastZero", "canCache"];
  return names.filter((name) => disk[name]).concat(disk.canBlockStatus ? ["blockStatus"] : []);
}

async function run(action) {
  try {
    await action();
  } catch (error) {
    $("status").textContent = `error: ${error.message}`;
  }
}

$("connect").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    $("status").textContent = "connecting…";
    await disk?.disconnect();
    disk = await connect($("uri").value);
    $("size").textContent = `${disk.size} bytes`;
    $("flags").textContent = flagNames().join(" ");
    await drawMap();
    await readSector();
    $("status").textContent = "connected";
  });
});

$("read").addEventListener("click", (event) => {
  event.preventDefault();
  run(readSector);
});

$("write").addEventListener("click", (event) => {
  event.preventDefault();
  run(async () => {
    const sector = new Uint8Array(SECTOR);
    sector.set(new TextEncoder().encode($("text").value).subarray(0, SECTOR));
    await disk.pwrite(sector, Number($("offset").value));
    await disk.flush();
    await readSector();
    await drawMap();
    $("status").textContent = `wrote ${SECTOR} bytes at ${$("offset").value}`;
  });
});

const fromQuery = new URLSearchParams(location.search).get("uri");
if (fromQuery) $("uri").value = fromQuery;
