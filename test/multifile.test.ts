/**
 * A daily NetCDF-4 archive (tools/make_daily_archive.py) converts to one store equal to the
 * concatenation, whatever order the files are given in and however target chunks straddle files;
 * collections whose files disagree are refused with a line naming the file and the difference.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import * as zarr from "zarrita";
import { convert } from "../lib/convert.js";
import { FsStore } from "../lib/store/fs.js";
import { verify } from "../lib/verify.js";
import { PYTHON_MISSING, cli, dailyArchive, python, tempDir } from "./helpers.js";
import { specProblems } from "./spec-check.js";

const GRID = ["--nlat", "19", "--nlon", "24"];

describe("multi-file collections", { skip: PYTHON_MISSING }, () => {
  const tmp = tempDir("multifile");
  let days: string[] = [];
  const archive = (name: string, ...args: string[]) => dailyArchive(join(tmp.dir, name), [...GRID, ...args]);
  before(() => {
    days = archive("days", "--days", "6");
  });
  after(() => tmp.cleanup());

  test("the generator writes one NetCDF-4 file per day", () => {
    assert.equal(days.length, 6);
    assert.match(days[0]!, /power_901_hourly_20210101_merra2_utc\.nc$/);
  });

  for (const [label, chunks] of [["automatic chunks", undefined], ["chunks straddling files (time=40)", { time: 40, lat: 7 }]] as const) {
    test(`shuffled files → one v2 store equal to the concatenation, ${label}`, async () => {
      const out = join(tmp.dir, `v2-${label.length}.zarr`);
      const shuffled = [days[3]!, days[0]!, days[5]!, days[1]!, days[4]!, days[2]!];
      const s = await convert(shuffled, { out, zarrFormat: 2, ...(chunks && { chunks }) });
      assert.equal(s.concatDim, "time");
      assert.deepEqual(s.inputs, days, "files are ordered by their time values");
      const t2m = s.arrays.find((a) => a.path === "/T2M")!;
      assert.deepEqual(t2m.shape, [144, 19, 24]);
      assert.deepEqual(t2m.chunks, chunks ? [40, 7, 24] : [144, 19, 24], "small arrays grow to one chunk (≤ 8 MiB)");
      const r = await verify(days, out);
      assert.equal(r.arrays, 5);
      assert.equal(r.values, 144 * 19 * 24 * 2 + 144 + 19 + 24);
      assert.deepEqual(await specProblems(out), []);
      const [x] = python("compare_xarray.py", [out, ...days, "--concat-dim", "time"]) as { ok: boolean; differences: string[] }[];
      assert.deepEqual(x, { ok: true, groups: 1, variables: 5, differences: [] });
      // The concatenated time axis is continuous: hours 0 … 143.
      const arr = await zarr.open.v2(zarr.root(new FsStore(out)).resolve("time"), { kind: "array" });
      const time = (await zarr.get(arr)).data as Float64Array;
      assert.deepEqual(Array.from(time), Array.from({ length: 144 }, (_, i) => i));
    });
  }

  test("the same collection as Zarr v3 verifies; the summary counts every chunk byte on disk", async () => {
    const out = join(tmp.dir, "v3.zarr");
    const s = await convert(days, { out, chunks: { time: 48 }, codec: "gzip" });
    let onDisk = 0, files = 0;
    for await (const key of new FsStore(out).list("/")) {
      if (key.endsWith("zarr.json")) continue;
      onDisk += statSync(join(out, key)).size;
      files++;
    }
    assert.equal(files, s.arrays.reduce((a, x) => a + x.chunksWritten, 0));
    assert.equal(s.bytesWritten, onDisk);
    assert.equal(s.bytesWritten, s.arrays.reduce((a, x) => a + x.bytesWritten, 0));
    const r = await verify(days, out);
    assert.equal(r.zarrFormat, 3);
    assert.deepEqual(await specProblems(out), []);
  });

  const refused = (args: string[], pattern: RegExp) => {
    const out = join(tmp.dir, `refused-${Math.random().toString(36).slice(2)}.zarr`);
    const r = cli(["convert", ...args, "-o", out]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(existsSync(join(out, "zarr.json")), false, "no store that looks complete");
  };

  test("a file on another grid is refused, naming it and the coordinate", () => {
    const other = archive("shifted", "--days", "1", "--start", "2021-01-07", "--lat0", "-89", "--units", "hours since 2021-01-01 00:00:00");
    refused([...days, ...other], new RegExp(`convert-to-zarr: ${other[0]}: does not match .*: coordinate /lat has different values`));
  });

  test("overlapping time coordinates are refused", () => {
    const overlap = archive("overlap", "--days", "1", "--start", "2021-01-03", "--units", "hours since 2021-01-01 00:00:00");
    refused([...days, ...overlap], /coordinate time overlaps .*\(48 ≤ 71\)/);
  });

  test("a file without a variable the others have is refused", () => {
    const missing = archive("missing", "--days", "1", "--start", "2021-01-07", "--units", "hours since 2021-01-01 00:00:00", "--omit", "QV2M");
    refused([...days, ...missing], /: does not match .*: variable QV2M is missing$/m);
  });

  test("a file whose time units differ is re-expressed in the first file's units, not misread", async () => {
    const units = archive("units", "--days", "1", "--start", "2021-01-07");
    const out = join(tmp.dir, "units.zarr");
    await convert([...days, ...units], { out });
    await verify([...days, ...units], out);
    const time = JSON.parse(readFileSync(join(out, "time/zarr.json"), "utf8")) as { attributes: { units: string } };
    assert.equal(time.attributes.units, "hours since 2021-01-01 00:00:00");
  });

  test("a --concat-dim the files do not have is refused", () => {
    const r = cli(["inspect", days[0]!, days[1]!, "--concat-dim", "nope"]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `convert-to-zarr: ${days[0]}: has no dimension nope to concatenate along\n`);
  });
});
