/**
 * What both sides of a job agree on: the main thread builds the JobSpec, and every worker turns it
 * back into the same array encodings with the same function, so no array metadata crosses by value.
 */
import { createHash } from "node:crypto";
import { openCollection, type Collection } from "../collection.js";
import { ConvertError } from "../errors.js";
import { findVariable, itemSize, walkVariables, type Variable } from "../model.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/types.js";
import { copyCompressor, makeCompressor, shufflable, withShuffle, type Compressor } from "../zarr/codecs.js";
import { encodeArray, type ArrayEncoding } from "../zarr/encoding.js";
import { storePath } from "../zarr/layout.js";
import type { JobSpec } from "../plan/types.js";

/** Prefix of our own bookkeeping objects inside a store (removed when the store completes). */
export const STATE_PREFIX = "/.convert-to-zarr" as const;
export const LOCK_KEY = `${STATE_PREFIX}/lock` as const;
export const JOB_KEY = `${STATE_PREFIX}/job.json` as const;
export const doneKey = (id: number) => `${STATE_PREFIX}/done/${id}` as const;

/** A stable id for everything that determines a job's output. */
export function jobId(spec: Omit<JobSpec, "id">): string {
  return createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16);
}

/** The variable as stored: for appends its concat axis already has the old + new length. */
export function storedVariable(v: Variable, job: JobSpec): Variable {
  if (!job.append) return v;
  const axis = v.dims.indexOf(job.append.concatDim);
  if (axis < 0) return v;
  const shape = v.shape.slice();
  shape[axis] = shape[axis]! + job.append.oldLength;
  return { ...v, shape };
}

export interface JobContext {
  job: JobSpec;
  collection: Collection;
  store: Store;
  encodings: Map<string, ArrayEncoding>;
}

export async function buildEncodings(collection: Collection, job: JobSpec): Promise<Map<string, ArrayEncoding>> {
  const compressor = await makeCompressor(job.codec, job.level ?? undefined);
  const out = new Map<string, ArrayEncoding>();
  for (const [path, chunks] of Object.entries(job.chunks)) {
    const v = findVariable(collection.dataset, path);
    if (!v) throw new ConvertError("Mismatch", `has no variable ${path}`, collection.files[0]?.path);
    const copy = job.copy?.includes(path) ? copyCompressor(v.hdf5?.filters ?? [], itemSize(v.dtype)) : undefined;
    if (typeof copy === "string") throw new ConvertError("Unsupported", `variable ${path}: cannot copy chunks: ${copy}`);
    out.set(path, encodeArray(storedVariable(v, job), storePath(path), job.zarrFormat, chunks, copy ?? shuffledIfAsked(compressor, v, job)));
  }
  return out;
}

/**
 * Whether the job byte-shuffles its (wide enough) numbers: when asked, before zstd or gzip. blosc
 * shuffles inside its own frames; without a compressor, shuffling saves nothing.
 */
export function shuffles(job: Pick<JobSpec, "shuffle" | "codec">): boolean {
  return job.shuffle && (job.codec === "zstd" || job.codec === "gzip" || job.codec === "copy");
}

/** Whether the job's pipeline is named "shuffle + codec" ("copy" keeps the source's own filters where it copies). */
export function namesShuffle(job: Pick<JobSpec, "shuffle" | "codec">): boolean {
  return shuffles(job) && job.codec !== "copy";
}

/** The job's compressor, after a byte shuffle where the job has one and the type can use it. */
function shuffledIfAsked(compressor: Compressor, v: Variable, job: JobSpec): Compressor {
  return shuffles(job) && shufflable(v.dtype) ? withShuffle(compressor, itemSize(v.dtype)) : compressor;
}

/**
 * With codec "copy": which variables can have their compressed chunks copied as they are, and why
 * the others cannot. Needs every file open (the main thread's collection).
 */
export function copyPlan(collection: Collection, chunks: Record<string, number[]>): { copy: string[]; notCopied: { path: string; reason: string }[] } {
  const copy: string[] = [], notCopied: { path: string; reason: string }[] = [];
  const dim = collection.concatDim;
  for (const [path, target] of Object.entries(chunks)) {
    const v = findVariable(collection.dataset, path)!;
    const reason = ((): string | undefined => {
      if (!v.hdf5) return "its source is not HDF5";
      if (!v.sourceChunks) return "it is stored contiguously";
      if (v.dtype === "char" || v.dtype === "string") return "it holds text";
      if (v.dtype === "compound") return "its records are stored packed, unlike the file's aligned layout";
      if (!v.hdf5.littleEndian) return "it is big-endian";
      if (JSON.stringify(v.sourceChunks) !== JSON.stringify(target)) return `target chunks (${target.join(", ")}) differ from the source's (${v.sourceChunks.join(", ")})`;
      const c = copyCompressor(v.hdf5.filters, itemSize(v.dtype));
      if (typeof c === "string") return c;
      const pipeline = JSON.stringify(v.hdf5.filters);
      for (const f of collection.files) {
        const fv = findVariable(f.dataset, path);
        if (!fv?.hdf5 || JSON.stringify(fv.hdf5.filters) !== pipeline || JSON.stringify(fv.sourceChunks) !== JSON.stringify(v.sourceChunks)) {
          return `${f.path} stores it differently`;
        }
      }
      const axis = dim ? v.dims.indexOf(dim) : -1;
      if (axis >= 0) {
        const lengths = collection.files.map((f) => findVariable(f.dataset, path)!.shape[axis]!);
        if (lengths.slice(0, -1).some((n) => n % target[axis]! !== 0)) return `file lengths along ${dim} are not whole chunks`;
      }
      return undefined;
    })();
    if (reason) notCopied.push({ path, reason });
    else copy.push(path);
  }
  return { copy, notCopied };
}

export async function openJob(job: JobSpec): Promise<JobContext> {
  // The main thread checked and ordered the files: workers trust that and open files as tasks need them.
  const collection = await openCollection(job.inputs, {
    ...(job.concatDim && { concatDim: job.concatDim }),
    trusted: { ...(job.lengths && { lengths: job.lengths }), recode: job.recode ?? {} },
  });
  try {
    return { job, collection, store: openStore(job.store), encodings: await buildEncodings(collection, job) };
  } catch (e) {
    collection.close();
    throw e;
  }
}

/** Each file's length along the concat dimension, if every file chunks every variable alike (else undefined). */
export function lazyLengths(collection: Collection): number[] | undefined {
  const dim = collection.concatDim;
  if (!dim || collection.files.length < 2) return undefined;
  const chunking = (f: Collection["files"][number]) =>
    JSON.stringify([...walkVariables(f.dataset.root)].map((v) => [v.path, v.sourceChunks]));
  const first = chunking(collection.files[0]!);
  if (!collection.files.every((f) => chunking(f) === first)) return undefined;
  return collection.files.map((f) => f.dataset.root.dims.find((d) => d.name === dim)?.size ?? 0);
}

/** Lets the inline executor reuse the collection the main thread already opened. */
export function primeJob(ctx: JobContext): void {
  primed.set(ctx.job.id, ctx);
}
export const primed = new Map<string, JobContext>();
