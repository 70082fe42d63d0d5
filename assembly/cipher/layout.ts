// Where the cipher module keeps things in its own linear memory, and the numbers its JS side
// shares with it. Every other file of assembly/cipher/ takes its addresses from here.
//
//   TABLES   S-box, inverse S-box, Te0..Te3, Td0..Td3   (built once by init)
//   KEYS     raw key bytes written by JS: the cipher key, then the ESSIV key
//   ROUND KEYS  data key (encrypt and decrypt), tweak key (XTS), ESSIV key: 240 B each
//   IV       the current sector's IV, or XTS tweak
//   DATA     the bytes JS copies in, ciphers in place, and copies out (and one block more)
//   PREV     for deciphering through Web Crypto: the block before each block of DATA
//
// The module exports its memory; nothing here grows, so a JS view of it never goes stale.

/** Bytes of one LUKS sector: the IV counts these, whatever the device's own sector size. */
export const SECTOR_SIZE: u32 = 512;

/** Bytes of one AES block. */
export const BLOCK_SIZE: u32 = 16;

/** Bytes JS may place in DATA at once: 128 sectors. */
export const DATA_SIZE: u32 = 64 * 1024;

/** Room for raw keys: an XTS key of two AES-256 keys (64 B), then an ESSIV key (32 B). */
export const KEY_AREA_SIZE: u32 = 128;

/** Where the ESSIV key starts inside the key area. */
export const ESSIV_KEY_OFFSET: u32 = 64;

/** Round keys of one AES key: at most 15 rounds × 16 bytes. */
export const SCHEDULE_SIZE: u32 = 240;

/** Block cipher modes (the JS side holds the same numbers). */
export const MODE_ECB: u32 = 0;
export const MODE_CBC: u32 = 1;
export const MODE_XTS: u32 = 2;

/** IV generators: LUKS's "plain" (32-bit sector), "plain64", "essiv". */
export const IV_PLAIN: u32 = 0;
export const IV_PLAIN64: u32 = 1;
export const IV_ESSIV: u32 = 2;

export const SBOX: usize = memory.data(256, 64);
export const INV_SBOX: usize = memory.data(256, 64);
/** Te0..Te3, 1 KiB each, one after the other: encryption rounds. */
export const TE: usize = memory.data(4096, 64);
/** Td0..Td3, 1 KiB each: decryption rounds. */
export const TD: usize = memory.data(4096, 64);

export const KEYS: usize = memory.data(KEY_AREA_SIZE, 16);

/** Data key: encryption round keys, then decryption round keys (equivalent inverse cipher). */
export const DATA_ENC: usize = memory.data(SCHEDULE_SIZE, 16);
export const DATA_DEC: usize = memory.data(SCHEDULE_SIZE, 16);
/** XTS's second key, which only ever encrypts (the tweak). */
export const TWEAK_ENC: usize = memory.data(SCHEDULE_SIZE, 16);
/** ESSIV's key, the hash of the cipher key; it only ever encrypts (the IV). */
export const ESSIV_ENC: usize = memory.data(SCHEDULE_SIZE, 16);

export const IV: usize = memory.data(BLOCK_SIZE, 16);

/** DATA_SIZE bytes, and room for the one block padBlock() writes after them. */
export const DATA: usize = memory.data(DATA_SIZE + BLOCK_SIZE, 64);

export const PREV: usize = memory.data(DATA_SIZE, 64);
