/**
 * Reads a region of a chunked HDF5 dataset stored with the filters netCDF-4 files almost always use —
 * deflate, optionally after shuffle — without h5wasm: each chunk's bytes come from our own chunk index
 * (hdf5-chunks.ts), node:zlib inflates them natively and a word-wise unshuffle restores the order.
 * Measured on the seed-shaped archive (24 x 361 x 576 float32 per file): ~30 ms a chunk against ~70 ms
 * through h5wasm's WASM zlib. Written by hand because no library reads HDF5 chunks in Node without
 * holding the file in memory (jsfive) or going through WASM (h5wasm).
 * Whenever it cannot be sure — another filter, a chunk that was never written (fill value) or skipped
 * a filter, big-endian data, no v1 B-tree index, an inflated size that is not the chunk's — it returns
 * undefined and the caller reads through h5wasm, which stays the reference.
 */
import * as zlib from "node:zlib";
import { allocate, itemSize, product, type ArrayData, type Variable } from "../model.js";
import type { ChunkIndex } from "./hdf5-chunks.js";
import { cartesian, chunkIndices, copyOut } from "./region.js";
import { outputRoom } from "../zarr/zlib-oneshot.js";
import { unshuffle } from "../zarr/shuffle.js";

const DEFLATE = 1;
const SHUFFLE = 2;

/** Off switch for tests that compare both paths (and for ruling this path out when in doubt). */
let enabled = process.env.CONVERT_TO_ZARR_HDF5_DIRECT !== "0";
export function setDirectReads(on: boolean): void {
  enabled = on;
}

/** Chunks decoded by this path, in reads it completed, since the process started (tests check that it ran). */
let decodedChunks = 0;
export const directChunksDecoded = (): number => decodedChunks;

export interface ChunkSource {
  chunkLocations(varPath: string): ChunkIndex | undefined;
  readRaw(offset: number, size: number): Uint8Array;
}

/** The decode steps for a filter pipeline (listed in encoding order), or undefined if unsupported. */
function decodeSteps(filters: readonly { id: number }[]): { shuffle: boolean; deflate: boolean } | undefined {
  const ids = filters.map((f) => f.id);
  if (ids.some((id) => id !== DEFLATE && id !== SHUFFLE)) return undefined;
  if (ids.filter((id) => id === DEFLATE).length > 1 || ids.filter((id) => id === SHUFFLE).length > 1) return undefined;
  // Shuffle must come before deflate when both are there (as every writer puts them).
  if (ids.length === 2 && ids[0] !== SHUFFLE) return undefined;
  return { shuffle: ids.includes(SHUFFLE), deflate: ids.includes(DEFLATE) };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The region [start, start + count) of `v` (whose extent in this file is `shape`), or undefined when
 * this path does not apply. With `into` (the region's size, element-aligned), the values are decoded
 * into it and the result is a view of it: a converting task's block receives the planes of a whole
 * chunk unshuffled in place, with no chunk-sized buffer in between.
 */
export function readDirect(
  file: ChunkSource, v: Variable, shape: readonly number[], start: readonly number[], count: readonly number[], into?: Uint8Array,
): ArrayData | undefined {
  if (!enabled || !LITTLE_ENDIAN_HOST) return undefined;
  if (!v.hdf5 || !v.hdf5.littleEndian || !v.sourceChunks || v.dtype === "char" || v.dtype === "string") return undefined;
  const steps = decodeSteps(v.hdf5.filters);
  if (!steps || start.length === 0 || v.sourceChunks.length !== start.length) return undefined;
  const index = file.chunkLocations(v.path);
  if (!index) return undefined;
  const chunk = v.sourceChunks;
  const size = itemSize(v.dtype);
  const chunkBytes = product(chunk) * size;
  const target = into && into.byteLength === product(count) * size && into.byteOffset % size === 0 ? into : undefined;
  const Typed = allocate(v.dtype, 0).constructor as new (b: ArrayBufferLike, o: number, n: number) => ArrayData;
  const view = (b: Uint8Array, n: number) => new Typed(b.buffer, b.byteOffset, n);
  const out = target ? view(target, product(count)) : allocate(v.dtype, product(count));
  let decoded = 0;
  for (const coords of cartesian(chunkIndices(start, count, chunk))) {
    const where = index.get(coords.join(","));
    if (!where || where.filterMask !== 0) return undefined;
    let bytes = file.readRaw(where.offset, where.size);
    if (steps.deflate) {
      try {
        bytes = zlib.inflateSync(bytes, { chunkSize: outputRoom(chunkBytes) });
      } catch {
        return undefined; // let h5wasm say what is wrong
      }
    }
    if (bytes.byteLength !== chunkBytes) return undefined;
    decoded++;
    const origin = coords.map((c, i) => c * chunk[i]!);
    // The region is this one whole chunk (one chunk per file, typically): it is the answer as it is,
    // decoded straight into the target when there is one.
    const whole = origin.every((o, i) => o === start[i] && chunk[i] === count[i]);
    const dest = whole ? target : undefined;
    let ordered: Uint8Array;
    if (steps.shuffle && size > 1) ordered = unshuffle(bytes, size, dest);
    else if (dest) ordered = (dest.set(bytes), dest);
    else ordered = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
    const values = view(ordered, product(chunk));
    if (whole) {
      decodedChunks += 1;
      return values;
    }
    const lo = origin.map((o, i) => Math.max(o, start[i]!));
    const hi = origin.map((o, i) => Math.min(o + chunk[i]!, start[i]! + count[i]!, shape[i]!));
    copyOut(out, count, lo.map((l, i) => l - start[i]!), values, chunk, lo.map((l, i) => l - origin[i]!), hi.map((h, i) => h - lo[i]!));
  }
  decodedChunks += decoded;
  return out;
}
