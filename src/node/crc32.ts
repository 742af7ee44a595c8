/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum used by
 * zlib, gzip and PNG. Table-driven, one byte per step. `crc32(b)` of the ASCII
 * bytes of "123456789" is 0xCBF43926.
 * @internal
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of `bytes[start, end)`, continuing from `previous` (the result of
 * an earlier call over the bytes before, or 0 to start). Returns an unsigned 32-bit integer.
 */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
