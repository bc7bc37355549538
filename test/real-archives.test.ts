/**
 * Archives shaped like real ones (test/py/make_archives.py): files whose time units differ
 * (MERRA-2's "minutes since <day> 00:30:00", monthly noleap files with bounds), converted whole
 * and by appends, in both formats; decoded times and values equal to xarray 2026's open_mfdataset
 * of the same files.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { convert } from "../lib/convert.js";
import { isConvertError } from "../lib/errors.js";
import { verify } from "../lib/verify.js";
import type { ModernOutcome } from "../tools/conformance.js";
import { MODERN_PYTHON_MISSING, PYTHON, PYTHON_MISSING, cli, modernPython, tempDir } from "./helpers.js";

describe("archives whose files encode time differently", { skip: PYTHON_MISSING || MODERN_PYTHON_MISSING }, () => {
  const tmp = tempDir("archives");
  const files = (dir: string) => readdirSync(join(tmp.dir, dir)).sort().map((f) => join(tmp.dir, dir, f));
  const meta = (store: string, path: string, format: 2 | 3) =>
    JSON.parse(readFileSync(join(store, path, format === 3 ? "zarr.json" : ".zarray"), "utf8")) as Record<string, unknown>;
  const attrs = (store: string, path: string, format: 2 | 3) =>
    (format === 3 ? meta(store, path, 3)["attributes"] : JSON.parse(readFileSync(join(store, path, ".zattrs"), "utf8"))) as Record<string, unknown>;
  /** xarray 2026's open_mfdataset of the files, decoded, against each store (compare_modern's decoded view). */
  const decodedLikeXarray = (sources: string[], stores: { v2?: string; v3?: string }) => {
    const [r] = modernPython("compare_modern.py", ["--jobs"], JSON.stringify([{ sources, stores, concatDim: "time", views: ["decoded"] }])) as { v2: ModernOutcome | null; v3: ModernOutcome | null }[];
    return { v2: r!.v2?.decoded, v3: r!.v3?.decoded };
  };

  before(() => {
    const r = spawnSync(PYTHON, [join(import.meta.dirname, "../../test/py/make_archives.py"), tmp.dir], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => tmp.cleanup());

  test("MERRA-2-like daily files, each with its own epoch: int32 minutes since the first day, equal to open_mfdataset", async () => {
    const days = files("merra");
    const stores = { v2: join(tmp.dir, "merra.v2.zarr"), v3: join(tmp.dir, "merra.v3.zarr") };
    for (const v of [2, 3] as const) {
      await convert(days, { out: stores[`v${v}`], zarrFormat: v });
      assert.deepEqual([await verify(days, stores[`v${v}`])].map((r) => [r.arrays, r.values]), [[4, 96 + 3 + 4 + 96 * 12]]);
      assert.equal(attrs(stores[`v${v}`], "time", v)["units"], "minutes since 2021-01-01 00:30:00");
    }
    assert.equal(meta(stores.v3, "time", 3)["data_type"], "int32", "whole minutes stay int32");
    assert.equal(meta(stores.v2, "time", 2)["dtype"], "<i4");
    const got = spawnSync(process.execPath, ["-e", `
      import("zarrita").then(async (zarr) => {
        const { FsStore } = await import(${JSON.stringify(join(import.meta.dirname, "../lib/store/fs.js"))});
        const a = await zarr.open.v3(zarr.root(new FsStore(${JSON.stringify(stores.v3)})).resolve("time"), { kind: "array" });
        console.log(JSON.stringify(Array.from((await zarr.get(a)).data)));
      });`], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(got.stdout), Array.from({ length: 96 }, (_, i) => i * 60));
    assert.deepEqual(decodedLikeXarray(days, stores), { v2: { ok: true, differences: [] }, v3: { ok: true, differences: [] } });
  });

  test("monthly noleap files with per-file epochs: time and time_bnds in the first file's units", async () => {
    const months = files("monthly");
    const stores = { v2: join(tmp.dir, "monthly.v2.zarr"), v3: join(tmp.dir, "monthly.v3.zarr") };
    for (const v of [2, 3] as const) {
      await convert(months, { out: stores[`v${v}`], zarrFormat: v });
      await verify(months, stores[`v${v}`]);
      assert.deepEqual(attrs(stores[`v${v}`], "time", v)["units"], "days since 1998-01-16");
    }
    const values = spawnSync(PYTHON, ["-c", "import zarr, sys, json; g = zarr.open_group(sys.argv[1], 'r'); print(json.dumps([g['time'][:].tolist(), g['time_bnds'][:].tolist()]))", stores.v2], { encoding: "utf8" });
    // noleap: Jan 16 + 31 = Feb 16, + 28 = Mar 16, + 31 = Apr 16; bounds are each month's first and last day + 1.
    assert.deepEqual(JSON.parse(values.stdout), [[0, 31, 59, 90], [[-15, 16], [16, 44], [44, 75], [75, 105]]]);
    assert.deepEqual(decodedLikeXarray(months, stores), { v2: { ok: true, differences: [] }, v3: { ok: true, differences: [] } });
  });

  test("an append of files with their own units continues in the store's units", async () => {
    const days = files("merra");
    const stores = { v2: join(tmp.dir, "append.v2.zarr"), v3: join(tmp.dir, "append.v3.zarr") };
    for (const v of [2, 3] as const) {
      // time=36: day 2 ends inside a chunk row, which the append rewrites from the store.
      await convert(days.slice(0, 2), { out: stores[`v${v}`], zarrFormat: v, chunks: { time: 36 } });
      await convert(days.slice(2), { out: stores[`v${v}`], append: true });
      await verify(days, stores[`v${v}`]);
      assert.equal(attrs(stores[`v${v}`], "time", v)["units"], "minutes since 2021-01-01 00:30:00");
    }
    assert.deepEqual(decodedLikeXarray(days, stores), { v2: { ok: true, differences: [] }, v3: { ok: true, differences: [] } });
  });

  test("--time-units: whole minutes as hours need float64 (exact halves); days of 1/48 have no exact encoding", async () => {
    const days = files("merra");
    const out = join(tmp.dir, "hours.v3.zarr");
    await convert(days, { out, zarrFormat: 3, timeUnits: "hours since 2021-01-01 00:00:00" });
    assert.equal(meta(out, "time", 3)["data_type"], "float64");
    await verify(days, out);
    assert.deepEqual(decodedLikeXarray(days, { v3: out }).v3, { ok: true, differences: [] });
    await assert.rejects(convert(days, { out: join(tmp.dir, "days.zarr"), timeUnits: "days since 2021-01-01" }), (e) =>
      isConvertError(e, "Mismatch") && /variable \/time: the times of .*20210104\.nc4 and .*20210101\.nc4 have no exact common encoding/.test(e.message));
  });

  test("files in different calendars are refused in one line naming both, leaving nothing behind", () => {
    const [a, b] = files("calendars");
    const out = join(tmp.dir, "calendars.zarr");
    const r = cli(["convert", a!, b!, "-o", out]);
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr.trim().split("\n"), [`convert-to-zarr: ${b}: does not match ${a}: variable /time has calendar 360_day, expected noleap (files in different calendars cannot share one time axis)`]);
    assert.equal(existsSync(out), false);
  });
  test("files packed differently: refused in one line by default, naming the file, the attribute and both values", () => {
    const [a, b] = files("packing");
    const out = join(tmp.dir, "packed.zarr");
    const r = cli(["convert", a!, b!, "-o", out]);
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr.trim().split("\n"), [`convert-to-zarr: ${b}: does not match ${a}: variable /t2m attribute scale_factor is [0.0017], expected [0.0015] (--unpack stores such variables unpacked)`]);
    assert.equal(existsSync(out), false);
  });

  test("--unpack stores the floats xarray decodes (float32 where CF says so), masks as NaN; an append unpacks alike", async () => {
    const days = files("packing");
    const stores = { v2: join(tmp.dir, "unpacked.v2.zarr"), v3: join(tmp.dir, "unpacked.v3.zarr") };
    for (const v of [2, 3] as const) {
      await convert(days.slice(0, 1), { out: stores[`v${v}`], zarrFormat: v, unpack: true });
      await convert(days.slice(1), { out: stores[`v${v}`], append: true });
      const r = await verify(days, stores[`v${v}`]);
      assert.deepEqual([r.arrays, r.values], [4, 4 + 24 + 24 + 24]);
    }
    assert.deepEqual([meta(stores.v3, "t2m", 3)["data_type"], meta(stores.v3, "sst", 3)["data_type"], meta(stores.v3, "tcc", 3)["data_type"]], ["float64", "float32", "float32"]);
    assert.deepEqual(attrs(stores.v3, "t2m", 3), { units: "K", _FillValue: "AAAAAAAA+H8=" }, "packing attributes gone, NaN is the fill");
    assert.deepEqual([meta(stores.v2, "t2m", 2)["dtype"], meta(stores.v2, "t2m", 2)["fill_value"]], ["<f8", "NaN"]);
    const masked = spawnSync(PYTHON, ["-c", "import zarr, sys, json, math; a = zarr.open_group(sys.argv[1], 'r')['t2m'][:]; print(json.dumps([int(math.isnan(x)) for x in a[:, 0, :].ravel()]))", stores.v2], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(masked.stdout), [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], "each day's missing value");
    assert.deepEqual(decodedLikeXarray(days, stores), { v2: { ok: true, differences: [] }, v3: { ok: true, differences: [] } });
  });

  test("--unpack of an unsigned byte packed differently per file (NetCDF-4 uint8)", async () => {
    const days = files("packing4");
    const stores = { v2: join(tmp.dir, "unpacked4.v2.zarr"), v3: join(tmp.dir, "unpacked4.v3.zarr") };
    for (const v of [2, 3] as const) {
      await convert(days, { out: stores[`v${v}`], zarrFormat: v, unpack: true });
      const r = await verify(days, stores[`v${v}`]);
      assert.deepEqual([r.arrays, r.values], [2, 4 + 12]);
    }
    assert.equal(meta(stores.v3, "tcc", 3)["data_type"], "float32");
    assert.deepEqual(decodedLikeXarray(days, stores), { v2: { ok: true, differences: [] }, v3: { ok: true, differences: [] } });
  });
});
