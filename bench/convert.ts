/**
 * bench:convert — conversion speed and memory against the peers, measured in the same run.
 *
 * Case 1 (the original sample's job): a daily archive like NASA POWER MERRA-2 hourly T2M (one
 * NetCDF-4 file per day, 24 x 361 x 576 float32, zlib + shuffle, one chunk per file; 59 days) is
 * rechunked to (1080, 90, 90) with zstd by us and by Debian's xarray + Dask (2 threads), interleaved,
 * several times. Prints medians of wall time and peak RSS, and the ratios.
 *
 *   npm run bench:convert -- [--half] [--days 59] [--repeats 3] [--max-mem 1GiB] [--workers 2]
 *
 * Case 2 (source chunks kept): one NetCDF-4 file of 400 x 360 x 360 float32, chunks (1, 360, 360),
 * deflate + shuffle, converted with --codec copy (compressed chunks copied as they are, as Zarr
 * zlib + shuffle) against `nccopy -u` to Zarr (netCDF-C's NCZarr, which writes them uncompressed).
 *
 * --half uses a 181 x 288 grid (quarter of the bytes) for quick runs. Needs /usr/bin/time.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const PY = "/usr/bin/python3";
const { values: a } = parseArgs({
  options: {
    half: { type: "boolean", default: false }, days: { type: "string", default: "59" }, repeats: { type: "string", default: "3" },
    "max-mem": { type: "string", default: "1GiB" }, workers: { type: "string", default: "2" }, node: { type: "string" },
    executor: { type: "string", default: "threads" }, "no-shuffle": { type: "boolean", default: false },
  },
});
const days = Number(a.days), repeats = Number(a.repeats);
const [nlat, nlon] = a.half ? [181, 288] : [361, 576];
const work = join(ROOT, ".bench");
const archive = join(work, `archive-${days}d-${nlat}x${nlon}`);
const node = a.node ?? process.execPath;

function sh(cmd: string, args: string[]): { seconds: number; rssKiB: number; out: string } {
  const r = spawnSync("/usr/bin/time", ["-f", "@@%e %M", cmd, ...args], { encoding: "utf8", maxBuffer: 1 << 26 });
  const m = /@@([\d.]+) (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")} failed (${r.status}): ${r.stderr.slice(-800)}`);
  return { seconds: Number(m[1]), rssKiB: Number(m[2]), out: r.stdout };
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const mb = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

if (!existsSync(archive) || readdirSync(archive).length < days) {
  console.log(`generating ${days} daily files of 24 x ${nlat} x ${nlon} in ${archive} …`);
  mkdirSync(archive, { recursive: true });
  const g = spawnSync(PY, [join(ROOT, "tools/make_daily_archive.py"), archive, "--days", String(days), "--nlat", String(nlat), "--nlon", String(nlon), "--omit", "QV2M"], { encoding: "utf8" });
  if (g.status !== 0) throw new Error(g.stderr);
}
const files = readdirSync(archive).filter((f) => f.endsWith(".nc")).sort().map((f) => join(archive, f));
const chunks = [1080, 90, 90];
const ours = join(work, "ours.zarr"), peer = join(work, "xarray.zarr");
const nodeVersion = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
// Both sides byte-shuffle before zstd (our v2 default) unless --no-shuffle: the same job either way.
const shuffle = !a["no-shuffle"];
console.log(`case 1: ${files.length} files → (${chunks.join(", ")}) ${shuffle ? "shuffle + " : ""}zstd-3; ours: ${nodeVersion}, --executor ${a.executor} --workers ${a.workers} --max-mem ${a["max-mem"]}; peer: xarray + dask, 2 threads`);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);

const plan = JSON.parse(spawnSync(node, [join(ROOT, "bin/convert-to-zarr"), "plan", ...files, "-o", ours, "--chunks", `time=${chunks[0]},lat=${chunks[1]},lon=${chunks[2]}`, "--max-mem", a["max-mem"]!, "--workers", a.workers!, "--zarr-format", "2", "--json"], { encoding: "utf8" }).stdout) as { estimates: { peakTaskBytes: number; readAmplification: number; tasks: number } };
const runs: { ours: { seconds: number; rssKiB: number }[]; peer: { seconds: number; rssKiB: number }[] } = { ours: [], peer: [] };
for (let r = 0; r < repeats; r++) {
  rmSync(ours, { recursive: true, force: true });
  const o = sh(node, [join(ROOT, "bin/convert-to-zarr"), "convert", ...files, "-o", ours, "--chunks", `time=${chunks[0]},lat=${chunks[1]},lon=${chunks[2]}`,
    "--codec", "zstd", "--level", "3", shuffle ? "--shuffle" : "--no-shuffle", "--zarr-format", "2", "--executor", a.executor!, "--workers", a.workers!, "--max-mem", a["max-mem"]!, "-q"]);
  rmSync(peer, { recursive: true, force: true });
  const p = sh(PY, [join(ROOT, "bench/peers/xarray_convert.py"), peer, chunks.join(","), "3", shuffle ? "1" : "0", ...files]);
  runs.ours.push(o);
  runs.peer.push(p);
  console.log(`  run ${r + 1}: ours ${o.seconds.toFixed(2)} s, ${mb(o.rssKiB)} | xarray+dask ${p.seconds.toFixed(2)} s, ${mb(p.rssKiB)}`);
}
const v = spawnSync(node, [join(ROOT, "bin/convert-to-zarr"), "verify", ...files, ours], { encoding: "utf8" });
if (v.status !== 0) throw new Error(`our store does not verify: ${v.stderr}`);
const cmp = spawnSync(PY, ["-c", `import zarr, numpy as np, sys; a = zarr.open(sys.argv[1], 'r')['T2M']; b = zarr.open(sys.argv[2], 'r')['T2M']; print(a.shape == b.shape and a.chunks == b.chunks and a.filters == b.filters and np.array_equal(a[:, 90, 150], b[:, 90, 150]) and np.array_equal(a[-1], b[-1]))`, ours, peer], { encoding: "utf8" });
if (cmp.status !== 0) throw new Error(`comparing with xarray's store failed: ${cmp.stderr.split("\n").slice(-3).join(" ")}`);
const oT = median(runs.ours.map((x) => x.seconds)), pT = median(runs.peer.map((x) => x.seconds));
const oM = median(runs.ours.map((x) => x.rssKiB)), pM = median(runs.peer.map((x) => x.rssKiB));
const planned = plan.estimates.peakTaskBytes / 1024 * Number(a.workers);
console.log(`\nmedian of ${repeats}: ours ${oT.toFixed(2)} s, xarray+dask ${pT.toFixed(2)} s → ours ${(pT / oT).toFixed(2)}x faster (target ≥ 2x)`);
console.log(`peak RSS: ours ${mb(oM)}, xarray+dask ${mb(pM)} → ours ${(oM / pM).toFixed(2)}x of theirs (target < 1)`);
console.log(`memory: planned ${mb(planned)} (${plan.estimates.tasks} tasks, peak per task × ${a.workers} workers, read amplification ${plan.estimates.readAmplification.toFixed(2)}), fixed overhead ${mb(oM - planned)}`);
console.log(`checks: our store verifies against the NetCDF files; same shape, chunks and values as xarray's store: ${cmp.stdout.trim()}`);

// ---- case 2: copy compressed chunks vs nccopy
const single = join(work, "single-400x360x360.nc");
if (!existsSync(single)) {
  const g = spawnSync(PY, [join(ROOT, "bench/peers/make_single_file.py"), single], { encoding: "utf8" });
  if (g.status !== 0) throw new Error(g.stderr);
}
const copied = join(work, "copy.zarr"), nc = join(work, "nccopy.zarr");
console.log(`\ncase 2: ${single} (400 x 360 x 360 float32, chunks (1, 360, 360), deflate 4 + shuffle) → Zarr v2, source chunks kept`);
const c2: { ours: number[]; nccopy: number[] } = { ours: [], nccopy: [] };
for (let r = 0; r < repeats; r++) {
  rmSync(copied, { recursive: true, force: true });
  const o = sh(node, [join(ROOT, "bin/convert-to-zarr"), "convert", single, "-o", copied, "--codec", "copy", "--zarr-format", "2", "-q"]);
  rmSync(nc, { recursive: true, force: true });
  const n = sh("nccopy", ["-u", single, `file://${nc}#mode=zarr,file`]);
  c2.ours.push(o.seconds);
  c2.nccopy.push(n.seconds);
  console.log(`  run ${r + 1}: ours --codec copy ${o.seconds.toFixed(2)} s, ${mb(o.rssKiB)} | nccopy ${n.seconds.toFixed(2)} s, ${mb(n.rssKiB)}`);
}
const v2 = spawnSync(node, [join(ROOT, "bin/convert-to-zarr"), "verify", single, copied], { encoding: "utf8" });
if (v2.status !== 0) throw new Error(`the copied store does not verify: ${v2.stderr}`);
const oc = median(c2.ours), ncT = median(c2.nccopy);
console.log(`median of ${repeats}: ours ${oc.toFixed(2)} s, nccopy ${ncT.toFixed(2)} s → ours ${(ncT / oc).toFixed(2)}x faster (target ≥ 5x); the copied store verifies`);
