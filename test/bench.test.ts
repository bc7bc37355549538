/**
 * The latency benchmark's parts: coordinates and CF times, statistics and the storage lower bound,
 * queries returning the same values from NetCDF and Zarr (raw and CF-decoded, fill values and packed
 * data included), the bench CLI (local and under the S3 profile), the chunk sweep and the charts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isoTime, nearestIndex, parseTimeUnits, rangeIndices, timeValue } from "../lib/bench/coords.js";
import { decodeCF, decodedBytes, firstDifference, runQuery, type QueryKind, type QuerySpec } from "../lib/bench/queries.js";
import { openNetcdfDataset, openZarrDataset } from "../lib/bench/readers.js";
import { runBench } from "../lib/bench/run.js";
import { lowerBoundFromSpans, lowerBoundMs, stats } from "../lib/bench/stats.js";
import { chunkSweep } from "../lib/bench/sweep.js";
import { convert } from "../lib/convert.js";
import { latencyChart, sweepChart, timeSeriesChart } from "../lib/notebook/charts.js";
import { PROFILES } from "../lib/s3local/proxy.js";
import { CORPUS, CORPUS_MISSING, PYTHON_MISSING, cli, dailyArchive, tempDir } from "./helpers.js";
import { BUCKET, startTestS3, type TestS3 } from "./s3-helpers.js";

describe("coordinates, times, statistics, bounds", () => {
  test("nearest and range selection on ascending and descending coordinates", () => {
    assert.equal(nearestIndex([-90, -88, -86], -87.1), 1);
    assert.equal(nearestIndex([90, 88, 86], 86.9), 2);
    assert.equal(nearestIndex([0, 1, 2], 0.5), 0, "ties: the first");
    assert.deepEqual(rangeIndices([0, 1, 2, 3, 4], 1, 3), [1, 3]);
    assert.deepEqual(rangeIndices([4, 3, 2, 1, 0], 3, 1), [1, 3]);
    assert.deepEqual(rangeIndices([0, 1, 2], 5, 6), [0, 0]);
  });

  test("CF time units: parsed for the standard calendars, dates both ways", () => {
    const u = parseTimeUnits("hours since 2021-01-01 00:00:00")!;
    assert.deepEqual(u, { unitMs: 3_600_000, epochMs: Date.UTC(2021, 0, 1) });
    assert.equal(timeValue("2021-01-02T06:00:00Z", u, "t"), 30);
    assert.equal(timeValue("2021-01-02T06:00:00", u, "t"), 30, "no zone: UTC, as CF times are");
    assert.equal(timeValue(12, u, "t"), 12);
    assert.equal(isoTime(30, u), "2021-01-02T06:00:00Z");
    assert.deepEqual(parseTimeUnits("days since 1978-1-1"), { unitMs: 86_400_000, epochMs: Date.UTC(1978, 0, 1) });
    assert.equal(parseTimeUnits("seconds since 1970-01-01T00:00:00Z")!.epochMs, 0);
    assert.equal(parseTimeUnits("hours since 2000-01-01 00:00:00 +01:00")!.epochMs, Date.UTC(1999, 11, 31, 23));
    assert.equal(parseTimeUnits("days since 2000-01-01", "360_day"), undefined);
    assert.equal(parseTimeUnits("K"), undefined);
    assert.throws(() => timeValue("2021-01-01", undefined, "--time"), /--time: "2021-01-01" is a date, but the time coordinate has no standard CF units/);
  });

  test("median, p90 and the lower bound", () => {
    assert.deepEqual(stats([5, 1, 3, 2, 4]), { n: 5, medianMs: 3, p90Ms: 4.6, minMs: 1, maxMs: 5 });
    assert.equal(stats([10, 20]).medianMs, 15);
    // 10 requests x 100 ms / 1 + 85 MB / 85 MB/s
    assert.equal(lowerBoundMs({ requests: 10, bytes: 85e6 }, PROFILES.s3, 1), 1000 + 1000);
    // 16 in flight: latency / 16, and bytes over min(16, requests) connections
    assert.equal(lowerBoundMs({ requests: 32, bytes: 85e6 }, PROFILES.s3, 16), 200 + 1000 / 16);
    assert.equal(lowerBoundMs({ requests: 500, bytes: 1e9 }, PROFILES.local, 1), 0);
    // From what a query did: three requests together (one of 85 MB), then one alone.
    const spans = [{ start: 0, end: 50, bytes: 0 }, { start: 10, end: 900, bytes: 85e6 }, { start: 20, end: 60, bytes: 0 }, { start: 950, end: 990, bytes: 1000 }];
    assert.equal(lowerBoundFromSpans(spans, PROFILES.s3), 100 + 1000 + 100 + 1000 / 85e3);
    assert.equal(lowerBoundFromSpans(spans, PROFILES.local), 0);
    assert.equal(lowerBoundFromSpans([], PROFILES.s3), 0);
  });

  test("bytes decoded: whole chunks touched; contiguous axes only the selection", () => {
    // time chunked by 24 (3 files), point query over all time: every chunk, 1 x 1 spatially contiguous
    assert.equal(decodedBytes([[24, 24, 24], null, null], [0, 5, 7], [72, 1, 1], 4), 72 * 4);
    // (1080, 90, 90)-chunked store: a point touches one chunk column
    assert.equal(decodedBytes([[1080, 336], [90, 90, 1], [90, 90, 90, 18]], [0, 40, 100], [1416, 1, 1], 4), 1416 * 90 * 90 * 4);
    assert.equal(decodedBytes([[10, 10]], [5], [10], 8), 160, "a selection across two chunks decodes both");
    assert.equal(decodedBytes([[10]], [0], [0], 8), 0);
  });

  test("CF decoding: fill and missing values to NaN, scale and offset, _Unsigned, base64 float fill values", () => {
    assert.deepEqual([...decodeCF(new Int16Array([-999, 100, 2]), { _FillValue: -999, scale_factor: 0.5, add_offset: 1 })], [NaN, 51, 2]);
    assert.deepEqual([...decodeCF(new Int8Array([-1, 1]), { _Unsigned: "true" })], [255, 1]);
    const fill = Buffer.alloc(8);
    fill.writeDoubleLE(-999);
    assert.deepEqual([...decodeCF(new Float32Array([-999, 3.5]), { _FillValue: fill.toString("base64") })], [NaN, 3.5]);
    assert.deepEqual([...decodeCF(new Float32Array([1e20, 2]), { missing_value: 1e20 })], [NaN, 2], "float32 data vs a float64 attribute");
    assert.equal(firstDifference(new Float32Array([1, NaN]), new Float32Array([1, NaN])), -1, "raw bytes: NaN equals NaN");
    assert.equal(firstDifference(new Int16Array([1, 2, 3]), new Int16Array([1, 2, 4])), 2);
  });
});

describe("queries: the same values from NetCDF and Zarr", { skip: CORPUS_MISSING || PYTHON_MISSING }, () => {
  const tmp = tempDir("bench");
  let days: string[] = [];
  before(() => {
    days = dailyArchive(join(tmp.dir, "days"), ["--days", "4", "--nlat", "19", "--nlon", "24"]);
  });
  after(() => tmp.cleanup());

  // Chunks along each dataset's own leading dimension (--chunks must name dimensions the inputs have).
  const cases: { name: string; inputs: () => string[]; specs: QuerySpec[]; chunks?: Record<string, number> }[] = [
    {
      name: "daily NetCDF-4 archive (float32 with a missing pixel; packed int16 with fill values)", inputs: () => days,
      specs: [
        { kind: "point", variable: "T2M", lat: -90, lon: -180 }, // the missing pixel: all fill values
        { kind: "point", variable: "QV2M", lat: 31, lon: 14 },
        { kind: "map", variable: "QV2M", time: "2021-01-03T05:00:00Z" },
        { kind: "box", variable: "T2M", latRange: [-30, 30], lonRange: [0, 90], timeRange: ["2021-01-02", "2021-01-03T12:00:00"] },
      ],
    },
    {
      name: "OISST (NetCDF-3, packed int16 sst with _FillValue over land)", inputs: () => [join(CORPUS, "oisst_reduced.nc")],
      specs: [{ kind: "map", variable: "sst" }, { kind: "box", variable: "sst", latRange: [-20, 20], lonRange: [100, 200] }, { kind: "point", variable: "sst", lat: 0, lon: 180 }],
    },
    {
      name: "ERA-Interim (NetCDF-4, packed int16, 4 dimensions)", inputs: () => [join(CORPUS, "eraint_uvz.nc")], chunks: { month: 1 },
      specs: [{ kind: "map", variable: "z" }, { kind: "point", variable: "u", lat: 45, lon: 10 }],
    },
  ];

  for (const c of cases) {
    for (const format of [2, 3] as const) {
      test(`${c.name}, Zarr v${format}`, async () => {
        const out = join(tmp.dir, `${c.name.slice(0, 5)}-v${format}.zarr`);
        await convert(c.inputs(), { out, zarrFormat: format, overwrite: true, chunks: c.chunks ?? { time: 30 } });
        const nc = await openNetcdfDataset(c.inputs()), zs = await openZarrDataset(out);
        try {
          for (const spec of c.specs) {
            const a = await runQuery(nc, spec), b = await runQuery(zs, spec);
            assert.equal(a.query.describe, b.query.describe);
            assert.deepEqual(a.query.start, b.query.start);
            assert.ok(a.values.length > 0);
            assert.equal(firstDifference(a.values, b.values), -1, `${spec.kind} ${spec.variable}: raw values`);
            const da = decodeCF(a.values, a.query.array.attrs), db = decodeCF(b.values, b.query.array.attrs);
            assert.deepEqual([...db], [...da], `${spec.kind} ${spec.variable}: CF-decoded values`);
            if (spec.variable === "T2M" && spec.kind === "point") assert.ok(da.every(Number.isNaN), "the missing pixel decodes to NaN");
            if (spec.variable === "sst" && spec.kind === "map") {
              assert.ok(da.some(Number.isNaN) && da.some((x) => x > 20 && x < 35), "land is NaN, tropical sea 20-35 °C");
            }
          }
        } finally {
          nc.close();
          zs.close();
        }
      });
    }
  }

  test("runBench: cold and warm stats, requests, bytes, and the values check", async () => {
    const out = join(tmp.dir, "run.zarr");
    await convert(days, { out, overwrite: true, chunks: { time: 96, lat: 10, lon: 12 } });
    const kinds: QueryKind[] = ["point", "map", "box"];
    const r = await runBench({ netcdf: days, zarr: out, queries: kinds.map((kind) => ({ kind, variable: "T2M" })), repeats: 2 });
    assert.equal(r.lines.length, 6);
    assert.equal(r.simulated, false);
    for (const l of r.lines) {
      assert.equal(l.cold.n, 2);
      assert.equal(l.warm.n, 2);
      assert.ok(l.requests > 0 && l.bytesTransferred > 0 && l.bytesDecoded > 0, JSON.stringify(l));
      assert.equal(l.lowerBoundMs, 0);
    }
    const point = r.lines.find((l) => l.source === "zarr" && l.query === "point")!;
    assert.equal(point.bytesDecoded, 96 * 10 * 12 * 4, "one chunk column");
    assert.equal(r.lines.find((l) => l.source === "netcdf" && l.query === "point")!.bytesDecoded, 96 * 19 * 24 * 4, "every daily chunk, whole");
  });

  test("the bench CLI prints the table and ratios, and JSON with the cold start; different data fail loudly", async () => {
    const out = join(tmp.dir, "cli.zarr");
    await convert(days, { out, overwrite: true, chunks: { time: 96, lat: 10, lon: 12 } });
    const r = cli(["bench", "--netcdf", ...days, "--zarr", out, "--query", "all", "--repeats", "1", "--variable", "T2M"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^profile: local; 1 cold and 1 warm runs each, medians\nquery +source +cold ms +cold p90 +warm ms +requests +transferred +decoded +bound ms\npoint +netcdf /);
    assert.match(r.stdout, /\npoint: Zarr is [\d.]+x (faster|slower) than netcdf \(cold medians\)\n/);
    const j = cli(["bench", "--netcdf", ...days, "--zarr", out, "--repeats", "1", "--json", "--lat", "10", "--lon", "20"]);
    const report = JSON.parse(j.stdout) as { lines: { query: string; describe: string }[]; coldStartMs: number; results: Record<string, { values: Record<string, number> }> };
    assert.equal(report.lines.length, 2);
    assert.match(report.lines[0]!.describe, /^point QV2M: 96 time steps, lat 10 , lon 15 \(nearest to 20\)$|^point QV2M: 96 time steps, lat 10, lon 15 \(nearest to 20\)$/);
    assert.ok(report.coldStartMs > 0);
    const other = dailyArchive(join(tmp.dir, "other"), ["--days", "4", "--nlat", "19", "--nlon", "24", "--seed", "9"]);
    const bad = cli(["bench", "--netcdf", ...other, "--zarr", out, "--repeats", "1"]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^convert-to-zarr: point: NetCDF and Zarr return different values at element \d+ of point QV2M: .*\n$/);
    const usage = cli(["bench", "--netcdf", ...days]);
    assert.equal(usage.status, 2);
    assert.equal(usage.stderr, "convert-to-zarr: bench needs --zarr <store> (or --sweep with --sweep-out)\n");
  });

  test("the chunk sweep converts with each chunking and times the queries on each store", async () => {
    const points = await chunkSweep({
      netcdf: days, out: join(tmp.dir, "sweep"), chunkings: [[24, 19, 24], [96, 5, 6]], variable: "T2M",
      queries: [{ kind: "point" }, { kind: "map" }], repeats: 1,
    });
    assert.deepEqual(points.map((p) => p.label), ["24x19x24", "96x5x6"]);
    // 96 steps: T2M 4 x 1 x 1 chunks vs 1 x 4 x 4 (+12); time 4 vs 1 (-3); lat and lon one chunk each
    // either way (coordinates of fixed dimensions keep the automatic rule).
    assert.equal(points[1]!.objects - points[0]!.objects, 9, `objects: ${points.map((p) => p.objects)}`);
    for (const p of points) {
      assert.deepEqual(p.queries.map((l) => [l.source, l.query]), [["zarr", "point"], ["zarr", "map"]]);
      assert.ok(p.convertSeconds > 0 && p.storedBytes > 0);
    }
    assert.ok(points[1]!.queries[0]!.bytesDecoded < points[0]!.queries[0]!.bytesDecoded, "long-in-time chunks decode less for a point");
    const fig = sweepChart(points);
    assert.equal(fig.data.length, 3, "a bar trace per query and the conversion line");
    assert.deepEqual(fig.data[0]!["x"], ["24x19x24", "96x5x6"]);
  });

  test("charts: before/after per query (log scale) and the time series with fill values as gaps", async () => {
    const out = join(tmp.dir, "chart.zarr");
    await convert(days, { out, overwrite: true });
    const r = await runBench({ netcdf: days, zarr: out, queries: [{ kind: "point", variable: "T2M", lat: -90, lon: -180 }, { kind: "map", variable: "T2M" }], repeats: 1 });
    const fig = latencyChart(r);
    assert.equal(fig.data.length, 2, "NetCDF and Zarr");
    assert.deepEqual(fig.data.map((d) => (d["x"] as string[]).length), [2, 2]);
    assert.equal((fig.layout["yaxis"] as { type: string }).type, "log");
    const ts = timeSeriesChart(r.results["point"]!);
    const x = ts.data[0]!["x"] as string[], y = ts.data[0]!["y"] as (number | null)[];
    assert.equal(x.length, 96);
    assert.equal(x[0], "2021-01-01T00:00:00Z");
    assert.ok(y.every((v) => v === null), "the missing pixel: all gaps");
  });
});

describe("bench under the S3 profile", { skip: PYTHON_MISSING }, () => {
  let t: TestS3;
  const tmp = tempDir("bench-s3");
  before(async () => (t = await startTestS3()));
  after(async () => {
    await t.stop();
    tmp.cleanup();
  });

  test("through the latency proxy: simulated label, lower bounds, and whole-file downloads as a second before line", async () => {
    const days = dailyArchive(join(tmp.dir, "days"), ["--days", "3", "--nlat", "10", "--nlon", "12"]);
    const urls = await t.upload(days, "days");
    const out = `s3://${BUCKET}/days.zarr`;
    assert.equal(cli(["convert", ...urls, "--out", out, "-q"], { env: t.env }).status, 0);
    const r = cli(["bench", "--netcdf", `s3://${BUCKET}/days/*.nc`, "--zarr", out, "--profile", "s3", "--download", "--repeats", "1", "--variable", "T2M", "--json"], { env: t.env });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { simulated: boolean; profile: { name: string }; lines: { source: string; requests: number; lowerBoundMs: number; cold: { medianMs: number } }[] };
    assert.equal(report.simulated, true);
    assert.equal(report.profile.name, "s3-standard (simulated)");
    assert.deepEqual(report.lines.map((l) => l.source), ["netcdf", "netcdf-download", "zarr"]);
    for (const l of report.lines) {
      assert.ok(l.lowerBoundMs >= 100 && l.requests > 0, `bound ${l.lowerBoundMs} for ${l.requests} requests`);
      assert.ok(l.cold.medianMs >= l.lowerBoundMs, `measured ${l.cold.medianMs} ms is not below the bound ${l.lowerBoundMs} ms`);
    }
    const local = cli(["bench", "--netcdf", ...days, "--zarr", out, "--profile", "s3"], { env: t.env });
    assert.equal(local.stderr, "convert-to-zarr: --profile s3 needs s3:// inputs and store (put them on the local endpoint first)\n");
  });
});
