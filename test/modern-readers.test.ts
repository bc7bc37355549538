/**
 * Each cause that kept today's readers (xarray 2026.9 + zarr-python 3) from reading our stores
 * exactly, on small files made for it (test/py/make_fixtures.py) and the corpus files that had it:
 * the metadata documents we write, the values xarray returns, and compare_modern.py's three views.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { convert } from "../lib/convert.js";
import { isConvertError } from "../lib/errors.js";
import { verify } from "../lib/verify.js";
import { parseJson } from "../lib/zarr/json.js";
import type { ModernOutcome } from "../tools/conformance.js";
import { CORPUS, CORPUS_MISSING, MODERN_PYTHON, MODERN_PYTHON_MISSING, PYTHON, PYTHON_MISSING, modernPython, requireModernPython, tempDir } from "./helpers.js";

const FIXTURES = ["modern_types.nc", "scalars.nc", "be_enum_attr.nc", "zero_records_tail.nc", "zero_records_tail_cdf5.nc", "zero_records_unpadded.nc", "hardlink_root.nc", "reserved_attrs.nc"];
const CORPUS_FILES = ["eraint_uvz.nc", "scipy_example_3_maskedvals.nc", "amber_model1_md2.nc"];

describe("stores today's readers read exactly", { skip: CORPUS_MISSING || PYTHON_MISSING || MODERN_PYTHON_MISSING }, () => {
  const tmp = tempDir("modern");
  const src = (f: string) => (FIXTURES.includes(f) || ["reserved_attrs_nc3.nc", "compound_attr.nc"].includes(f) ? join(tmp.dir, f) : join(CORPUS, f));
  const store = (f: string, v: 2 | 3) => join(tmp.dir, `${f}.v${v}.zarr`);
  // (parseJson: zarr.json may hold bare NaN attributes, as zarr-python writes them)
  const doc = (f: string, v: 2 | 3, path: string) => parseJson(readFileSync(join(store(f, v), path), "utf8")) as Record<string, unknown>;
  const modern = new Map<string, { v2: ModernOutcome; v3: ModernOutcome }>();

  before(async () => {
    const r = spawnSync(PYTHON, [join(import.meta.dirname, "../../test/py/make_fixtures.py"), tmp.dir], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const files = [...FIXTURES, ...CORPUS_FILES];
    for (const f of files) {
      for (const v of [2, 3] as const) {
        await convert([src(f)], { out: store(f, v), zarrFormat: v });
        await verify([src(f)], store(f, v));
      }
    }
    const jobs = files.map((f) => ({ sources: [src(f)], stores: { v2: store(f, 2), v3: store(f, 3) } }));
    const results = modernPython("compare_modern.py", ["--jobs"], JSON.stringify(jobs)) as { v2: ModernOutcome; v3: ModernOutcome }[];
    files.forEach((f, i) => modern.set(f, results[i]!));
  });
  after(() => tmp.cleanup());

  /** Runs a short script with today's Python stack; returns its JSON answer. */
  const xarray = (code: string, ...args: string[]): unknown => {
    requireModernPython();
    const r = spawnSync(MODERN_PYTHON, ["-c", `import json, sys, warnings\nwarnings.simplefilter("ignore")\nimport xarray as xr, numpy as np\n${code}`, ...args], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as unknown;
  };

  test("every file: raw view, decoded view and every array equal to the source, in v3 and v2", () => {
    for (const [f, m] of modern) {
      for (const fmt of ["v3", "v2"] as const) {
        const views = m[fmt];
        assert.deepEqual([views.raw, views.decoded, views.zarr.ok].map((x) => (typeof x === "boolean" ? x : x.differences)), [[], [], true], `${f} ${fmt}`);
      }
    }
  });

  test("NC_CHAR in v3: one-byte null_terminated_bytes with the char dimension, bytes that are not UTF-8 kept", () => {
    const code = doc("modern_types.nc", 3, "code/zarr.json");
    assert.deepEqual(
      [code["data_type"], code["shape"], code["dimension_names"], code["fill_value"], (code["codecs"] as unknown[])[0], code["attributes"]],
      [{ name: "null_terminated_bytes", configuration: { length_bytes: 1 } }, [3, 2], ["x", "nchar"], Buffer.from("-").toString("base64"), { name: "bytes" }, {}],
    );
    const got = xarray("d = xr.open_zarr(sys.argv[1], decode_cf=False)\nv = d['code']\nprint(json.dumps([str(v.dtype), list(v.dims), v.values.tobytes().hex()]))", store("modern_types.nc", 3));
    assert.deepEqual(got, ["|S1", ["x", "nchar"], Buffer.from("ab\0\0\xe9z", "latin1").toString("hex")]);
    // Decoded, xarray joins the char dimension as it does from the NetCDF file.
    const joined = xarray("d = xr.open_zarr(sys.argv[1])\nprint(json.dumps([str(d['code'].dtype), list(d['code'].dims)]))", store("modern_types.nc", 3));
    assert.deepEqual(joined, ["|S2", ["x"]]);
  });

  test("a scalar char stored contiguously converts (no hyperslab on a scalar dataspace)", () => {
    const meta = doc("modern_types.nc", 3, "scalar_char/zarr.json");
    assert.deepEqual(meta["shape"], []);
    assert.deepEqual(xarray("print(json.dumps(xr.open_zarr(sys.argv[1], decode_cf=False)['scalar_char'].values.tobytes().decode()))", store("modern_types.nc", 3)), "*");
  });

  test("scalars of every type and storage, with NaN, Infinity, 64-bit and text fill values", () => {
    const scalars = doc("scalars.nc", 3, "zarr.json") as { consolidated_metadata: { metadata: Record<string, { shape: number[]; fill_value: unknown; attributes: Record<string, unknown> }> } };
    const md = scalars.consolidated_metadata.metadata;
    assert.equal(Object.keys(md).length, 21);
    for (const k of ["b", "c", "str", "p", "e", "fnan", "q2"]) assert.deepEqual(md[k]!.shape, [], k);
    assert.deepEqual([md["fnan"]!.fill_value, md["fnan"]!.attributes["_FillValue"]], ["NaN", "AAAAAAAA+H8="]);
    assert.deepEqual([md["finf"]!.fill_value, md["finf"]!.attributes["_FillValue"]], ["Infinity", "AAAAAAAA8H8="]);
    const got = xarray("d = xr.open_zarr(sys.argv[1], decode_cf=False)\nprint(json.dumps([str(d['q2'].values), str(d['uq'].values), d['p'].values['d'].item(), d['c'].values.item().decode()]))", store("scalars.nc", 3));
    assert.deepEqual(got, ["-9223372036854775807", "18446744073709551615", 8.5, "z"]);
  });

  test("text fills: in v3 the fill_value carries them (xarray cannot decode the attribute there); v2 as before", () => {
    const label = doc("modern_types.nc", 3, "label/zarr.json");
    assert.deepEqual([label["data_type"], label["fill_value"], "_FillValue" in (label["attributes"] as object)], ["string", "NA", false]);
    const v2code = doc("modern_types.nc", 2, "code/.zarray");
    assert.deepEqual([v2code["dtype"], v2code["fill_value"]], ["|S1", Buffer.from("-").toString("base64")]);
    const masked = xarray("d = xr.open_zarr(sys.argv[1])\nprint(json.dumps([None if isinstance(x, float) else x.decode() for x in d['var6_char'].values]))", store("scipy_example_3_maskedvals.nc", 2));
    assert.deepEqual(masked, ["a", null, "c"], "v2: xarray masks the char fill, as from the NetCDF file");
  });

  test("a NaN _FillValue on int16: v3 leaves the attribute out (xarray drops it too), v2 keeps it", () => {
    const z3 = doc("eraint_uvz.nc", 3, "z/zarr.json");
    assert.equal("_FillValue" in (z3["attributes"] as object), false);
    assert.equal(z3["fill_value"], 0);
    const z2 = readFileSync(join(store("eraint_uvz.nc", 2), "z/.zattrs"), "utf8");
    assert.match(z2, /"_FillValue": NaN/);
    const decoded = xarray("d = xr.open_zarr(sys.argv[1])\nz = d['z']\nprint(json.dumps([str(z.dtype), float(z[0, 0, 0, 0])]))", store("eraint_uvz.nc", 3));
    assert.deepEqual(decoded, ["float64", 106837.51210858817]);
  });

  test("enums: the base integers with the fill, their names in metadata readers may ignore", () => {
    const cloud = doc("modern_types.nc", 3, "cloud/zarr.json");
    const names = { name: "cloud_t", path: "/cloud_t", base: "uint8", members: { Clear: 0, Cumulonimbus: 1, Stratus: 2, Missing: 255 } };
    assert.deepEqual([cloud["data_type"], cloud["fill_value"], cloud["attributes"], cloud["netcdf_enum"]],
      ["uint8", 255, { long_name: "cloud type", _FillValue: 255 }, { must_understand: false, ...names }]);
    assert.deepEqual(doc("modern_types.nc", 2, "cloud/.zarray")["netcdf_enum"], names);
    assert.deepEqual(doc("modern_types.nc", 3, "level/zarr.json")["netcdf_enum"],
      { must_understand: false, name: "level_t", path: "/level_t", base: "int16", members: { low: -5, mid: 0, high: 300 } });
    const got = xarray("d = xr.open_zarr(sys.argv[1])\nc = d['cloud'].values\nprint(json.dumps([str(c.dtype), [None if x != x else x for x in c.ravel().tolist()]]))", store("modern_types.nc", 3));
    assert.deepEqual(got, ["float32", [0, 1, 2, null, 1, 0]], "decoded as from the NetCDF file: Missing masked");
  });

  test("a 1-D char over its own dimension stays an array (xarray could not open the v3 store)", () => {
    const cell = doc("amber_model1_md2.nc", 3, "cell_spatial/zarr.json");
    assert.deepEqual([cell["shape"], cell["dimension_names"]], [[3], ["cell_spatial"]]);
  });

  test("NetCDF-3 with zero records whose record variables start past the end of the file", () => {
    for (const f of ["zero_records_tail.nc", "zero_records_tail_cdf5.nc"]) {
      assert.deepEqual(doc(f, 3, "obs/zarr.json")["shape"], [0, 3], f);
    }
  });

  test("attribute names netCDF-C hides in NetCDF-4 are hidden; NetCDF-3 reserves none, v2 refuses the one it cannot hold", async () => {
    const s = doc("reserved_attrs.nc", 3, "s/zarr.json")["attributes"] as Record<string, unknown>;
    for (const hidden of ["CLASS", "NAME", "_Format", "_Codecs", "_ARRAY_DIMENSIONS", "_Netcdf4Dimid"]) assert.equal(hidden in s, false, hidden);
    assert.equal(s["_Storage"], "user _Storage", "names netCDF-C shows stay");
    await assert.rejects(convert([src("reserved_attrs_nc3.nc")], { out: join(tmp.dir, "nc3.v2.zarr"), zarrFormat: 2 }), (e) =>
      isConvertError(e, "Unsupported") && /variable \/v has an attribute named _ARRAY_DIMENSIONS, which Zarr v2 reserves/.test(e.message));
    await convert([src("reserved_attrs_nc3.nc")], { out: join(tmp.dir, "nc3.v3.zarr"), zarrFormat: 3 });
    const v = JSON.parse(readFileSync(join(tmp.dir, "nc3.v3.zarr", "v/zarr.json"), "utf8")) as { attributes: Record<string, unknown> };
    assert.equal(v.attributes["_ARRAY_DIMENSIONS"], "user _ARRAY_DIMENSIONS");
    assert.equal(v.attributes["CLASS"], "user CLASS");
  });

  test("NaN and ±Infinity attributes are bare tokens, as zarr-python writes them, so xarray reads floats", () => {
    const root = readFileSync(join(store("modern_types.nc", 3), "zarr.json"), "utf8");
    assert.match(root, /"not_a_number": NaN/);
    assert.match(root, /"infinities": \[\s*Infinity,\s*-Infinity\s*\]/);
    const got = xarray("d = xr.open_zarr(sys.argv[1], decode_cf=False)\nprint(json.dumps([repr(d.attrs['not_a_number']), repr(d.attrs['infinities']), repr(d['label'].attrs['valid_note'])]))", store("modern_types.nc", 3));
    assert.deepEqual(got, ["nan", "[inf, -inf]", "nan"]);
  });

  test("a big-endian enum attribute HDF5 cannot convert is left out, as netCDF-C does; a compound attribute is refused by name", async () => {
    const root = doc("be_enum_attr.nc", 3, "zarr.json") as { attributes: Record<string, unknown> };
    assert.deepEqual(root.attributes, { kept: "yes" });
    await assert.rejects(convert([src("compound_attr.nc")], { out: join(tmp.dir, "ca.zarr") }), (e) =>
      isConvertError(e, "Unsupported") && /variable \/v has an unsupported compound type in attribute phase \(use --skip-unsupported/.test(e.message));
    const s = await convert([src("compound_attr.nc")], { out: join(tmp.dir, "ca.zarr"), skipUnsupported: true });
    assert.deepEqual(s.skipped.map((x) => x.path), ["/v"]);
  });

  test("a variable reached through a hard link is listed at each of its paths, as netCDF-C does", () => {
    const root = doc("hardlink_root.nc", 3, "zarr.json") as { consolidated_metadata: { metadata: Record<string, unknown> } };
    assert.ok("var" in root.consolidated_metadata.metadata && "g/alias" in root.consolidated_metadata.metadata);
  });
});
