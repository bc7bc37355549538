/**
 * bench:latency — the original sample's measurement, honest and repeatable: the point time series
 * (and a map and a box) read from the NetCDF files and from the converted Zarr store, on local disk and
 * under the simulated S3 Standard profile (local s3rver endpoint behind the latency proxy), plus the
 * same point query by Debian's xarray (open_zarr) on the same store, and the CLI's cold start.
 *
 *   npm run bench:latency -- [--full] [--repeats 5]
 *
 * The archive is the planner issue's seed-shaped one (tools/make_daily_archive.py; half scale,
 * 59 days x 24 h x 181 x 288, unless --full), converted to (1080, 90, 90), Zarr v2 so xarray reads it,
 * with the v2 default (byte shuffle + zstd); the xarray comparison is repeated on a store written
 * without shuffle (plain zstd), so both layouts are on record.
 * Targets printed with the ratios: point query ≥ 20x faster from Zarr under the S3 profile, faster on
 * local disk, and our Zarr read at least as fast as xarray's.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { convert } from "../lib/convert.js";
import { coldStart as freshClients, measure, runBench, type BenchReport } from "../lib/bench/run.js";
import { firstDifference, type QuerySpec } from "../lib/bench/queries.js";
import { openZarrDataset } from "../lib/bench/readers.js";
import type { ArrayData } from "../lib/model.js";
import { formatBench, speedups } from "../lib/bench/table.js";
import { startLocalS3, startProxyProcess } from "../lib/s3local/start.js";
import { PROFILES } from "../lib/s3local/proxy.js";
import { FsStore } from "../lib/store/fs.js";
import { S3Store } from "../lib/store/s3.js";
import { uploadFiles } from "../lib/store/upload.js";
import { useS3Settings } from "../lib/store/s3-config.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const PY = "/usr/bin/python3";
const { values: a } = parseArgs({ options: { full: { type: "boolean", default: false }, repeats: { type: "string", default: "5" } } });
const repeats = Number(a.repeats);
const [nlat, nlon] = a.full ? [361, 576] : [181, 288];
const work = join(ROOT, ".bench");
const archive = join(work, `archive-59d-${nlat}x${nlon}`);
if (!existsSync(archive) || readdirSync(archive).length < 59) {
  console.log(`generating 59 daily files of 24 x ${nlat} x ${nlon} in ${archive} …`);
  mkdirSync(archive, { recursive: true });
  const g = spawnSync(PY, [join(ROOT, "tools/make_daily_archive.py"), archive, "--days", "59", "--nlat", String(nlat), "--nlon", String(nlon), "--omit", "QV2M"], { encoding: "utf8" });
  if (g.status !== 0) throw new Error(g.stderr);
}
const files = readdirSync(archive).filter((f) => f.endsWith(".nc")).sort().map((f) => join(archive, f));
/** The store converted with or without shuffle, reused while its T2M metadata says it was written that way. */
async function converted(shuffle: boolean): Promise<string> {
  const store = join(work, `latency-${nlat}x${nlon}${shuffle ? "" : "-plain"}.zarr`);
  const zarray = join(store, "T2M/.zarray");
  if (!existsSync(join(store, ".zmetadata")) || readFileSync(zarray, "utf8").includes('"shuffle"') !== shuffle) {
    rmSync(store, { recursive: true, force: true });
    console.log(`converting to ${store} (1080, 90, 90), ${shuffle ? "shuffle + " : ""}zstd …`);
    await convert(files, { out: store, zarrFormat: 2, shuffle, chunks: { time: 1080, lat: 90, lon: 90 } });
  }
  return store;
}
const store = await converted(true);
// New York, as a user of the original sample might ask.
const point: QuerySpec = { kind: "point", variable: "T2M", lat: 40.7, lon: -74.0 };
const queries: QuerySpec[] = [point, { kind: "map", variable: "T2M", time: "2021-02-01T12:00:00Z" }, { kind: "box", variable: "T2M", latRange: [25, 50], lonRange: [-125, -65], timeRange: ["2021-01-01", "2021-01-31T23:00:00"] }];
console.log(`archive: ${files.length} files, 24 x ${nlat} x ${nlon} float32 each, one zlib chunk per file; store: ${store}`);

const ratio = (r: BenchReport, q: string, src = "netcdf") => speedups(r).find((s) => s.query === q && s.source === src)?.ratio ?? NaN;

// 1. Local disk.
console.log("\n== local disk");
const local = await runBench({ netcdf: files, zarr: store, queries, repeats });
console.log(formatBench(local));

// 2. xarray on the same store, same point query; then both on the store written without shuffle.
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const pointValues = local.results["point"]!.values as Float32Array;
function xarrayPoint(on: string): number {
  const py = spawnSync(PY, [join(ROOT, "bench/peers/xarray_query.py"), on, "T2M", "40.7", "-74.0", String(repeats)], { encoding: "utf8" });
  if (py.status !== 0) throw new Error(py.stderr);
  const peer = JSON.parse(py.stdout) as { cold_ms: number[]; values: number; first: number };
  if (peer.values !== pointValues.length || Math.fround(peer.first) !== pointValues[0]) throw new Error(`xarray and we read different values from ${on}`);
  return median(peer.cold_ms);
}
const ours = local.lines.find((l) => l.source === "zarr" && l.query === "point")!.cold.medianMs;
const xarrayMedian = xarrayPoint(store);
console.log(`\n== xarray ${"(Debian's, zarr-python 2)"} open_zarr + .sel(nearest) on the same store: ${xarrayMedian.toFixed(1)} ms median; ours ${ours.toFixed(1)} ms`);
const plain = await converted(false);
const oursPlain: number[] = [];
for (let r = 0; r < repeats; r++) {
  freshClients();
  const { m, result } = await measure(() => openZarrDataset(plain), point);
  if (firstDifference(result.values as ArrayData, pointValues) >= 0) throw new Error(`${plain} holds other values`);
  oursPlain.push(m.ms);
}
const xarrayPlain = xarrayPoint(plain);
console.log(`   the same on a store written without shuffle (plain zstd-3): xarray ${xarrayPlain.toFixed(1)} ms median; ours ${median(oursPlain).toFixed(1)} ms`);

// 3. The simulated S3 profile: everything on the local endpoint, behind the latency proxy.
console.log("\n== S3 Standard profile (simulated), local s3rver behind the latency proxy");
const s3 = await startLocalS3({ dataDir: join(work, "s3-data"), buckets: ["c2z-latency"] });
let s3report: BenchReport;
try {
  useS3Settings(s3.settings);
  await uploadFiles(files, "s3://c2z-latency/netcdf");
  const zs = new S3Store("s3://c2z-latency/T2M.zarr");
  const local = new FsStore(store);
  for await (const k of local.list("/")) await zs.set(k, (await local.get(k))!);
  const proxy = await startProxyProcess(s3.endpoint, "s3");
  try {
    useS3Settings({ ...s3.settings, endpoint: proxy.endpoint });
    s3report = await runBench({ netcdf: ["s3://c2z-latency/netcdf/*.nc"], zarr: "s3://c2z-latency/T2M.zarr", queries: [point], repeats: Math.min(repeats, 3), profile: PROFILES.s3, download: true });
    console.log(formatBench(s3report));
  } finally {
    await proxy.stop();
  }
} finally {
  await s3.stop();
}

// 4. Cold start of the CLI: process start to the first byte requested.
const cli = spawnSync(process.execPath, [join(ROOT, "bin/convert-to-zarr"), "bench", "--netcdf", ...files, "--zarr", store, "--variable", "T2M", "--repeats", "1", "--json"], { encoding: "utf8", maxBuffer: 1 << 28 });
if (cli.status !== 0) throw new Error(cli.stderr);
const coldStart = (JSON.parse(cli.stdout) as { coldStartMs: number }).coldStartMs;

console.log("\n== targets");
const s3Point = ratio(s3report, "point"), localPoint = ratio(local, "point");
console.log(`point, S3 profile: Zarr ${s3Point.toFixed(1)}x faster than NetCDF by ranges (target ≥ 20x) ${s3Point >= 20 ? "MET" : "NOT MET"}; ${ratio(s3report, "point", "netcdf-download").toFixed(1)}x faster than whole-file downloads`);
console.log(`point, local disk: Zarr ${localPoint.toFixed(1)}x faster (target > 1x) ${localPoint > 1 ? "MET" : "NOT MET"}`);
console.log(`point, ours vs xarray on the same store: ${(xarrayMedian / ours).toFixed(1)}x (target ≥ 1x) ${xarrayMedian >= ours ? "MET" : "NOT MET"}; without shuffle ${(xarrayPlain / median(oursPlain)).toFixed(2)}x`);
console.log(`cold start (CLI process start to first byte requested): ${coldStart.toFixed(0)} ms`);
