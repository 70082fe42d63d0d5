/**
 * Reads a LUKSv1 header (the "phdr", 592 bytes at the start of the disk; big-endian numbers)
 * and checks it as nbdkit's luks filter does, with its messages. Layout:
 *
 *   0    magic "LUKS\xba\xbe"        6    version u16 (1)
 *   8    cipher_name[32] "aes"       40   cipher_mode[32] "xts-plain64"
 *   72   hash_spec[32] "sha256"      104  payload_offset u32 (sectors)
 *   108  key_bytes u32               112  mk_digest[20]
 *   132  mk_digest_salt[32]          164  mk_digest_iterations u32
 *   168  uuid[40]                    208  8 key slots of 48 bytes:
 *
 *   +0 active u32 (0x00ac71f3 enabled, 0x0000dead disabled)   +4 iterations u32
 *   +8 salt[32]   +40 key_material_offset u32 (sectors)       +44 stripes u32
 */

export const HEADER_SIZE = 592;
/** Bytes of a LUKS sector: offsets in the header count these. */
export const LUKS_SECTOR = 512;
/** The smallest disk nbdkit accepts as LUKS. */
const MIN_DISK = 16384;

const MAGIC = [0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]; // "LUKS" 0xba 0xbe
const KEY_ENABLED = 0x00ac71f3;
const KEY_DISABLED = 0x0000dead;
const SLOTS = 8;
const SLOT_SIZE = 48;
const FIRST_SLOT = 208;
/** Key material is laid out in units of 4096 bytes (LUKS_ALIGN_KEYSLOTS). */
const KEYSLOT_ALIGN_SECTORS = 4096 / LUKS_SECTOR;

export interface KeySlot {
  readonly index: number;
  readonly iterations: number;
  readonly salt: Uint8Array;
  /** Where the slot's split key starts, in sectors. */
  readonly keyMaterialOffset: number;
  readonly stripes: number;
}

export interface LuksHeader {
  readonly cipherName: string;
  readonly cipherMode: string;
  readonly hashSpec: string;
  /** Where the encrypted payload starts, in sectors. */
  readonly payloadOffset: number;
  readonly keyBytes: number;
  readonly mkDigest: Uint8Array;
  readonly mkDigestSalt: Uint8Array;
  readonly mkDigestIterations: number;
  readonly uuid: string;
  /** The enabled key slots, in order. */
  readonly slots: readonly KeySlot[];
}

/** A refusal of the disk, failing the client's open as nbdkit's load_header does. */
function refuse(message: string): Error {
  return new Error(message);
}

/** The C string in a fixed-size field: up to its first NUL. */
function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder("latin1").decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** Sectors of key material a slot occupies, rounded as qemu and nbdkit round them. */
export function keyMaterialSectors(keyBytes: number, stripes: number): number {
  const sectors = Math.ceil((keyBytes * stripes) / LUKS_SECTOR);
  return Math.ceil(sectors / KEYSLOT_ALIGN_SECTORS) * KEYSLOT_ALIGN_SECTORS;
}

/** Refuses a disk too small to hold a LUKS header, before any of it is read. */
export function checkDiskSize(size: bigint): void {
  if (size < BigInt(MIN_DISK)) throw refuse("disk is too small to be LUKS-encrypted");
}

/** Decodes and checks the header in `bytes` (its first HEADER_SIZE) of a disk of `size` bytes. */
export function parseHeader(bytes: Uint8Array, size: bigint): LuksHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  if (!MAGIC.every((byte, i) => bytes[i] === byte)) {
    throw refuse("this disk does not contain a LUKS header");
  }
  const version = view.getUint16(6);
  if (version !== 1) {
    throw refuse(
      `this disk contains a LUKS version ${version} header, but this filter only supports LUKSv1`,
    );
  }
  const payloadOffset = view.getUint32(104);
  const keyBytes = view.getUint32(108);
  const mkDigestIterations = view.getUint32(164);
  if (BigInt(payloadOffset) >= size / BigInt(LUKS_SECTOR)) {
    throw refuse("bad LUKSv1 header: payload offset points beyond the end of the disk");
  }
  if (mkDigestIterations === 0) throw refuse("bad LUKSv1 header: master key iterations is 0");
  if (keyBytes > 1024) throw refuse("bad LUKSv1 header: master key is too long");
  const slots: KeySlot[] = [];
  for (let index = 0; index < SLOTS; index++) {
    const at = FIRST_SLOT + index * SLOT_SIZE;
    const active = view.getUint32(at);
    if (active === KEY_DISABLED) continue;
    if (active !== KEY_ENABLED) {
      throw refuse(`bad LUKSv1 header: key slot ${index} has an invalid active flag`);
    }
    const slot: KeySlot = {
      index,
      iterations: view.getUint32(at + 4),
      salt: bytes.slice(at + 8, at + 40),
      keyMaterialOffset: view.getUint32(at + 40),
      stripes: view.getUint32(at + 44),
    };
    checkSlot(slot, keyBytes, size);
    slots.push(slot);
  }
  return {
    cipherName: cString(bytes.subarray(8, 40)),
    cipherMode: cString(bytes.subarray(40, 72)),
    hashSpec: cString(bytes.subarray(72, 104)),
    payloadOffset,
    keyBytes,
    mkDigest: bytes.slice(112, 132),
    mkDigestSalt: bytes.slice(132, 164),
    mkDigestIterations,
    uuid: cString(bytes.subarray(168, 208)),
    slots,
  };
}

function checkSlot(slot: KeySlot, keyBytes: number, size: bigint): void {
  const name = `bad LUKSv1 header: key slot ${slot.index}`;
  if (slot.stripes === 0) throw refuse(`${name} is corrupted`);
  if (slot.stripes >= 10000) throw refuse(`${name} stripes too large`);
  if (slot.iterations === 0) throw refuse(`${name} iterations is 0`);
  const sectors = keyMaterialSectors(keyBytes, slot.stripes);
  if (sectors > 4096) throw refuse(`${name} key material length is too large`);
  const end = BigInt(slot.keyMaterialOffset + sectors) * BigInt(LUKS_SECTOR);
  if (BigInt(slot.keyMaterialOffset) * BigInt(LUKS_SECTOR) >= size || end >= size) {
    throw refuse(`${name} key material offset points beyond the end of the disk`);
  }
}
