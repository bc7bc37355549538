/**
 * Target chunk shapes. Explicit `dim=n` choices win; otherwise the automatic rule below, written
 * down in the README:
 *  1. start from the source's chunk shape (HDF5), or for contiguous data from one step along the
 *     unlimited/record dimension and the whole extent of every other dimension;
 *  2. while a chunk is larger than TARGET_BYTES, halve it along the outermost axis that can shrink;
 *  3. while it is smaller than TARGET_BYTES / 2, grow it by whole multiples of the starting shape
 *     (so source chunks stay aligned), outermost axis first (usually time);
 *  4. clip to the array's shape.
 * Chunks of about 4-8 MiB avoid the per-object cost of tiny chunks on object storage without making
 * a point read decode much more than it needs. (convert.ts applies the rule to fixed dimensions'
 * coordinate variables whatever --chunks says.)
 */
import { ConvertError } from "../errors.js";
import { elementSize, product, type Variable } from "../model.js";

export const TARGET_BYTES = 8 * 1024 * 1024;

export type ChunkSpec = Record<string, number>;

/** Parses "time=1080,lat=90,lon=90"; -1 means the whole dimension. */
export function parseChunkSpec(text: string): ChunkSpec {
  const spec: ChunkSpec = {};
  for (const part of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=]+)=(-?\d+)$/.exec(part);
    if (!m) throw new ConvertError("Usage", `--chunks: expected dim=n, got "${part}"`);
    const n = Number(m[2]);
    if (n === 0 || n < -1) throw new ConvertError("Usage", `--chunks: ${m[1]} must be a positive size or -1, got ${n}`);
    spec[m[1]!.trim()] = n;
  }
  return spec;
}

export function autoChunks(v: Variable, unlimitedDims: ReadonlySet<string>, targetBytes = TARGET_BYTES): number[] {
  const shape = v.shape;
  if (shape.length === 0) return [];
  const es = elementSize(v);
  const chunk = v.sourceChunks && v.sourceChunks.length === shape.length
    ? v.sourceChunks.slice()
    : shape.map((n, i) => (i === 0 && unlimitedDims.has(v.dims[0]!) ? 1 : n));
  for (let i = 0; i < chunk.length; i++) chunk[i] = Math.max(1, Math.min(chunk[i]!, shape[i]!));
  const bytes = () => product(chunk) * es;
  for (let a = 0; a < chunk.length && bytes() > targetBytes; a++) {
    while (bytes() > targetBytes && chunk[a]! > 1) chunk[a] = Math.ceil(chunk[a]! / 2);
  }
  for (let a = 0; a < chunk.length && bytes() < targetBytes / 2; a++) {
    const room = Math.ceil(shape[a]! / chunk[a]!);
    const k = Math.max(1, Math.min(room, Math.floor(targetBytes / bytes())));
    chunk[a] = Math.min(shape[a]!, chunk[a]! * k);
  }
  return chunk.map((c, i) => Math.max(1, Math.min(c, shape[i]!)));
}

export function chooseChunks(v: Variable, spec: ChunkSpec, unlimitedDims: ReadonlySet<string>): number[] {
  const auto = autoChunks(v, unlimitedDims);
  return v.dims.map((d, i) => {
    const n = spec[d];
    if (n === undefined) return auto[i]!;
    return Math.max(1, n === -1 ? v.shape[i]! : Math.min(n, v.shape[i]!));
  });
}
