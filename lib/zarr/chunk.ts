/** Turning a region's values into the bytes of one Zarr chunk. */
import { endianness } from "node:os";
import { allocateFor, elementSize, product, type ArrayData } from "../model.js";
import { forEachRun } from "../source/region.js";
import { encodeVlenUtf8 } from "./codecs.js";
import { elementOf, type ArrayEncoding } from "./encoding.js";

if (endianness() !== "LE") throw new Error("convert-to-zarr writes little-endian chunks and needs a little-endian host");

/** A full chunk's worth of the fill value (zeros when there is none). */
export function filled(e: ArrayEncoding, n: number): ArrayData {
  const a = allocateFor(elementOf(e), n);
  const f = e.fill;
  if (f === null || f === 0 || f === 0n) return a;
  if (e.dtype === "compound") {
    const one = Buffer.from(String(f), "base64");
    for (let i = 0; i < n; i++) (a as Uint8Array).set(one, i * one.length);
    return a;
  }
  if (e.dtype === "char") (a as Uint8Array).fill(Buffer.from(String(f), "latin1")[0] ?? 0);
  else if (Array.isArray(a)) a.fill(String(f));
  else (a as unknown as { fill(v: number | bigint): void }).fill(f as number | bigint);
  return a;
}

/** Places a region's values into a full chunk, padding edge chunks with the fill value. */
export function padToChunk(e: ArrayEncoding, region: ArrayData, regionShape: readonly number[]): ArrayData {
  const full = e.chunks;
  if (regionShape.every((n, i) => n === full[i])) return region;
  const out = filled(e, product(full));
  // Compound records are bytes: positions in records, `w` bytes each.
  const w = e.dtype === "compound" ? elementSize(elementOf(e)) : 1;
  const dst = out as unknown as { [i: number]: unknown };
  const src = region as unknown as { [i: number]: unknown };
  forEachRun(full, full.map(() => 0), regionShape, (chunkPos, regionPos, n) => {
    if (!Array.isArray(out) && !Array.isArray(region)) {
      (out as Uint8Array).set((region as Uint8Array).subarray(regionPos * w, (regionPos + n) * w), chunkPos * w);
    } else {
      for (let k = 0; k < n; k++) dst[chunkPos + k] = src[regionPos + k];
    }
  });
  return out;
}

/** True when every element equals the fill value bit for bit, so the chunk need not be stored. */
export function isAllFill(data: ArrayData, e: Pick<ArrayEncoding, "fill" | "dtype" | "variable">): boolean {
  const { fill, dtype } = e;
  if (fill === null) return false;
  if (Array.isArray(data)) return data.every((s) => s === fill);
  let pat: Uint8Array;
  if (dtype === "compound") pat = Buffer.from(String(fill), "base64");
  else {
    const one = allocateFor(elementOf(e), 1) as unknown as { [i: number]: number | bigint; buffer: ArrayBuffer };
    one[0] = dtype === "char" ? Buffer.from(String(fill), "latin1")[0] ?? 0 : (fill as number | bigint);
    pat = new Uint8Array(one.buffer);
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const w = pat.length;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== pat[i % w]) return false;
  return true;
}

/** The uncompressed chunk bytes: little-endian values, or vlen-utf8 for strings. */
export function rawChunkBytes(data: ArrayData): Uint8Array {
  if (Array.isArray(data)) return encodeVlenUtf8(data);
  // A view, never a copy; our encoders all honour byteOffset/byteLength. The caller must not reuse
  // the buffer until the encode has finished (runTask returns a slot only after its write).
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
