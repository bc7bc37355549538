/**
 * Every file of the shared corpus: converts whole to Zarr v3 and v2 with `verify` passing; today's
 * readers (xarray 2026.9 + zarr-python 3 from the project's venv) read every store back equal to
 * xarray + netCDF4's reading of the source — raw view, CF-decoded view, and zarr's own view of every
 * array; Debian's xarray 2023 + zarr 2.13 reads the v2 store equal too; every store passes the
 * spec-level checks. Needs ../shared/data/netcdf, the venv and Debian's python3-xarray (under CI a
 * missing one fails the run).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { conformanceMarkdown, corpusFiles, passes, runConformance, type FileOutcome } from "../tools/conformance.js";
import { CORPUS_MISSING, MODERN_PYTHON_MISSING, PYTHON_MISSING, ROOT, requireCorpus, tempDir } from "./helpers.js";
import { specProblems } from "./spec-check.js";

/** Files Debian's xarray 2023 cannot open (so there is nothing to compare against there). */
const OLD_XARRAY_CANNOT_OPEN = new Map([["amber_model1_md2.nc", /MissingDimensionsError: 'cell_angular' has more than 1-dimension/]]);

/**
 * The only things today's readers may not see exactly, each from a cause no store can change: what
 * xarray 2026.9 cannot read from any v3 store (a text or structured _FillValue attribute, a fill that
 * is no value of its integer type), JSON attributes without a dtype (packed float32 decodes to
 * float64), xarray reading NetCDF-4 strings as <U from netCDF4 but StringDType from Zarr, and a time
 * axis neither side decodes.
 */
const ALLOWED_NOTES = [
  /keeps its text _FillValue .* in the v3 fill_value \(xarray cannot decode it as an attribute\); compared unmasked$/,
  /keeps its compound _FillValue as the array's fill_value, not an attribute$/,
  /xarray decodes neither the source nor the store \(TypeError: unhashable type: 'writeable void-scalar'\); not compared$/,
  /xarray decodes the store but not the source's compound _FillValue \(.*void-scalar.*\); not compared$/,
  /has a _FillValue .* that is no u?int\d+ value; xarray's CF decoding drops it and cannot read it from Zarr v3, so it is not stored$/,
  /is float32 from the source, float64 from the store \(packing attributes without a dtype\); values equal to the source decoded in float64$/,
  /is text read as (<U\d+|object) from the source, StringDType\(\) from the store; values compared as text$/,
  /xarray decodes neither the source nor the store with its defaults \(ValueError: unable to decode time units/,
  /xarray's Zarr backend hides (group attributes|the attributes) named _nc\*/,
];

describe("corpus conformance", { skip: CORPUS_MISSING || PYTHON_MISSING || MODERN_PYTHON_MISSING }, () => {
  const tmp = tempDir("conformance");
  let outcomes: FileOutcome[] = [];
  before(async () => {
    requireCorpus();
    outcomes = await runConformance(tmp.dir);
  });
  after(() => tmp.cleanup());

  test("the corpus is all there (52 files)", () => {
    assert.equal(corpusFiles().length, 52);
    assert.equal(outcomes.length, 52);
  });

  for (const fmt of ["v3", "v2"] as const) {
    test(`every file converts whole to Zarr ${fmt} and verifies`, () => {
      const failed = outcomes.filter((o) => !o[fmt].ok || o[fmt].skipped?.length).map((o) => `${o.file}: ${o[fmt].error ?? `skipped ${o[fmt].skipped!.join(", ")}`}`);
      assert.deepEqual(failed, []);
      // Real content went through: the big files carry hundreds of thousands of values.
      const eraint = outcomes.find((o) => o.file === "eraint_uvz.nc")!;
      assert.equal(eraint[fmt].arrays, 7);
      assert.equal(eraint[fmt].values, 2082966);
    });

    test(`xarray 2026 + zarr-python 3 read every ${fmt} store exactly: raw, decoded and every array`, () => {
      const failed = outcomes.filter((o) => !passes(o, fmt)).map((o) => ({ file: o.file, modern: o.modern }));
      assert.deepEqual(failed, []);
      assert.equal(outcomes.filter((o) => passes(o, fmt)).length, 52);
      const arrays = outcomes.reduce((n, o) => n + (o.modern![fmt]!.zarr.arrays ?? 0), 0);
      assert.equal(arrays, outcomes.reduce((n, o) => n + o[fmt].arrays!, 0), "zarr.open_group read every array verify read");
    });
  }

  test("what today's readers cannot show is only what no store can carry", () => {
    const unexpected = outcomes.flatMap((o) => (["v3", "v2"] as const).flatMap((fmt) =>
      (o.modern?.[fmt]?.notes ?? []).filter((n) => !ALLOWED_NOTES.some((re) => re.test(n))).map((n) => `${o.file} ${fmt}: ${n}`)));
    assert.deepEqual(unexpected, []);
    const notesOf = (file: string, fmt: "v2" | "v3") => outcomes.find((o) => o.file === file)!.modern![fmt]!.notes;
    // The v3-only ones stay v3-only: v2 carries these fills, and xarray reads them there.
    assert.ok(notesOf("eraint_uvz.nc", "v3").some((n) => /^raw: z has a _FillValue/.test(n)));
    assert.deepEqual(notesOf("eraint_uvz.nc", "v2"), []);
    assert.deepEqual(notesOf("scipy_example_3_maskedvals.nc", "v2"), []);
  });

  test("Debian's xarray 2023 + zarr 2.13 reads every v2 store equal to the source (decode_cf=False)", () => {
    for (const o of outcomes) {
      const expected = OLD_XARRAY_CANNOT_OPEN.get(o.file);
      if (expected) {
        assert.match(o.xarray?.sourceUnreadable ?? "", expected, o.file);
        continue;
      }
      assert.deepEqual({ file: o.file, ...o.xarray }, { file: o.file, ok: true, groups: o.xarray?.groups, variables: o.xarray?.variables, differences: [] });
    }
    const groups = outcomes.find((o) => o.file === "lateral_search_example.nc")!.xarray!;
    assert.equal(groups.groups, 4, "nested groups are compared group by group");
  });

  test("every store passes the spec-level metadata checks", async () => {
    for (const o of outcomes) {
      for (const f of [o.v2, o.v3]) {
        if (f.ok) assert.deepEqual(await specProblems(f.store!), [], `${f.store}`);
      }
    }
  });

  test("docs/CONFORMANCE.md is the table of these outcomes", () => {
    const doc = readFileSync(join(ROOT, "docs/CONFORMANCE.md"), "utf8");
    assert.equal(doc, conformanceMarkdown(outcomes));
  });
});
