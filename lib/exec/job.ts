/**
 * What both sides of a job agree on: the main thread builds the JobSpec, and every worker turns it
 * back into the same array encodings with the same function, so no array metadata crosses by value.
 */
import { createHash } from "node:crypto";
import { openCollection, type Collection } from "../collection.js";
import { ConvertError } from "../errors.js";
import { findVariable, walkVariables, type Variable } from "../model.js";
import { FsStore } from "../store/fs.js";
import type { Store } from "../store/types.js";
import { makeCompressor } from "../zarr/codecs.js";
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

export function openStore(url: string): Store {
  return new FsStore(url);
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
    out.set(path, encodeArray(storedVariable(v, job), storePath(path), job.zarrFormat, chunks, compressor));
  }
  return out;
}

export async function openJob(job: JobSpec): Promise<JobContext> {
  // The main thread checked and ordered the files: workers trust that and open files as tasks need them.
  const collection = await openCollection(job.inputs, {
    ...(job.concatDim && { concatDim: job.concatDim }),
    trusted: job.lengths ? { lengths: job.lengths } : {},
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
