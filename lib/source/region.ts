import { product, type ArrayData } from "../model.js";

/** Row-major element strides of an array shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Splits a region of a C-order array into maximal contiguous runs: calls `run(srcElem, dstElem, n)`
 * for each, where srcElem is the element offset in the full array and dstElem in the region.
 */
export function forEachRun(
  shape: readonly number[],
  start: readonly number[],
  count: readonly number[],
  run: (srcElem: number, dstElem: number, n: number) => void,
): void {
  const nd = shape.length;
  if (nd === 0) return run(0, 0, 1);
  if (count.some((c) => c === 0)) return;
  // Trailing axes read whole merge into one run with the first partial axis before them.
  let k = nd - 1;
  while (k > 0 && start[k] === 0 && count[k] === shape[k]) k--;
  const strides = stridesOf(shape);
  const runLen = count[k]! * strides[k]!;
  const outer = count.slice(0, k);
  const nOuter = product(outer);
  const idx = new Array<number>(k).fill(0);
  for (let o = 0; o < nOuter; o++) {
    let src = start[k]! * strides[k]!;
    for (let a = 0; a < k; a++) src += (start[a]! + idx[a]!) * strides[a]!;
    run(src, o * runLen, runLen);
    for (let a = k - 1; a >= 0; a--) {
      if (++idx[a]! < outer[a]!) break;
      idx[a] = 0;
    }
  }
}

/** Why a region does not fit a shape, or null when it does. */
export function validateRegion(shape: readonly number[], start: readonly number[], count: readonly number[]): string | null {
  if (start.length !== shape.length || count.length !== shape.length) {
    return `region has ${start.length}/${count.length} axes, variable has ${shape.length}`;
  }
  for (let i = 0; i < shape.length; i++) {
    if (start[i]! < 0 || count[i]! < 0 || start[i]! + count[i]! > shape[i]!) {
      return `region [${start.join(",")}]+[${count.join(",")}] is outside shape [${shape.join(",")}]`;
    }
  }
  return null;
}

/** Copies `piece` (C order, shape pieceShape) into `out` (shape outShape) at offset `at`. */
export function copyRegion(out: ArrayData, outShape: readonly number[], piece: ArrayData, pieceShape: readonly number[], at: readonly number[]): void {
  forEachRun(outShape, at, pieceShape, (outPos, piecePos, n) => {
    if (Array.isArray(out)) for (let k = 0; k < n; k++) out[outPos + k] = (piece as string[])[piecePos + k]!;
    else (out as Uint8Array).set((piece as Uint8Array).subarray(piecePos, piecePos + n), outPos);
  });
}

/**
 * Where the region [at, at + count) of a C-order array of `shape` starts, in elements, when it is one
 * contiguous stretch of it (past the outermost axis it spans more than one index of, it spans whole
 * axes); undefined when it is not, or empty.
 */
export function contiguousOffset(shape: readonly number[], at: readonly number[], count: readonly number[]): number | undefined {
  if (count.some((c) => c === 0)) return undefined;
  const outer = count.findIndex((c) => c !== 1);
  if (outer >= 0 && count.some((c, j) => j > outer && c !== shape[j])) return undefined;
  const strides = stridesOf(shape);
  return at.reduce((sum, a, i) => sum + a * strides[i]!, 0);
}

/**
 * The rows (runs along the last axis) of the region [start, start + count) of an array of `srcShape`
 * and of the same region placed at `at` in an array of `outShape`: each row's element offset in
 * either array, and the rows' common length. Listed up front so that the copy loops stay simple.
 */
export function rowsOf(
  outShape: readonly number[], at: readonly number[], srcShape: readonly number[], start: readonly number[], count: readonly number[],
): { d: Float64Array; s: Float64Array; n: number } {
  const nd = srcShape.length;
  if (count.some((c) => c === 0)) return { d: new Float64Array(0), s: new Float64Array(0), n: 0 };
  if (nd === 0) return { d: new Float64Array(1), s: new Float64Array(1), n: 1 };
  const outStrides = stridesOf(outShape), srcStrides = stridesOf(srcShape);
  const rows = product(count.slice(0, -1));
  const d = new Float64Array(rows), s = new Float64Array(rows);
  const idx = new Array<number>(nd - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let x = start[nd - 1]!, y = at[nd - 1]!;
    for (let a = 0; a < nd - 1; a++) {
      x += (start[a]! + idx[a]!) * srcStrides[a]!;
      y += (at[a]! + idx[a]!) * outStrides[a]!;
    }
    s[r] = x;
    d[r] = y;
    for (let a = nd - 2; a >= 0; a--) {
      if (++idx[a]! < count[a]!) break;
      idx[a] = 0;
    }
  }
  return { d, s, n: count[nd - 1]! };
}

/**
 * Typed-array indices below this are computed in 32-bit integer arithmetic by the copy loops
 * (`| 0`): V8 runs them ~1.5x faster than with float indices (90-byte rows, measured).
 */
export const INT_INDEX_LIMIT = 2 ** 31;

/** The widest of 4, 2 and 1 bytes that divides every one of `bytes` (offsets and lengths). */
export function widestWord(bytes: readonly number[]): 1 | 2 | 4 {
  return bytes.every((b) => b % 4 === 0) ? 4 : bytes.every((b) => b % 2 === 0) ? 2 : 1;
}

/** What every row offset of a copy (see rowsOf) is a sum of multiples of, in elements, and the row length. */
export function rowTerms(
  outShape: readonly number[], at: readonly number[], srcShape: readonly number[], start: readonly number[], count: readonly number[],
): number[] {
  const nd = srcShape.length;
  if (nd === 0) return [];
  return [...stridesOf(outShape).slice(0, -1), ...stridesOf(srcShape).slice(0, -1), at[nd - 1]!, start[nd - 1]!, count[nd - 1]!];
}

/** Copies the region [start, start + count) out of `src` (shape srcShape) into `out` (shape outShape) at `at`. */
export function copyOut(
  out: ArrayData, outShape: readonly number[], at: readonly number[],
  src: ArrayData, srcShape: readonly number[], start: readonly number[], count: readonly number[],
): void {
  const rows = rowsOf(outShape, at, srcShape, start, count);
  if (Array.isArray(out) || Array.isArray(src)) return copyRows(out as unknown as unknown[], src as unknown as unknown[], rows, 1);
  // Integer words as wide as every row allows (up to 4 bytes): byte planes of shuffled chunks move in
  // 90-byte rows that are almost always 2- or 4-byte aligned, and words copy 2-4x faster than bytes.
  const es = (out as Uint8Array).BYTES_PER_ELEMENT;
  const w = widestWord([out.byteOffset, src.byteOffset, ...rowTerms(outShape, at, srcShape, start, count).map((t) => t * es)]);
  const View = w === 4 ? Uint32Array : w === 2 ? Uint16Array : Uint8Array;
  const words = (a: Exclude<ArrayData, string[]>) => new View(a.buffer as ArrayBuffer, a.byteOffset, Math.floor(a.byteLength / w));
  const o = words(out), x = words(src), per = es / w;
  // Short rows: a plain loop beats creating a subarray per row (measured: 3x on 90-element rows), over
  // integer words so that each loop sees one array type whatever the element type.
  if (rows.n * per >= 256 || o.length >= INT_INDEX_LIMIT || x.length >= INT_INDEX_LIMIT) for (let r = 0; r < rows.d.length; r++) {
    const s = rows.s[r]! * per;
    o.set(x.subarray(s, s + rows.n * per), rows.d[r]! * per);
  }
  else if (o instanceof Uint32Array) copyRows32(o, x as Uint32Array, rows, per);
  else if (o instanceof Uint16Array) copyRows16(o, x as Uint16Array, rows, per);
  else copyRows(o, x, rows, per);
}

// One copy loop per array type, so that each stays monomorphic.
function copyRows<T>(o: { [i: number]: T }, x: { [i: number]: T }, rows: { d: Float64Array; s: Float64Array; n: number }, per: number): void {
  const n = rows.n * per;
  for (let r = 0; r < rows.d.length; r++) {
    const d = (rows.d[r]! * per) | 0, s = (rows.s[r]! * per) | 0;
    for (let k = 0; k < n; k++) o[d + k] = x[s + k]!;
  }
}
function copyRows32(o: Uint32Array, x: Uint32Array, rows: { d: Float64Array; s: Float64Array; n: number }, per: number): void {
  const n = rows.n * per;
  for (let r = 0; r < rows.d.length; r++) {
    const d = (rows.d[r]! * per) | 0, s = (rows.s[r]! * per) | 0;
    for (let k = 0; k < n; k++) o[d + k] = x[s + k]!;
  }
}
function copyRows16(o: Uint16Array, x: Uint16Array, rows: { d: Float64Array; s: Float64Array; n: number }, per: number): void {
  const n = rows.n * per;
  for (let r = 0; r < rows.d.length; r++) {
    const d = (rows.d[r]! * per) | 0, s = (rows.s[r]! * per) | 0;
    for (let k = 0; k < n; k++) o[d + k] = x[s + k]!;
  }
}

/** Every combination of one item from each list, in C order (one empty tuple for no lists). */
export function* cartesian<T>(lists: T[][]): Generator<T[]> {
  if (lists.some((l) => l.length === 0)) return;
  const idx = lists.map(() => 0);
  for (;;) {
    yield idx.map((k, i) => lists[i]![k]!);
    let a = lists.length - 1;
    for (; a >= 0; a--) {
      if (++idx[a]! < lists[a]!.length) break;
      idx[a] = 0;
    }
    if (a < 0) return;
  }
}

/** Per axis, the indices of the chunks (of shape `chunks`) that the region [start, start + count) touches. */
export function chunkIndices(start: readonly number[], count: readonly number[], chunks: readonly number[]): number[][] {
  return chunks.map((size, i) => {
    const out: number[] = [];
    for (let c = Math.floor(start[i]! / size); c * size < start[i]! + count[i]!; c++) out.push(c);
    return out;
  });
}
