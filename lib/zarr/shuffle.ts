/**
 * Byte shuffle, as numcodecs' Shuffle and HDF5's shuffle filter define it: byte k of every element
 * goes to the k-th plane (planes of n bytes, one after another). Written by hand because the
 * libraries at hand (zarrita, numcodecs.js) loop byte by byte and allocate their output; for the
 * common 4-byte types these move a 32-bit word at a time, which keeps shuffling a 35 MB chunk well
 * under the time its compression takes.
 */

/**
 * The 4 x 4 byte transpose of words a, b, c, d (little-endian hosts): word j of the result holds
 * byte j of each. It is its own inverse, so it both shuffles four elements and unshuffles them.
 */
function transpose4(a: number, b: number, c: number, d: number, out: Uint32Array, i0: number, step: number): void {
  out[i0] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | ((d & 0xff) << 24);
  out[i0 + step] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d & 0xff00) << 16);
  out[i0 + 2 * step] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d & 0xff0000) << 8);
  out[i0 + 3 * step] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | (d & 0xff000000);
}

const aligned = (b: Uint8Array) => b.byteOffset % 4 === 0;

/** `src` shuffled into `dst` (at least as long); returns the filled view of `dst`. Trailing bytes that make no whole element stay as they are. */
export function shuffle(src: Uint8Array, size: number, dst: Uint8Array): Uint8Array {
  const out = dst.subarray(0, src.length);
  const n = Math.floor(src.length / size);
  if (size === 4 && n % 4 === 0 && aligned(src) && aligned(out)) {
    const s = new Uint32Array(src.buffer, src.byteOffset, n), d = new Uint32Array(out.buffer, out.byteOffset, n);
    const q = n / 4;
    for (let i = 0; i < q; i++) transpose4(s[4 * i]!, s[4 * i + 1]!, s[4 * i + 2]!, s[4 * i + 3]!, d, i, q);
  } else {
    for (let k = 0; k < size; k++) for (let i = 0, base = k * n; i < n; i++) out[base + i] = src[i * size + k]!;
  }
  out.set(src.subarray(n * size), n * size);
  return out;
}

/** The inverse of `shuffle`, into `dst` (at least as long; by default a new buffer); returns the filled view. */
export function unshuffle(planes: Uint8Array, size: number, dst: Uint8Array = new Uint8Array(planes.length)): Uint8Array {
  const out = dst.subarray(0, planes.length);
  const n = Math.floor(planes.length / size);
  if (size === 4 && n % 4 === 0 && aligned(planes) && aligned(out)) {
    const s = new Uint32Array(planes.buffer, planes.byteOffset, n), d = new Uint32Array(out.buffer, out.byteOffset, n);
    const q = n / 4;
    for (let i = 0; i < q; i++) transpose4(s[i]!, s[q + i]!, s[2 * q + i]!, s[3 * q + i]!, d, 4 * i, 1);
  } else {
    for (let k = 0; k < size; k++) for (let i = 0, base = k * n; i < n; i++) out[i * size + k] = planes[base + i]!;
  }
  out.set(planes.subarray(n * size), n * size);
  return out;
}
