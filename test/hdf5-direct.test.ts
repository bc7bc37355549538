/**
 * The direct HDF5 chunk reader (deflate + shuffle decoded natively) against h5wasm, the reference:
 * every numeric variable of every NetCDF-4/HDF5 corpus file, random regions across chunk edges, and
 * the cases it must leave to h5wasm (chunks never written, other filters).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { walkVariables, type ArrayData } from "../lib/model.js";
import { directChunksDecoded, setDirectReads } from "../lib/source/hdf5-direct.js";
import { openSource } from "../lib/source/open.js";
import type { SourceFile } from "../lib/source/types.js";
import { CORPUS, CORPUS_MISSING, PYTHON, PYTHON_MISSING, tempDir } from "./helpers.js";

const bytes = (a: ArrayData) => Buffer.from((a as Uint8Array).buffer, (a as Uint8Array).byteOffset, (a as Uint8Array).byteLength);

/** Reads into this many buffers that shared the caller's memory (the direct path decodes into `into`). */
let decodedInPlace = 0;

/**
 * The region read both ways — and directly again into a caller's buffer at a non-zero offset, as a
 * converting task hands over its block; whether the direct path decoded anything for it.
 */
function bothWays(src: SourceFile, path: string, start: number[], count: number[]): { same: boolean; direct: boolean } {
  try {
    setDirectReads(false);
    const reference = src.read(path, start, count);
    setDirectReads(true);
    const before = directChunksDecoded();
    const direct = src.read(path, start, count);
    const size = bytes(reference).byteLength;
    const into = new Uint8Array(new ArrayBuffer(size + 16), 8, size);
    const placed = src.read(path, start, count, into);
    const inPlace = bytes(placed).byteOffset === into.byteOffset && (placed as Uint8Array).buffer === into.buffer;
    if (inPlace) decodedInPlace++;
    const same = bytes(reference).equals(bytes(direct)) && bytes(reference).equals(bytes(placed)) && (!inPlace || bytes(reference).equals(Buffer.from(into)));
    return { same, direct: directChunksDecoded() > before };
  } finally {
    setDirectReads(true);
  }
}

/** A seeded generator, so a failure names a region that can be read again. */
function rng(seed: number) {
  let x = seed;
  return (n: number) => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) % n;
}

describe("direct HDF5 chunk reads", () => {
  const tmp = tempDir("direct");
  after(() => tmp.cleanup());

  test("every numeric variable of the corpus's NetCDF-4/HDF5 files reads identically to h5wasm, most of them directly", { skip: CORPUS_MISSING }, async () => {
    let compared = 0, direct = 0;
    const different: string[] = [];
    for (const f of readdirSync(CORPUS).filter((n) => !n.endsWith(".md") && n !== "SHA256SUMS")) {
      let src: SourceFile;
      try {
        src = await openSource(join(CORPUS, f));
      } catch {
        continue; // files the converter refuses are covered by the conformance tests
      }
      try {
        if (!/netcdf4|hdf5/i.test(String(src.dataset.format))) continue;
        for (const v of walkVariables(src.dataset.root)) {
          if (v.unsupported || v.dtype === "string" || v.dtype === "char" || v.shape.length === 0 || v.shape.includes(0)) continue;
          const r = bothWays(src, v.path, v.shape.map(() => 0), v.shape);
          compared++;
          if (r.direct) direct++;
          if (!r.same) different.push(`${f} ${v.path}`);
        }
      } finally {
        src.close();
      }
    }
    assert.deepEqual(different, []);
    assert.ok(compared >= 150, `${compared} variables compared`);
    assert.ok(direct >= 50, `${direct} read directly`);
    assert.ok(decodedInPlace >= 50, `${decodedInPlace} decoded into the caller's buffer`);
  });

  test("random regions across chunk edges read identically", { skip: CORPUS_MISSING }, async () => {
    const next = rng(42);
    let regions = 0;
    for (const f of ["o3_Amon_GFDL-ESM4_historical_185001-194912.nc", "eraint_uvz.nc", "gridmet_sample.nc", "kerchunk_air.nc"]) {
      const src = await openSource(join(CORPUS, f));
      try {
        for (const v of walkVariables(src.dataset.root)) {
          if (!v.sourceChunks || v.shape.length < 2 || v.dtype === "char" || v.dtype === "string") continue;
          for (let k = 0; k < 12; k++) {
            const start = v.shape.map((n) => next(n));
            const count = start.map((s, i) => 1 + next(v.shape[i]! - s));
            const r = bothWays(src, v.path, start, count);
            assert.ok(r.same, `${f} ${v.path} [${start}] + [${count}]`);
            regions++;
          }
        }
      } finally {
        src.close();
      }
    }
    assert.ok(regions >= 24, `${regions} regions`);
  });

  test("chunks never written (fill value) and other filters are left to h5wasm", { skip: PYTHON_MISSING }, async () => {
    const file = join(tmp.dir, "partial.nc");
    const py = spawnSync(PYTHON, ["-c", `
import sys, numpy as np, netCDF4
ds = netCDF4.Dataset(sys.argv[1], "w")
ds.createDimension("y", 8); ds.createDimension("x", 8)
a = ds.createVariable("sparse", "f4", ("y", "x"), chunksizes=(4, 4), zlib=True, shuffle=True, fill_value=-1.0)
a[0:4, 0:4] = np.arange(16, dtype="f4").reshape(4, 4)   # three of the four chunks never written
b = ds.createVariable("checked", "i2", ("y", "x"), chunksizes=(4, 4), zlib=True, fletcher32=True)
b[:] = np.arange(64, dtype="i2").reshape(8, 8)
c = ds.createVariable("plain", "f8", ("y", "x"), chunksizes=(4, 4), zlib=True, shuffle=True)
c[:] = np.arange(64, dtype="f8").reshape(8, 8) / 3
ds.close()
`, file], { encoding: "utf8" });
    assert.equal(py.status, 0, py.stderr);
    const src = await openSource(file);
    try {
      const sparse = bothWays(src, "/sparse", [0, 0], [8, 8]);
      assert.deepEqual(sparse, { same: true, direct: false });
      assert.deepEqual(Array.from(src.read("/sparse", [3, 3], [2, 2]) as Float32Array), [15, -1, -1, -1]);
      assert.deepEqual(bothWays(src, "/checked", [0, 0], [8, 8]), { same: true, direct: false });
      assert.deepEqual(bothWays(src, "/plain", [2, 1], [5, 6]), { same: true, direct: true });
      assert.equal((src.read("/plain", [7, 7], [1, 1]) as Float64Array)[0], 63 / 3);
    } finally {
      src.close();
    }
  });
});
