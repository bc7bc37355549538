/**
 * Plans and tasks are plain data: serialisable, sent to workers by value, naming their inputs by
 * reference (file paths/URLs and regions), never carrying array data.
 */
import type { CodecName } from "../zarr/codecs.js";
import type { ZarrFormat } from "../zarr/encoding.js";
import type { RecodeSpec } from "../recode.js";

/**
 * How a source is split along one axis: the lengths of consecutive source chunks (decoding unit),
 * or null when the axis can be read at any granularity (contiguous storage).
 */
export type SourceAxis = number[] | null;

/** What the planner needs to know about one array: shapes only, no I/O. */
export interface ArrayInput {
  /** Variable path in the source, e.g. "/T2M". */
  path: string;
  /** Stored shape and target chunks (v3 joined chars: without the char axis). */
  shape: number[];
  chunks: number[];
  /** Bytes per stored element (an estimate for strings). */
  itemSize: number;
  /** Per stored axis. */
  source: SourceAxis[];
  /** Only chunk rows at or after this index along `firstAxis` are written (append). */
  fromIndex?: { axis: number; index: number };
}

export interface TaskSpec {
  /** Position in the plan's task list; also the key of its completion record. */
  id: number;
  /** Variable path. */
  array: string;
  /** The block this task writes: whole target chunks (clipped at the array's end). */
  start: number[];
  count: number[];
  /** Chunks to encode at once (the plan's choice for this array's memory budget). */
  encoders?: number;
}

export interface ArrayPlan {
  path: string;
  shape: number[];
  chunks: number[];
  /** Block shape: a whole number of target chunks per axis. */
  block: number[];
  tasks: number;
  /** Target chunks (objects) this array will have. */
  objects: number;
  /** Average number of times each source chunk is decoded (1 = never twice). */
  readAmplification: number;
  /** Uncompressed bytes of the array (what is decoded once). */
  bytes: number;
  peakTaskBytes: number;
  /** Chunks each task encodes at once (memory permitting). */
  encoders: number;
}

export interface PlanEstimates {
  tasks: number;
  objects: number;
  /** Uncompressed bytes decoded from the sources, amplification included. */
  bytesRead: number;
  /** Uncompressed bytes of the stored arrays (before compression). */
  bytesWritten: number;
  /** The largest task's estimated memory. */
  peakTaskBytes: number;
  /** Byte-weighted average over arrays. */
  readAmplification: number;
  maxMem: number;
  workers: number;
}

export interface Plan {
  arrays: ArrayPlan[];
  tasks: TaskSpec[];
  estimates: PlanEstimates;
}

/** Everything a worker needs to run any task of a job, by reference. */
export interface JobSpec {
  /** A hash of everything that determines the output. */
  id: string;
  inputs: string[];
  /** Each input's length along the concat dimension (checked by the main thread), when uniform chunking lets workers open files lazily. */
  lengths?: number[];
  concatDim: string | null;
  store: string;
  zarrFormat: ZarrFormat;
  codec: CodecName;
  level: number | null;
  /** Byte-shuffle the numbers of more than one byte before compressing (zstd, gzip). */
  shuffle: boolean;
  /** Variable path → target chunks in the variable's own axes. */
  chunks: Record<string, number[]>;
  skipUnsupported: boolean;
  /** codec "copy": the variables whose compressed source chunks are copied as they are. */
  copy?: string[];
  /** Values re-expressed between files and store (per-file time units), as the main thread planned them. */
  recode?: RecodeSpec;
  /** For appends: the length along the concat dimension already in the store, per variable. */
  append?: { concatDim: string; oldLength: number };
}
