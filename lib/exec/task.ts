/**
 * runTask: the one function every executor runs (inline, worker thread, child process, container).
 * It reads each source chunk that overlaps its block exactly once into the block (its target chunks,
 * see block.ts), then encodes and stores those chunks, and finally records its completion in the store.
 *
 * Worker threads may split a task in those three steps (readShared, encodeShared, finishTask): the
 * block is read into shared memory and its chunks are encoded by whichever threads are free, so one
 * big task does not leave the other threads idle while it compresses.
 */
import type { StorageTotals } from "../store/metrics.js";
import pLimit from "p-limit";
import * as zarr from "zarrita";
import { elementSize, product, type ArrayData } from "../model.js";
import { cartesian, chunkIndices } from "../source/region.js";
import { recordChunk, zarritaView, zarritaData } from "../store/read.js";
import { filled, isAllFill, padToChunk, rawChunkBytes } from "../zarr/chunk.js";
import { chunkKey, elementOf, type ArrayEncoding } from "../zarr/encoding.js";
import { jsonBytes } from "../zarr/json.js";
import { Scratch } from "../zarr/zstd-addon.js";
import type { JobSpec, SourceAxis, TaskSpec } from "../plan/types.js";
import { doneKey, openJob, primed, type JobContext } from "./job.js";
import { sameMemory, TaskBlock, type Segment } from "./block.js";
import { releaseReadBuffers } from "../source/hdf5-direct.js";

export interface TaskOutcome {
  id: number;
  chunksWritten: number;
  /** Chunks equal to the fill value everywhere, not stored. */
  chunksEmpty: number;
  bytesWritten: number;
  /** Uncompressed bytes decoded from the sources. */
  bytesRead: number;
  /** Object-storage traffic of the task, when it ran in a worker (inline tasks count in the main thread). */
  storage?: StorageTotals;
}

// One open job per worker: files stay open across that job's tasks.
let current: { id: string; ctx: Promise<JobContext> } | undefined;

async function contextFor(job: JobSpec): Promise<JobContext> {
  const ready = primed.get(job.id);
  if (ready) return ready;
  if (current?.id !== job.id) {
    const previous = current;
    current = { id: job.id, ctx: openJob(job) };
    previous?.ctx.then((c) => c.collection.close(), () => {});
    // A failed open must not poison the next attempt.
    current.ctx.catch(() => { if (current?.id === job.id) current = undefined; });
  }
  return current.ctx;
}

/** Closes the worker's open files (for tests and clean shutdown). */
export async function releaseJob(): Promise<void> {
  const c = current;
  current = undefined;
  if (c) await c.ctx.then((x) => x.collection.close(), () => {});
}

/** The pieces [lo, hi) of an axis range that lie in separate source chunks. */
function cellsAlong(axis: SourceAxis, lo: number, hi: number): [number, number][] {
  if (hi <= lo) return [];
  if (axis === null) return [[lo, hi]];
  const out: [number, number][] = [];
  let a = 0;
  for (const len of axis) {
    const b = a + len;
    if (b > lo && a < hi) out.push([Math.max(a, lo), Math.min(b, hi)]);
    if (a >= hi) break;
    a = b;
  }
  return out;
}

/** Append: the already-stored part of the block's first chunk row, decoded from the store. */
async function prefillFromStore(ctx: JobContext, e: ArrayEncoding, task: TaskSpec, axis: number, oldLength: number, block: TaskBlock) {
  const loc = zarr.root(zarritaView(ctx.store)).resolve(e.key);
  const arr = e.format === 2 ? await zarr.open.v2(loc, { kind: "array" }) : await zarr.open.v3(loc, { kind: "array" });
  const rows = cellsAlong(null, task.start[axis]!, Math.min(oldLength, task.start[axis]! + task.count[axis]!));
  if (rows.length === 0) return;
  const lo = task.start.map((s, i) => (i === axis ? rows[0]![0] : s));
  const n = task.count.map((c, i) => (i === axis ? rows[0]![1] - rows[0]![0] : c));
  for (const coords of cartesian(chunkIndices(lo, n, e.chunks))) {
    const start = coords.map((c, i) => c * e.chunks[i]!);
    const count = start.map((s, i) => Math.min(e.chunks[i]!, (i === axis ? oldLength : e.shape[i]!) - s));
    block.placeElements(await storedChunk(ctx, e, arr, coords), e.chunks, start, start, count);
  }
}

/**
 * One stored chunk's elements; a compound's absent chunk is its fill records (see recordChunk).
 */
async function storedChunk(ctx: JobContext, e: ArrayEncoding, arr: zarr.Array<zarr.DataType, zarr.Readable>, coords: number[]): Promise<ArrayData> {
  if (e.dtype !== "compound") return zarritaData((await arr.getChunk(coords)).data) as ArrayData;
  return (await recordChunk(ctx.store, arr, chunkKey(e, coords), coords)) ?? filled(e, product(e.chunks));
}

/**
 * codec "copy": each chunk's compressed bytes go from the source file to the store untouched. A chunk
 * the index does not list (never written: fill value) or that skipped a filter is decoded and encoded
 * with the same pipeline instead.
 */
async function copyChunks(ctx: JobContext, e: ArrayEncoding, task: TaskSpec, outcome: TaskOutcome) {
  const v = e.variable;
  // Copying is I/O: keep several writes in flight (the reads are synchronous and cheap).
  const writes = pLimit(COPY_WRITES_IN_FLIGHT);
  const pending: Promise<void>[] = [];
  for (const coords of cartesian(chunkIndices(task.start, task.count, e.chunks))) {
    const start = coords.map((c, i) => c * e.chunks[i]!);
    const { file, start: local } = ctx.collection.locate(v.path, start);
    const where = file.chunkLocations?.(v.path)?.get(local.map((s, i) => s / e.chunks[i]!).join(","));
    const key = chunkKey(e, coords);
    if (where && where.filterMask === 0 && file.readRaw) {
      const bytes = file.readRaw(where.offset, where.size);
      pending.push(writes(async () => {
        await ctx.store.set(key, bytes);
        outcome.chunksWritten++;
        outcome.bytesWritten += bytes.byteLength;
        outcome.bytesRead += bytes.byteLength;
      }));
      if (writes.pendingCount > COPY_WRITES_IN_FLIGHT) await Promise.race(pending);
      continue;
    }
    const valid = start.map((s, i) => Math.min(e.chunks[i]!, e.shape[i]! - s));
    const data = padToChunk(e, ctx.collection.read(v.path, start, valid), valid);
    if (isAllFill(data, e)) {
      outcome.chunksEmpty++;
      continue;
    }
    const bytes = await e.compressor.encode(rawChunkBytes(data));
    await ctx.store.set(key, bytes);
    outcome.chunksWritten++;
    outcome.bytesWritten += bytes.byteLength;
  }
  await Promise.all(pending);
}

const COPY_WRITES_IN_FLIGHT = 16;

export async function runTask(job: JobSpec, task: TaskSpec): Promise<TaskOutcome> {
  const ctx = await contextFor(job);
  const e = encodingOf(ctx, task);
  const outcome = emptyOutcome(task);
  if (e.compressor.raw) await copyChunks(ctx, e, task, outcome);
  else {
    const block = await readBlock(ctx, e, task, outcome);
    await encodeSegments(ctx, e, block, block.segments, task.encoders, outcome);
  }
  return finishTask(job, outcome);
}

/** What a shared read leaves for others: the block's buffer and how many chunks it holds. */
export interface SharedBlock {
  buffer: SharedArrayBuffer;
  segments: number;
}

/** What a step of a task gives back: its outcome, and from a read, the shared block and any memory it did not use. */
export interface StepResult {
  outcome: TaskOutcome;
  shared?: SharedBlock;
  unused?: SharedArrayBuffer;
}

/**
 * The first step of a task whose chunks any worker thread may encode: reads the block into shared
 * memory — `memory`, an earlier block's, when it is big enough, else new — and hands it back with
 * the outcome so far (and `memory` if unused). When there is nothing worth sharing (a copy, text,
 * fewer chunks than one worker encodes at once) it runs the whole task.
 */
export async function readShared(job: JobSpec, task: TaskSpec, memory?: SharedArrayBuffer): Promise<StepResult> {
  const ctx = await contextFor(job);
  const e = encodingOf(ctx, task);
  const segments = product(chunkIndices(task.start, task.count, e.chunks).map((l) => l.length));
  const whole = e.compressor.raw || e.dtype === "string" || segments <= (task.encoders ?? 1);
  const bytes = product(task.count) * elementSize(elementOf(e));
  const reuse = !whole && memory && memory.byteLength >= bytes ? memory : undefined;
  const unused = memory && !reuse ? { unused: memory } : {};
  if (whole) return { outcome: await runTask(job, task), ...unused };
  // A reused block is zeroed like a new one (a few ms, against ~0.4 s of page faults for 0.9 GB).
  if (reuse) new Uint8Array(reuse, 0, bytes).fill(0);
  const outcome = emptyOutcome(task);
  const block = await readBlock(ctx, e, task, outcome, reuse ?? "shared");
  return { outcome, shared: { buffer: block.buffer as SharedArrayBuffer, segments }, ...unused };
}

/** Encodes and stores chunks [from, to) of a block that readShared left in shared memory. */
export async function encodeShared(job: JobSpec, task: TaskSpec, shared: SharedBlock, from: number, to: number): Promise<TaskOutcome> {
  const ctx = await contextFor(job);
  const e = encodingOf(ctx, task);
  const block = new TaskBlock(e, task.start, task.count, isPlanar(e), shared.buffer);
  const outcome = emptyOutcome(task);
  await encodeSegments(ctx, e, block, block.segments.slice(from, to), task.encoders, outcome);
  return outcome;
}

/** Records a finished task in the store, so that a resumed run skips it. */
export async function finishTask(job: JobSpec, outcome: TaskOutcome): Promise<TaskOutcome> {
  const ctx = await contextFor(job);
  await ctx.store.set(doneKey(outcome.id), jsonBytes(outcome));
  return outcome;
}

function encodingOf(ctx: JobContext, task: TaskSpec): ArrayEncoding {
  const e = ctx.encodings.get(task.array);
  if (!e) throw new Error(`task ${task.id}: no array ${task.array} in job`);
  return e;
}

const emptyOutcome = (task: TaskSpec): TaskOutcome => ({ id: task.id, chunksWritten: 0, chunksEmpty: 0, bytesWritten: 0, bytesRead: 0 });

/** Shuffled chunks are assembled as byte planes, so they are stored as they are. */
const isPlanar = (e: ArrayEncoding) => e.compressor.encodeShuffled !== undefined && e.compressor.shuffle === elementSize(elementOf(e));

/**
 * Reads the task's block: what the store already holds (append), then every source chunk overlapping
 * the block, once. In shared memory when other threads will encode its chunks.
 */
async function readBlock(ctx: JobContext, e: ArrayEncoding, task: TaskSpec, outcome: TaskOutcome, memory?: "shared" | SharedArrayBuffer): Promise<TaskBlock> {
  releaseEncodeSlots(); // the planner counts reading and encoding apart
  const block = new TaskBlock(e, task.start, task.count, isPlanar(e), memory);
  const v = e.variable, job = ctx.job;
  const axis = job.append ? v.dims.indexOf(job.append.concatDim) : -1;
  const oldLength = axis >= 0 ? job.append!.oldLength : 0;
  if (axis >= 0 && task.start[axis]! < oldLength) await prefillFromStore(ctx, e, task, axis, oldLength, block);
  const sourceAxes = ctx.collection.sourceAxes(v.path).slice(0, e.shape.length);
  const cells = sourceAxes.map((src, i) => {
    const lo = task.start[i]!, hi = lo + task.count[i]!;
    if (i !== axis) return cellsAlong(src, lo, hi);
    // Along the concat axis of an append, sources hold only the new part, from oldLength on.
    return cellsAlong(src, Math.max(0, lo - oldLength), Math.max(0, hi - oldLength)).map(([a, b]) => [a + oldLength, b + oldLength] as [number, number]);
  });
  const es = e.dtype === "string" ? 16 : elementSize(elementOf(e));
  for (const cell of cartesian(cells)) {
    const start = cell.map(([a]) => a), count = cell.map(([a, b]) => b - a);
    const srcStart = start.map((s, i) => (i === axis ? s - oldLength : s));
    outcome.bytesRead += product(count) * es;
    const planes = block.planar ? ctx.collection.readPlanes(v.path, srcStart, count, block.planar) : undefined;
    if (planes) {
      block.placePlanes(planes, start, count);
      continue;
    }
    // Where the cell is one contiguous stretch of a chunk, the reader may decode straight into it.
    const into = block.intoFor(start, count);
    const piece = ctx.collection.read(v.path, srcStart, count, into);
    if (!(into && sameMemory(piece, into))) block.placeElements(piece, count, start, start, count);
  }
  releaseReadBuffers();
  return block;
}

interface EncodeSlot {
  /** A chunk-sized buffer for padding edge chunks, made when first needed. */
  chunk?: ArrayData;
  /** The encoded output. */
  out: Scratch;
}

// A thread's encode slots, kept from chunk to chunk and task to task (allocating and zeroing them
// per chunk cost more than the copies), and let go when a block is read.
let slots: EncodeSlot[] = [];
function releaseEncodeSlots() {
  slots = [];
}

/**
 * Encodes and stores the given chunks of a block, `encoders` at a time (overlapping compression
 * with writing); chunks equal to the fill value everywhere are not stored.
 */
async function encodeSegments(ctx: JobContext, e: ArrayEncoding, block: TaskBlock, segments: readonly Segment[], encoders = 1, outcome: TaskOutcome) {
  while (slots.length < Math.max(1, encoders)) slots.push({ out: new Scratch() });
  const free = slots.slice(0, Math.max(1, encoders));
  const limit = pLimit(free.length);
  await Promise.all(segments.map((seg) => limit(async () => {
    const slot = free.pop()!;
    try {
      const key = chunkKey(e, seg.coords);
      if (block.allFill(seg)) {
        outcome.chunksEmpty++;
        // An append or a resumed run may find an older object under this key.
        if (ctx.job.append) await ctx.store.delete(key);
        return;
      }
      const stored = rawChunkBytes(block.storedChunk(seg, slot));
      const bytes = await (block.planar ? e.compressor.encodeShuffled!(stored, slot.out) : e.compressor.encode(stored, slot.out));
      await ctx.store.set(key, bytes);
      outcome.chunksWritten++;
      outcome.bytesWritten += bytes.byteLength;
    } finally {
      free.push(slot);
    }
  })));
}
