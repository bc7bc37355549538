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

/** Copies the region [start, start + count) out of `src` (shape srcShape) into `out` (shape outShape) at `at`. */
export function copyOut(
  out: ArrayData, outShape: readonly number[], at: readonly number[],
  src: ArrayData, srcShape: readonly number[], start: readonly number[], count: readonly number[],
): void {
  if (count.some((c) => c === 0)) return;
  const outStrides = stridesOf(outShape);
  let base = 0;
  for (let i = 0; i < at.length; i++) base += at[i]! * outStrides[i]!;
  // Walk the source region's runs; the destination runs line up with the same row structure.
  const nd = srcShape.length;
  if (nd === 0) {
    (out as unknown as unknown[])[0] = (src as unknown as unknown[])[0];
    return;
  }
  const srcStrides = stridesOf(srcShape);
  const words = Array.isArray(out) ? undefined : sameWidthView(out);
  const srcWords = Array.isArray(src) ? undefined : sameWidthView(src);
  const rows = product(count.slice(0, -1));
  const rowLen = count[nd - 1]!;
  const idx = new Array<number>(nd - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let s = start[nd - 1]!, d = base;
    for (let a = 0; a < nd - 1; a++) {
      s += (start[a]! + idx[a]!) * srcStrides[a]!;
      d += idx[a]! * outStrides[a]!;
    }
    // Short rows: a plain loop beats creating a subarray per row (measured: 3x on 90-element rows),
    // over same-width integer views so the loop stays monomorphic whatever the element type.
    if (Array.isArray(out) || Array.isArray(src)) {
      const o = out as unknown as unknown[], x = src as unknown as unknown[];
      for (let k = 0; k < rowLen; k++) o[d + k] = x[s + k];
    } else if (rowLen < 256) {
      copyShortRow(words!, srcWords!, d, s, rowLen);
    } else (out as Uint8Array).set((src as Uint8Array).subarray(s, s + rowLen), d);
    for (let a = nd - 2; a >= 0; a--) {
      if (++idx[a]! < count[a]!) break;
      idx[a] = 0;
    }
  }
}

/** Integer words over an array's memory, and how many make one element (8-byte elements as two 32-bit words, so no bits pass through a float). */
interface Words {
  w: Uint8Array | Uint16Array | Uint32Array;
  per: number;
}

function sameWidthView(a: Exclude<ArrayData, string[]>): Words {
  const t = a as Uint8Array;
  switch (t.BYTES_PER_ELEMENT) {
    case 1: return { w: new Uint8Array(t.buffer, t.byteOffset, t.length), per: 1 };
    case 2: return { w: new Uint16Array(t.buffer, t.byteOffset, t.length), per: 1 };
    case 4: return { w: new Uint32Array(t.buffer, t.byteOffset, t.length), per: 1 };
    default: return { w: new Uint32Array(t.buffer, t.byteOffset, t.length * (t.BYTES_PER_ELEMENT / 4)), per: t.BYTES_PER_ELEMENT / 4 };
  }
}

function copyShortRow(out: Words, src: Words, d: number, s: number, n: number): void {
  const per = out.per, o = out.w, x = src.w;
  d *= per;
  s *= per;
  n *= per;
  // One loop per width keeps each loop monomorphic.
  if (o instanceof Uint32Array) for (let k = 0; k < n; k++) o[d + k] = (x as Uint32Array)[s + k]!;
  else if (o instanceof Uint16Array) for (let k = 0; k < n; k++) o[d + k] = (x as Uint16Array)[s + k]!;
  else for (let k = 0; k < n; k++) o[d + k] = (x as Uint8Array)[s + k]!;
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
