/**
 * The extent of the first Zstandard frame in a byte string (RFC 8878 §3.1.1), found by walking its
 * header and block headers without decoding anything. node:zlib's zstd stream compresses a chunk in
 * one pass only when the whole input arrives with ZSTD_e_end, and then its end-of-stream flush adds
 * an empty second frame; the first frame alone is what the chunk's one-shot encoding is, byte for
 * byte. Written by hand: no library exposes frame boundaries, and this is a few header fields.
 */

const MAGIC = 0xfd2fb528;

/** The first frame of `bytes` (a view), or undefined when `bytes` does not start with a whole frame. */
export function firstZstdFrame(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.byteLength < 6) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) return undefined;
  const fhd = bytes[4]!;
  const fcsFlag = fhd >> 6, singleSegment = (fhd >> 5) & 1, checksum = (fhd >> 2) & 1, dictFlag = fhd & 3;
  const fcsSize = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  let pos = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictFlag]! + fcsSize;
  for (;;) {
    if (pos + 3 > bytes.byteLength) return undefined;
    const header = bytes[pos]! | (bytes[pos + 1]! << 8) | (bytes[pos + 2]! << 16);
    const last = header & 1, type = (header >> 1) & 3, size = header >>> 3;
    if (type === 3) return undefined; // reserved
    pos += 3 + (type === 1 ? 1 : size); // an RLE block stores its one byte
    if (last) break;
  }
  pos += checksum ? 4 : 0;
  return pos <= bytes.byteLength ? bytes.subarray(0, pos) : undefined;
}
