/**
 * NetCDF file(s) → one Zarr store. Reads each target chunk's region from the sources, encodes it,
 * and writes it; metadata is written around the chunks so that nothing looks complete until it is.
 */
import { readdir, rm, stat } from "node:fs/promises";
import pLimit from "p-limit";
import { openCollection, type Collection } from "./collection.js";
import { ConvertError } from "./errors.js";
import { product, walkGroups, walkVariables, type Variable } from "./model.js";
import { chooseChunks, type ChunkSpec } from "./plan/chunks.js";
import { FsStore } from "./store/fs.js";
import type { Store } from "./store/types.js";
import { makeCompressor, type CodecName } from "./zarr/codecs.js";
import { isAllFill, padToChunk, rawChunkBytes, readStored } from "./zarr/chunk.js";
import { chunkKey, encodeArray, type ArrayEncoding, type ZarrFormat } from "./zarr/encoding.js";
import { IN_PROGRESS_KEY, MetadataWriter, storePath } from "./zarr/layout.js";

export interface ConvertOptions {
  /** Output directory of the Zarr store. */
  out: string;
  /** 3 (default) or 2. */
  zarrFormat?: ZarrFormat;
  codec?: CodecName;
  level?: number;
  /** Target chunk sizes by dimension name; others chosen automatically. */
  chunks?: ChunkSpec;
  /** Variables to convert (names or paths); their coordinate variables come along. */
  variables?: string[];
  concatDim?: string;
  /** Leave out variables whose type Zarr cannot hold, instead of refusing the input. */
  skipUnsupported?: boolean;
  /** Replace an existing Zarr store at `out`. */
  overwrite?: boolean;
  /** Chunks encoded and written at once (default 8). */
  concurrency?: number;
  onProgress?: (p: ConvertProgress) => void;
}

export interface ConvertProgress {
  chunksDone: number;
  chunksTotal: number;
  bytesWritten: number;
}

export interface ArraySummary {
  path: string;
  dtype: string;
  shape: number[];
  chunks: number[];
  chunksWritten: number;
  /** Chunks equal to the fill value everywhere: not stored, they read back as fill. */
  chunksEmpty: number;
  bytesWritten: number;
}

export interface ConvertSummary {
  store: string;
  zarrFormat: ZarrFormat;
  codec: CodecName;
  inputs: string[];
  concatDim: string | null;
  arrays: ArraySummary[];
  skipped: { path: string; reason: string }[];
  bytesWritten: number;
  seconds: number;
}

/** Checks the output location; clears it when overwriting an existing Zarr store. */
async function prepareOutput(out: string, store: Store, overwrite: boolean): Promise<void> {
  const info = await stat(out).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory()) throw new ConvertError("OutputExists", "output exists and is not a directory", out);
  const entries = await readdir(out);
  if (entries.length === 0) return;
  if (!overwrite) throw new ConvertError("OutputExists", "output already exists (use --overwrite to replace it)", out);
  const isZarr = (await store.has("/.zgroup")) || (await store.has("/zarr.json")) || (await store.has("/.zarray")) || (await store.has(IN_PROGRESS_KEY));
  if (!isZarr) throw new ConvertError("OutputExists", "output is a non-empty directory that is not a Zarr store; refusing to delete it", out);
  await store.deletePrefix("/");
}

/** The variables to write: the selection plus the coordinate variables of their dimensions. */
function selectVariables(all: Variable[], names: string[] | undefined): Variable[] {
  if (!names || names.length === 0) return all;
  const wanted = new Set<Variable>();
  for (const n of names) {
    const hit = all.filter((v) => v.path === n || v.path === `/${n}` || v.name === n);
    if (hit.length === 0) throw new ConvertError("Usage", `--variables: no variable named ${n}`);
    hit.forEach((v) => wanted.add(v));
  }
  for (const v of [...wanted]) {
    for (const d of v.dims) all.filter((c) => c.name === d && c.dims.length >= 1 && c.dims[0] === d).forEach((c) => wanted.add(c));
  }
  return all.filter((v) => wanted.has(v));
}

function* chunkGrid(e: ArrayEncoding): Generator<number[]> {
  const counts = e.shape.map((n, i) => Math.ceil(n / e.chunks[i]!));
  if (counts.some((c) => c === 0)) return;
  const idx = counts.map(() => 0);
  const total = product(counts);
  for (let k = 0; k < total; k++) {
    yield idx.slice();
    for (let a = idx.length - 1; a >= 0; a--) {
      if (++idx[a]! < counts[a]!) break;
      idx[a] = 0;
    }
  }
}

async function writeChunk(c: Collection, e: ArrayEncoding, coords: number[], store: Store, s: ArraySummary): Promise<number> {
  const v = e.variable;
  const start = coords.map((k, i) => k * e.chunks[i]!);
  const count = coords.map((_, i) => Math.min(e.chunks[i]!, e.shape[i]! - start[i]!));
  const data = readStored(c.read, v, e.joinChars, start, count);
  const full = padToChunk(e, data, count);
  if (isAllFill(full, e.fill, e.dtype)) {
    s.chunksEmpty++;
    return 0;
  }
  const bytes = await e.compressor.encode(rawChunkBytes(full));
  await store.set(chunkKey(e, coords), bytes);
  s.chunksWritten++;
  s.bytesWritten += bytes.byteLength;
  return bytes.byteLength;
}

export async function convert(inputs: string[], opts: ConvertOptions): Promise<ConvertSummary> {
  const t0 = performance.now();
  const format = opts.zarrFormat ?? 3;
  if (format !== 2 && format !== 3) throw new ConvertError("Usage", `--zarr-format must be 2 or 3, got ${String(format)}`);
  const compressor = await makeCompressor(opts.codec ?? "zstd", opts.level);
  const collection = await openCollection(inputs, opts.concatDim ? { concatDim: opts.concatDim } : {});
  const store = new FsStore(opts.out);
  let started = false;
  let createdOut = false;
  try {
    const ds = collection.dataset;
    const chosen = selectVariables([...walkVariables(ds.root)], opts.variables);
    const skipped = chosen.filter((v) => v.unsupported).map((v) => ({ path: v.path, reason: v.unsupported! }));
    if (skipped.length && !opts.skipUnsupported) {
      const s = skipped[0]!;
      throw new ConvertError("Unsupported", `variable ${s.path} has an unsupported ${s.reason} (use --skip-unsupported to leave it out)`, inputs[0]);
    }
    const unlimited = new Set([...walkGroups(ds.root)].flatMap((g) => g.dims.filter((d) => d.unlimited).map((d) => d.name)));
    const encodings = chosen.filter((v) => !v.unsupported).map((v) =>
      encodeArray(v, storePath(v.path), format, chooseChunks(v, opts.chunks ?? {}, unlimited), compressor),
    );
    createdOut = !(await stat(opts.out).catch(() => undefined));
    await prepareOutput(opts.out, store, !!opts.overwrite);
    started = true;
    const meta = new MetadataWriter(store, format);
    await meta.markInProgress({ inputs });
    for (const g of walkGroups(ds.root)) await meta.group(g);
    for (const e of encodings) await meta.array(e);

    const summaries = encodings.map((e): ArraySummary => ({
      path: e.variable.path, dtype: e.dtype, shape: e.shape, chunks: e.chunks, chunksWritten: 0, chunksEmpty: 0, bytesWritten: 0,
    }));
    const chunksTotal = encodings.reduce((a, e) => a + product(e.shape.map((n, i) => Math.ceil(n / e.chunks[i]!))), 0);
    const progress = { chunksDone: 0, chunksTotal, bytesWritten: 0 };
    const limit = pLimit(opts.concurrency ?? 8);
    const pending = new Set<Promise<void>>();
    for (const [i, e] of encodings.entries()) {
      for (const coords of chunkGrid(e)) {
        // Reads are synchronous; encodes and writes overlap them up to the concurrency limit.
        const p = limit(async () => {
          // Await first, then add: `x += await f()` would read x before the await and lose updates.
          const written = await writeChunk(collection, e, coords, store, summaries[i]!);
          progress.bytesWritten += written;
          progress.chunksDone++;
          opts.onProgress?.({ ...progress });
        });
        pending.add(p);
        p.finally(() => pending.delete(p)).catch(() => {});
        if (limit.pendingCount > 64) await Promise.race(pending);
      }
    }
    await Promise.all(pending);
    await meta.finish(ds.root);
    return {
      store: opts.out, zarrFormat: format, codec: compressor.name, inputs: collection.files.map((f) => f.path),
      concatDim: collection.concatDim ?? null, arrays: summaries, skipped, bytesWritten: progress.bytesWritten,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (e) {
    // A failed run leaves nothing that looks complete: remove what this run wrote.
    if (started) {
      await store.deletePrefix("/").catch(() => {});
      if (createdOut) await rm(opts.out, { recursive: true, force: true }).catch(() => {});
    }
    throw e;
  } finally {
    collection.close();
  }
}
