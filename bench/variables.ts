/**
 * bench:variables — the cost of describing files with many variables, against netCDF-C's `ncdump -h`
 * and xarray 2026 (the project's .venv) opening the same file, measured in the same run. The file:
 * NetCDF-4 (netCDF-C via netCDF4-python) with N float32 variables (time, x), time unlimited.
 *
 *   npm run bench:variables -- [--counts 200,1000,4000] [--repeats 3]
 *
 * Prints medians of wall time, the ratio to ncdump -h, and our time per variable (flat = linear).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const VENV_PY = join(ROOT, ".venv/bin/python");
const { values: a } = parseArgs({ options: { counts: { type: "string", default: "200,1000,4000" }, repeats: { type: "string", default: "3" } } });
const counts = a.counts.split(",").map(Number), repeats = Number(a.repeats);
const work = join(ROOT, ".bench", "variables");
mkdirSync(work, { recursive: true });

const MAKE = `
import sys, netCDF4, numpy as np
n, path = int(sys.argv[1]), sys.argv[2]
with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
    nc.createDimension("time", None); nc.createDimension("x", 4)
    nc.createVariable("time", "f8", ("time",))[:] = [0, 1]
    nc.createVariable("x", "f8", ("x",))[:] = np.arange(4)
    for i in range(n):
        v = nc.createVariable(f"v{i}", "f4", ("time", "x"))
        v.units = "1"
        v[:] = np.full((2, 4), i, dtype="f4")
`;

function seconds(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 2).join(" ")} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const timed = (cmd: string, args: string[]) => median(Array.from({ length: repeats }, () => seconds(cmd, args)));

console.log(`| variables | ncdump -h | convert-to-zarr inspect | ratio to ncdump | xarray 2026 open | ours per variable |`);
console.log(`|---|---|---|---|---|---|`);
for (const n of counts) {
  const file = join(work, `vars-${n}.nc`);
  if (!existsSync(file)) {
    const g = spawnSync(VENV_PY, ["-c", MAKE, String(n), file], { encoding: "utf8" });
    if (g.status !== 0) throw new Error(g.stderr);
  }
  const ncdump = timed("ncdump", ["-h", file]);
  const ours = timed(process.execPath, [join(ROOT, "bin/convert-to-zarr"), "inspect", file]);
  const xarray = timed(VENV_PY, ["-c", "import sys, xarray as xr; xr.open_dataset(sys.argv[1]).close()", file]);
  console.log(`| ${n} | ${ncdump.toFixed(2)} s | ${ours.toFixed(2)} s | ${(ours / ncdump).toFixed(1)}x | ${xarray.toFixed(2)} s | ${(1000 * ours / n).toFixed(2)} ms |`);
}
