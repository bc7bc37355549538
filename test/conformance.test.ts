/**
 * Every file of the shared corpus: converts to Zarr v2 and v3 with `verify` passing, the v2 store
 * equals xarray's reading of the source, every store passes spec-level checks — or the file is
 * refused with the expected one-line reason. Needs ../shared/data/netcdf and Debian's python3-xarray.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { conformanceMarkdown, corpusFiles, runConformance, type FileOutcome } from "../tools/conformance.js";
import { convert } from "../lib/convert.js";
import { isConvertError } from "../lib/errors.js";
import { CORPUS, CORPUS_MISSING, PYTHON_MISSING, ROOT, tempDir } from "./helpers.js";
import { specProblems } from "./spec-check.js";

/** Files whose v3 conversion is refused: NC_CHAR bytes that are not UTF-8 (charv holds 0x80-0xff). */
const V3_REFUSED = new Set(["nctest_netcdf4_classic.nc", "ref_nctest_64bit_offset.nc", "ref_nctest_classic.nc"]);
/** Files xarray itself cannot open (so there is nothing to compare against). */
const XARRAY_CANNOT_OPEN = new Map([["amber_model1_md2.nc", /MissingDimensionsError: 'cell_angular' has more than 1-dimension/]]);

describe("corpus conformance", { skip: CORPUS_MISSING || PYTHON_MISSING }, () => {
  const tmp = tempDir("conformance");
  let outcomes: FileOutcome[] = [];
  before(async () => {
    outcomes = await runConformance(tmp.dir);
  });
  after(() => tmp.cleanup());

  test("the corpus is all there (52 files)", () => {
    assert.equal(corpusFiles().length, 52);
    assert.equal(outcomes.length, 52);
  });

  test("every file converts to Zarr v2 and verifies", () => {
    const failed = outcomes.filter((o) => !o.v2.ok).map((o) => `${o.file}: ${o.v2.error}`);
    assert.deepEqual(failed, []);
    // Real content went through: the big files carry hundreds of thousands of values.
    const eraint = outcomes.find((o) => o.file === "eraint_uvz.nc")!;
    assert.equal(eraint.v2.arrays, 7);
    assert.equal(eraint.v2.values, 2082966);
  });

  test("every file converts to Zarr v3 and verifies, except non-UTF-8 char data, refused by name", () => {
    for (const o of outcomes) {
      if (V3_REFUSED.has(o.file)) {
        assert.equal(o.v3.ok, false, o.file);
        assert.match(o.v3.error!, /^task \d+ \(\/charv\[[0-9:, ]+\]\) failed: variable \/charv: char data is not valid UTF-8/);
      } else {
        assert.equal(o.v3.ok, true, `${o.file}: ${o.v3.error}`);
        assert.equal(o.v3.arrays, o.v2.arrays, o.file);
      }
    }
  });

  test("Debian's xarray reads every v2 store equal to the source (decode_cf=False)", () => {
    for (const o of outcomes) {
      const expected = XARRAY_CANNOT_OPEN.get(o.file);
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

  test("an unsupported compound variable is refused by name without --skip-unsupported", async () => {
    const out = join(tmp.dir, "compound.zarr");
    await assert.rejects(convert([join(CORPUS, "ref_tst_compounds.nc")], { out }), (e) =>
      isConvertError(e, "Unsupported") && /variable \/obs has an unsupported compound type \(use --skip-unsupported/.test(e.message));
    const skipped = outcomes.find((o) => o.file === "ref_tst_compounds.nc")!;
    assert.deepEqual(skipped.v2.skipped, ["/obs"]);
  });

  test("docs/CONFORMANCE.md is the table of these outcomes", () => {
    const doc = readFileSync(join(ROOT, "docs/CONFORMANCE.md"), "utf8");
    assert.equal(doc, conformanceMarkdown(outcomes));
  });
});
