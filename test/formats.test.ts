/**
 * What the shared corpus lacks, made at test time with Debian's netCDF4-python and h5py: CDF-5 with
 * data, the unpadded single record variable, NetCDF-4 strings/chars/int64/big-endian/groups, HDF5
 * user blocks, phony dimensions, plugin filters (LZF), and every codec.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as zarr from "zarrita";
import { convert } from "../lib/convert.js";
import { FsStore } from "../lib/store/fs.js";
import { zarritaView } from "../lib/store/read.js";
import { verify } from "../lib/verify.js";
import { inspect } from "../lib/inspect.js";
import { product, walkVariables } from "../lib/model.js";
import { CODEC_NAMES } from "../lib/zarr/codecs.js";
import { CORPUS, CORPUS_MISSING, MODERN_PYTHON, MODERN_PYTHON_MISSING, PYTHON, PYTHON_MISSING, modernPython, python, tempDir } from "./helpers.js";
import { spawnSync } from "node:child_process";
import { specProblems } from "./spec-check.js";
import type { ModernOutcome } from "../tools/conformance.js";

const XARRAY_READABLE = ["cdf5.nc", "one_record_var.nc", "netcdf4_types.nc", "userblock.h5", "phony.h5"];

describe("formats beyond the corpus", { skip: PYTHON_MISSING }, () => {
  const tmp = tempDir("formats");
  const fx = (n: string) => join(tmp.dir, n);
  const store = (n: string, v: 2 | 3) => fx(`${n}.v${v}.zarr`);
  before(async () => {
    const r = spawnSync(PYTHON, [join(import.meta.dirname, "../../test/py/make_fixtures.py"), tmp.dir], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    for (const f of [...XARRAY_READABLE, "lzf.h5", "compound_le.nc"]) {
      for (const v of [2, 3] as const) await convert([fx(f)], { out: store(f, v), zarrFormat: v });
    }
  });
  after(() => tmp.cleanup());

  test("every fixture verifies in both formats and passes the spec checks", async () => {
    for (const f of [...XARRAY_READABLE, "lzf.h5"]) {
      for (const v of [2, 3] as const) {
        const r = await verify([fx(f)], store(f, v));
        assert.ok(r.arrays > 0 && r.values > 0, f);
        assert.deepEqual(await specProblems(store(f, v)), [], `${f} v${v}`);
      }
    }
  });

  test("xarray reads the v2 stores equal to the sources (dims, dtypes, values, attributes)", () => {
    const jobs = XARRAY_READABLE.map((f) => [store(f, 2), fx(f)]);
    const results = python("compare_xarray.py", ["--jobs"], JSON.stringify(jobs)) as { ok: boolean; differences: string[] }[];
    results.forEach((r, i) => assert.deepEqual([XARRAY_READABLE[i], r.ok, r.differences], [XARRAY_READABLE[i], true, []]));
  });

  test("CDF-5 64-bit integers and attributes beyond 2^53 are exact", async () => {
    const v2 = readFileSync(join(store("cdf5.nc", 2), ".zattrs"), "utf8");
    assert.match(v2, /"big": 9007199254740993/);
    assert.match(v2, /"nan": NaN/, "zarr-python 2 style bare NaN in v2 attributes");
    const v3 = JSON.parse(readFileSync(join(store("cdf5.nc", 3), "i64/zarr.json"), "utf8")) as Record<string, Record<string, unknown>>;
    assert.equal(v3["attributes"]!["_FillValue"], -(2 ** 62));
    assert.equal(v3["fill_value"], -(2 ** 62));
    const arr = await zarr.open.v3(zarr.root(new FsStore(store("cdf5.nc", 3))).resolve("i64"), { kind: "array" });
    const got = (await zarr.get(arr)).data as BigInt64Array;
    assert.deepEqual(Array.from(got), [2n ** 53n + 1n, -(2n ** 62n), 7n, 1n, 2n, 3n]);
  });

  test("plain HDF5 gets netCDF-C's phony dimension names; a user block is found", () => {
    const dims = (name: string) => (JSON.parse(readFileSync(join(store("phony.h5", 2), name, ".zattrs"), "utf8")) as { _ARRAY_DIMENSIONS: string[] })._ARRAY_DIMENSIONS;
    // netCDF-C: per group, one phony dim per distinct size, a new one when a variable repeats a size.
    assert.deepEqual(dims("gz"), ["phony_dim_0", "phony_dim_1"]);
    assert.deepEqual(dims("other"), ["phony_dim_2", "phony_dim_3"]);
    assert.deepEqual(dims("so"), ["phony_dim_4", "phony_dim_5"]);
    assert.deepEqual(dims("square"), ["phony_dim_2", "phony_dim_6"]);
    const ub = JSON.parse(readFileSync(join(store("userblock.h5", 3), "data/zarr.json"), "utf8")) as { shape: number[] };
    assert.deepEqual(ub.shape, [3, 4]);
  });

  test("an LZF-compressed HDF5 dataset (h5wasm plugin) reads the same as h5py", () => {
    const code = "import h5py, zarr, numpy as np, sys; a = h5py.File(sys.argv[1])['lzf'][...]; b = zarr.open(sys.argv[2], 'r')['lzf'][...]; print(a.dtype == b.dtype and np.array_equal(a, b))";
    const r = spawnSync(PYTHON, ["-c", code, fx("lzf.h5"), store("lzf.h5", 2)], { encoding: "utf8" });
    assert.equal(r.stdout.trim(), "True", r.stderr);
  });

  test("NetCDF-4 compounds: packed little-endian records, the fill record only in fill_value", { skip: MODERN_PYTHON_MISSING }, async () => {
    const f = "compound_le.nc";
    const fields = [["b", "int8"], ["s", "int16"], ["u", "uint32"], ["q", "int64"], ["f", "float32"], ["d", "float64"]];
    const fill = Buffer.alloc(27);
    [fill.writeInt8(-1, 0), fill.writeInt16LE(-2, 1), fill.writeUInt32LE(4000000000, 3), fill.writeBigInt64LE(-(2n ** 40n), 7), fill.writeFloatLE(-4.5, 15), fill.writeDoubleLE(-5.25, 19)];
    const v3 = JSON.parse(readFileSync(join(store(f, 3), "obs/zarr.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual([v3["data_type"], v3["fill_value"], (v3["codecs"] as unknown[])[0], v3["attributes"]],
      [{ name: "structured", configuration: { fields } }, fill.toString("base64"), { name: "bytes" }, { long_name: "observation" }]);
    const plain3 = JSON.parse(readFileSync(join(store(f, 3), "plain/zarr.json"), "utf8")) as Record<string, unknown>;
    assert.equal(plain3["fill_value"], Buffer.alloc(27).toString("base64"));
    const v2 = JSON.parse(readFileSync(join(store(f, 2), "obs/.zarray"), "utf8")) as Record<string, unknown>;
    assert.deepEqual([v2["dtype"], v2["fill_value"], v2["filters"]],
      [[["b", "|i1"], ["s", "<i2"], ["u", "<u4"], ["q", "<i8"], ["f", "<f4"], ["d", "<f8"]], fill.toString("base64"), null]);
    assert.equal((JSON.parse(readFileSync(join(store(f, 2), "plain/.zarray"), "utf8")) as Record<string, unknown>)["fill_value"], null);
    assert.ok(!("_FillValue" in (JSON.parse(readFileSync(join(store(f, 2), "obs/.zattrs"), "utf8")) as object)));
    for (const v of [2, 3] as const) {
      const r = await verify([fx(f)], store(f, v));
      assert.deepEqual([r.arrays, r.values, r.attributes], [2, 15, 1], `v${v}`);
      assert.deepEqual(await specProblems(store(f, v)), [], `v${v}`);
    }
    // The chunk of fill records only is not stored.
    assert.deepEqual(readdirSync(join(store(f, 3), "obs/c")).sort(), ["0"]);
    assert.deepEqual(readdirSync(join(store(f, 3), "obs/c/0")), ["0"]);
    // Today's xarray and zarr-python read every field as the source (aligned there, packed here).
    const code = [
      "import sys, warnings, json, numpy as np, xarray as xr, zarr",
      "warnings.simplefilter('ignore')",
      "out = []",
      "for store in sys.argv[2:]:",
      "    src = xr.open_dataset(sys.argv[1], decode_cf=False)",
      "    dst = xr.open_zarr(store, decode_cf=False, consolidated=True)",
      "    g = zarr.open_group(store, mode='r')",
      "    for k in ('obs', 'plain'):",
      "        a, b, z = src[k].values, dst[k].values, g[k][...]",
      "        out.append([k, a.dtype.names == b.dtype.names == z.dtype.names, b.dtype.itemsize,",
      "                    all(a.dtype[n] == b.dtype[n] == z.dtype[n] and np.array_equal(a[n], b[n]) and np.array_equal(a[n], z[n]) for n in a.dtype.names)])",
      "print(json.dumps(out))",
    ].join("\n");
    const r = spawnSync(MODERN_PYTHON, ["-c", code, fx(f), store(f, 2), store(f, 3)], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [["obs", true, 27, true], ["plain", true, 27, true], ["obs", true, 27, true], ["plain", true, 27, true]]);
  });

  test("appending to a compound array rewrites the partial chunk row from the store, fill records included", { skip: MODERN_PYTHON_MISSING }, async () => {
    const days = [fx("compound_day1.nc"), fx("compound_day2.nc")];
    const jobs = [];
    for (const v of [2, 3] as const) {
      const out = fx(`compound_days.v${v}.zarr`);
      // time=2 chunks: day 1's third step shares its chunk row with day 2's first.
      await convert([days[0]!], { out, zarrFormat: v, chunks: { time: 2 } });
      const s = await convert([days[1]!], { out, append: true });
      assert.equal(s.zarrFormat, v);
      const r = await verify(days, out);
      assert.deepEqual([r.arrays, r.values], [2, 18], `v${v}`);
      jobs.push(out);
    }
    const results = modernPython("compare_modern.py", ["--jobs"], JSON.stringify([{ sources: days, stores: { v2: jobs[0], v3: jobs[1] }, concatDim: "time" }])) as { v2: ModernOutcome; v3: ModernOutcome }[];
    for (const fmt of ["v2", "v3"] as const) {
      const m = results[0]![fmt];
      assert.deepEqual([m.raw.differences, m.zarr.differences, m.zarr.arrays], [[], [], 2], fmt);
    }
  });

  test("a compound with an array member is refused by name", async () => {
    await assert.rejects(convert([fx("compound_array.nc")], { out: fx("compound_array.zarr"), zarrFormat: 3 }),
      /variable \/tagged has an unsupported compound type with an array member tag/);
  });

  test("NetCDF-4 strings, chars and groups survive in both formats", async () => {
    const v3 = new FsStore(store("netcdf4_types.nc", 3));
    const names = await zarr.open.v3(zarr.root(v3).resolve("names"), { kind: "array" });
    assert.deepEqual(Array.from((await zarr.get(names)).data as string[]), ["alpha", "βeta", ""]);
    // v3 keeps NC_CHAR as one-byte null_terminated_bytes with its character dimension, as xarray writes |S1.
    const v3meta = JSON.parse(readFileSync(join(store("netcdf4_types.nc", 3), "codes/zarr.json"), "utf8")) as Record<string, unknown>;
    assert.deepEqual([v3meta["data_type"], v3meta["shape"], v3meta["dimension_names"], v3meta["fill_value"], (v3meta["codecs"] as unknown[])[0]],
      [{ name: "null_terminated_bytes", configuration: { length_bytes: 1 } }, [3, 4], ["n", "nchar"], "", { name: "bytes" }]);
    const codes = await zarr.open.v3(zarr.root(zarritaView(v3)).resolve("codes"), { kind: "array" });
    assert.equal(Buffer.from((await zarr.get(codes)).data as Uint8Array).toString("latin1"), "ab\0\0cdefg\0\0\0");
    const v2meta = JSON.parse(readFileSync(join(store("netcdf4_types.nc", 2), "codes/.zarray"), "utf8")) as { dtype: string; shape: number[] };
    assert.deepEqual([v2meta.dtype, v2meta.shape], ["|S1", [3, 4]], "v2 keeps NC_CHAR as bytes with its dimension");
    const packed = JSON.parse(readFileSync(join(store("netcdf4_types.nc", 2), "inner/packed/.zarray"), "utf8")) as { dtype: string; fill_value: number };
    assert.deepEqual([packed.dtype, packed.fill_value], ["<i2", -1], "packed integers stay packed, _FillValue is the v2 fill_value");
  });
});

async function sourceValues(path: string): Promise<number> {
  const r = await inspect([path]);
  return [...walkVariables(r.dataset.root)].reduce((a, v) => a + product(v.shape), 0);
}

describe("codecs", { skip: CORPUS_MISSING || PYTHON_MISSING }, () => {
  const tmp = tempDir("codecs");
  after(() => tmp.cleanup());
  const src = join(CORPUS, "small_theta_colpex.nc");

  for (const codec of CODEC_NAMES) {
    test(`${codec}: v2 and v3 verify, and xarray reads v2`, async () => {
      for (const v of [2, 3] as const) {
        const out = join(tmp.dir, `${codec}.v${v}.zarr`);
        const s = await convert([src], { out, zarrFormat: v, codec });
        assert.equal(s.codec, codec);
        const r = await verify([src], out);
        assert.equal(r.values, await sourceValues(src));
      }
      const [x] = python("compare_xarray.py", [join(tmp.dir, `${codec}.v2.zarr`), src]) as { ok: boolean; differences: string[] }[];
      assert.deepEqual(x!.differences, []);
    });
  }

  test("blosc chunks really are shuffled (header flag), and zstd/gzip frames are what they claim", () => {
    const first = (codec: string) => {
      const dir = join(tmp.dir, `${codec}.v2.zarr`, "air_potential_temperature");
      const chunk = readdirSync(dir).find((f) => !f.startsWith("."))!;
      return readFileSync(join(dir, chunk));
    };
    assert.equal(first("blosc")[2]! & 0x01, 1, "blosc byte-shuffle flag set");
    assert.deepEqual([...first("zstd").subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
    assert.deepEqual([...first("gzip").subarray(0, 2)], [0x1f, 0x8b], "gzip magic");
    // 1.6 MiB of float32 is below the 8 MiB target: one chunk holding every value, uncompressed.
    assert.equal(first("none").length, 6 * 10 * 83 * 83 * 4);
  });
});
