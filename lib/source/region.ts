import { product } from "../model.js";

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
