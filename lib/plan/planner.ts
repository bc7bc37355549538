/**
 * The planner: pure arithmetic from shapes to tasks, no I/O (after rechunker's algorithm.py).
 *
 * A task writes one block: a whole number of target chunks per axis. Reading a block decodes every
 * source chunk that overlaps it, so a source chunk split between k blocks is decoded k times. Since
 * source chunks and blocks are both grids, that count is a product over axes, and the byte-weighted
 * average ("read amplification") factorises too: amp = Π_axis amp_axis(block_axis). The planner
 * picks, per axis, a block size (a multiple of the target chunk) that minimises amplification while
 * the task's memory — the block, plus the source chunk being decoded, plus chunks being encoded —
 * stays within the budget; among equals, blocks nearest to TASK_TARGET_BYTES from below (enough work
 * per task to amortise its overhead, small enough to keep workers busy), else the smallest.
 *
 * Guarantees (tested as properties): every target chunk is written by exactly one task; every task's
 * estimated memory is within the budget; the reported amplification is what the blocks imply.
 */
import { ConvertError } from "../errors.js";
import { formatBytes } from "../format.js";
import type { ArrayInput, ArrayPlan, Plan, SourceAxis, TaskSpec } from "./types.js";

export interface PlanOptions {
  /** Memory budget per worker, bytes. */
  maxMem: number;
  workers: number;
}

/** Chunks a task encodes at once: 2 overlaps compression with writing (and, with native zstd, uses
 * a second core); 1 when memory is tight. */
export const ENCODE_CONCURRENCY = 2;
const MAX_CANDIDATES = 24;
/** Preferred task size when amplification does not decide. */
export const TASK_TARGET_BYTES = 64 * 2 ** 20;

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Start of the region to write along an axis (append writes only the rows from `fromIndex`). */
function firstWritten(a: ArrayInput, axis: number): number {
  if (!a.fromIndex || a.fromIndex.axis !== axis) return 0;
  return Math.floor(a.fromIndex.index / a.chunks[axis]!) * a.chunks[axis]!;
}

/** Block intervals [start, end) along an axis for blocks of `size`, from `from` to `n`. */
export function blockIntervals(n: number, size: number, from = 0): [number, number][] {
  const out: [number, number][] = [];
  for (let s = from; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  if (out.length === 0 && n === 0 && from === 0) return [];
  return out;
}

/** Byte-weighted mean number of blocks each source chunk along this axis overlaps. */
export function axisAmplification(source: SourceAxis, n: number, size: number, from = 0): number {
  if (source === null || n <= from) return 1;
  let weighted = 0, total = 0, a = 0;
  for (const len of source) {
    const b = a + len;
    const lo = Math.max(a, from), hi = Math.min(b, n);
    if (hi > lo) {
      const k = Math.floor((hi - 1 - from) / size) - Math.floor((lo - from) / size) + 1;
      weighted += k * (hi - lo);
      total += hi - lo;
    }
    a = b;
  }
  return total === 0 ? 1 : weighted / total;
}

/** The largest source chunk length along an axis that a block of `size` may have to decode. */
function maxSourceLength(source: SourceAxis, size: number): number {
  return source === null ? size : Math.max(1, ...source);
}

/** Estimated peak memory of a task writing blocks of `block`, encoding `encoders` chunks at once. */
export function taskMemory(a: ArrayInput, block: readonly number[], encoders = 1): number {
  const blockBytes = prod(block) * a.itemSize;
  const sourceChunk = prod(a.source.map((s, i) => Math.min(maxSourceLength(s, block[i]!), a.shape[i]!))) * a.itemSize;
  const chunkBytes = prod(a.chunks) * a.itemSize;
  // runTask reads first, then encodes: the two phases never hold their buffers at the same time.
  // Reading: a source chunk exists twice briefly (compressed and inflated, or HDF5's buffer and
  // h5wasm's copy). Encoding: the block holds the chunks as stored; each chunk in flight has its
  // compressed output, and an edge chunk its padded copy.
  return blockBytes + Math.max(2 * sourceChunk, encoders * 2 * chunkBytes);
}

/** Candidate block sizes (in target chunks) along one axis, smallest first. */
function candidates(a: ArrayInput, axis: number): number[] {
  const T = a.chunks[axis]!, n = a.shape[axis]!, from = firstWritten(a, axis);
  const maxM = Math.max(1, Math.ceil((n - from) / T));
  const set = new Set<number>([1, maxM]);
  for (let m = 2; m < maxM; m *= 2) set.add(m);
  const src = a.source[axis];
  if (src && src.length) {
    // Blocks that end where source chunks end: multiples of lcm(source chunk, T) / T.
    const c = src[0]!;
    const step = c / gcd(c, T);
    for (let m = step; m < maxM && set.size < MAX_CANDIDATES * 2; m += step) set.add(m);
  }
  const sorted = [...set].filter((m) => m >= 1 && m <= maxM).sort((x, y) => x - y);
  if (sorted.length <= MAX_CANDIDATES) return sorted;
  // Keep the smallest, the largest, and those aligned with the source, evenly thinned.
  const keep = new Set([sorted[0]!, sorted[sorted.length - 1]!]);
  const stride = sorted.length / (MAX_CANDIDATES - 2);
  for (let i = 0; i < MAX_CANDIDATES - 2; i++) keep.add(sorted[Math.floor(i * stride)]!);
  return [...keep].sort((x, y) => x - y);
}

function describeShape(xs: readonly number[]) {
  return `(${xs.join(", ")})`;
}

export function planArray(a: ArrayInput, budget: number): { plan: ArrayPlan; tasks: Omit<TaskSpec, "id">[] } {
  const nd = a.shape.length;
  const bytes = prod(a.shape) * a.itemSize;
  if (nd === 0 || prod(a.shape) === 0) {
    const tasks = nd === 0 ? [{ array: a.path, start: [], count: [] }] : [];
    return {
      plan: { path: a.path, shape: a.shape, chunks: a.chunks, block: a.chunks, tasks: tasks.length, objects: tasks.length,
        readAmplification: 1, bytes, peakTaskBytes: taskMemory(a, a.chunks), encoders: 1 },
      tasks,
    };
  }
  // Extent of a block of k target chunks along an axis: clipped to the part that is written.
  const extent = (k: number, i: number) => Math.min(k * a.chunks[i]!, a.shape[i]! - firstWritten(a, i));
  const minimal = a.chunks.map((_, i) => extent(1, i));
  const least = taskMemory(a, minimal);
  if (least > budget) {
    throw new ConvertError("Usage",
      `${a.path}: one target chunk ${describeShape(a.chunks)} needs ${formatBytes(least)} per task ` +
      `(chunk ${formatBytes(prod(a.chunks) * a.itemSize)}, source chunk up to ${formatBytes(prod(a.source.map((s, i) => Math.min(maxSourceLength(s, minimal[i]!), a.shape[i]!))) * a.itemSize)}), ` +
      `more than --max-mem ${formatBytes(budget)}; use smaller --chunks or a larger --max-mem`);
  }
  const cands = a.shape.map((_, i) => candidates(a, i));
  let best: { m: number[]; amp: number; mem: number; encoders: number } | undefined;
  const m = new Array<number>(nd).fill(1);
  const search = (axis: number, ampSoFar: number) => {
    if (axis === nd) {
      const block = m.map(extent);
      const encoders = taskMemory(a, block, ENCODE_CONCURRENCY) <= budget ? ENCODE_CONCURRENCY : 1;
      const mem = taskMemory(a, block, encoders);
      if (mem > budget) return;
      // Least amplification, then most encoders, then closest to the task target (from below).
      const target = Math.min(budget, TASK_TARGET_BYTES);
      const rank = (x: number) => (x <= target ? target - x : target + x);
      const better = !best || ampSoFar < best.amp - 1e-9 || (Math.abs(ampSoFar - best.amp) <= 1e-9 &&
        (encoders > best.encoders || (encoders === best.encoders && rank(mem) < rank(best.mem))));
      if (better) best = { m: m.slice(), amp: ampSoFar, mem, encoders };
      return;
    }
    for (const k of cands[axis]!) {
      m[axis] = k;
      const size = k * a.chunks[axis]!;
      // Memory only grows with k: stop once even the smallest choice for later axes cannot fit.
      const partial = m.map((x, i) => (i <= axis ? extent(x, i) : minimal[i]!));
      if (taskMemory(a, partial) > budget) break;
      search(axis + 1, ampSoFar * axisAmplification(a.source[axis]!, a.shape[axis]!, size, firstWritten(a, axis)));
    }
  };
  search(0, 1);
  const chosen = best!; // the minimal block fits, so the search found at least one
  const block = chosen.m.map(extent);
  const perAxis = chosen.m.map((k, i) => blockIntervals(a.shape[i]!, k * a.chunks[i]!, firstWritten(a, i)));
  const tasks: Omit<TaskSpec, "id">[] = [];
  const idx = new Array<number>(nd).fill(0);
  const total = prod(perAxis.map((p) => p.length));
  for (let t = 0; t < total; t++) {
    const iv = idx.map((k, i) => perAxis[i]![k]!);
    tasks.push({ array: a.path, start: iv.map(([s]) => s), count: iv.map(([s, e]) => e - s), encoders: chosen.encoders });
    for (let ax = nd - 1; ax >= 0; ax--) {
      if (++idx[ax]! < perAxis[ax]!.length) break;
      idx[ax] = 0;
    }
  }
  const objects = prod(a.shape.map((n, i) => Math.ceil((n - firstWritten(a, i)) / a.chunks[i]!)));
  return {
    plan: { path: a.path, shape: a.shape, chunks: a.chunks, block, tasks: tasks.length, objects,
      readAmplification: chosen.amp, bytes, peakTaskBytes: chosen.mem, encoders: chosen.encoders },
    tasks,
  };
}

export function planJob(arrays: readonly ArrayInput[], opts: PlanOptions): Plan {
  const planned = arrays.map((a) => planArray(a, opts.maxMem));
  const tasks: TaskSpec[] = planned.flatMap((p) => p.tasks).map((t, id) => ({ id, ...t }));
  const plans = planned.map((p) => p.plan);
  const bytes = plans.reduce((s, p) => s + p.bytes, 0);
  const bytesRead = plans.reduce((s, p) => s + p.bytes * p.readAmplification, 0);
  return {
    arrays: plans,
    tasks,
    estimates: {
      tasks: tasks.length,
      objects: plans.reduce((s, p) => s + p.objects, 0),
      bytesRead,
      bytesWritten: bytes,
      peakTaskBytes: Math.max(0, ...plans.map((p) => p.peakTaskBytes)),
      readAmplification: bytes > 0 ? bytesRead / bytes : 1,
      maxMem: opts.maxMem,
      workers: opts.workers,
    },
  };
}
