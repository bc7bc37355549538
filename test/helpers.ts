/** Shared test plumbing: where the corpus and the repo are, temp dirs, the CLI, Debian's Python and the venv's. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (tests run from dist/test/). */
export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/** The shared corpus, beside the checkout (CI puts it there). */
export const CORPUS = resolve(ROOT, "../shared/data/netcdf");
const corpusMissing = existsSync(CORPUS)
  ? false
  : `the shared NetCDF corpus is not at ${CORPUS} (it lives beside the checkout as ../shared/data/netcdf)`;
/** Why corpus tests are skipped locally; in CI a missing corpus is a failure (see requireCorpus), never a skip. */
export const CORPUS_MISSING = corpusMissing && !process.env["CI"] ? corpusMissing : false;
/** Throws the reason when the corpus is absent: call it first in every suite that reads the corpus. */
export function requireCorpus(): void {
  if (corpusMissing) throw new Error(corpusMissing);
}

/** Debian's python3 (not a pyenv/conda one), which has xarray, zarr, netCDF4 and h5py. */
export const PYTHON = "/usr/bin/python3";
const pyCheck = existsSync(PYTHON)
  ? spawnSync(PYTHON, ["-c", "import xarray, zarr, netCDF4, h5py"], { encoding: "utf8" })
  : undefined;
const pyMissing = !pyCheck || pyCheck.status !== 0
  ? "Debian's python3-xarray, python3-zarr, python3-netcdf4 and python3-h5py are not installed (run `npm run setup:system`)"
  : false;
/** In CI a missing cross-check is a failure, not a skip. */
export const PYTHON_MISSING = pyMissing && !process.env["CI"] ? pyMissing : false;
export function requirePython(): void {
  if (pyMissing) throw new Error(pyMissing);
}

/**
 * The venv with today's readers (tools/setup-python.sh, pinned in tools/python-requirements.txt):
 * xarray 2026.9, zarr-python 3, netCDF4, h5py, cftime, dask, on Debian's python3.
 */
export const MODERN_PYTHON = join(ROOT, ".venv/bin/python");
const MODERN_MODULES = ["xarray", "zarr", "netCDF4", "h5py", "cftime", "dask"];
const modernHint = "run `bash tools/setup-python.sh`";
/** Loading the stack takes over a second, so the check at import time only finds the modules and zarr's version
 * (every test file imports this module); modernPython() imports them all once before its first script. */
const modernCheck = existsSync(MODERN_PYTHON)
  ? spawnSync(MODERN_PYTHON, ["-c", [
    "import importlib.metadata as m, importlib.util as u",
    `missing = [n for n in ${JSON.stringify(MODERN_MODULES)} if u.find_spec(n) is None]`,
    "assert not missing, 'missing ' + ', '.join(missing)",
    "assert m.version('zarr').startswith('3'), 'zarr ' + m.version('zarr') + ', not 3.x'",
  ].join("\n")], { encoding: "utf8" })
  : undefined;
const modernMissing = !modernCheck
  ? `the modern Python stack is not installed: no ${MODERN_PYTHON} (${modernHint})`
  : modernCheck.status !== 0
    ? `the modern Python stack in ${MODERN_PYTHON} is incomplete: ${lastLine(modernCheck.stderr)} (${modernHint})`
    : false;
/** Why the cross-checks with today's readers are skipped locally; in CI a missing stack fails them instead. */
export const MODERN_PYTHON_MISSING = modernMissing && !process.env["CI"] ? modernMissing : false;
let modernImported = false;
/** Throws unless the venv has the whole stack, imported for real (once per process). */
export function requireModernPython(): void {
  if (modernMissing) throw new Error(modernMissing);
  if (modernImported) return;
  const r = spawnSync(MODERN_PYTHON, ["-c", [
    `import ${MODERN_MODULES.join(", ")}`,
    "assert zarr.__version__.startswith('3'), 'zarr ' + zarr.__version__ + ', not 3.x'",
  ].join("\n")], { encoding: "utf8", env: { ...process.env, PYTHONWARNINGS: "ignore" } });
  if (r.status !== 0) throw new Error(`the modern Python stack in ${MODERN_PYTHON} does not load: ${lastLine(r.stderr)} (${modernHint})`);
  modernImported = true;
}

function lastLine(text: string | null | undefined): string {
  return (text ?? "").trim().split("\n").pop() ?? "";
}

export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `c2z-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI entry point, as a user would. */
export function cli(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/convert-to-zarr"), ...args], {
    encoding: "utf8", cwd: opts.cwd ?? ROOT, env: { ...process.env, CONVERT_TO_ZARR_DEBUG: "", ...opts.env },
    ...(opts.timeoutMs && { timeout: opts.timeoutMs }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking this process (needed when this process serves it, e.g. a proxy). */
export function cliAsync(args: string[], opts: { env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/convert-to-zarr"), ...args], {
      cwd: ROOT, env: { ...process.env, CONVERT_TO_ZARR_DEBUG: "", ...opts.env },
    });
    let stdout = "", stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

/** Runs a Python script from test/py with Debian's python3; returns its parsed JSON lines. */
export function python(script: string, args: string[], input?: string): unknown[] {
  requirePython();
  const r = spawnSync(PYTHON, [join(ROOT, "test/py", script), ...args], {
    encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONWARNINGS: "ignore" },
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr.split("\n").slice(-5).join(" ")}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown);
}

/** Runs a Python script from test/py with the venv's python (today's readers); returns its parsed JSON lines. */
export function modernPython(script: string, args: string[], input?: string): unknown[] {
  requireModernPython();
  const r = spawnSync(MODERN_PYTHON, [join(ROOT, "test/py", script), ...args], {
    encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONWARNINGS: "ignore" },
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}): ${r.stderr.split("\n").slice(-5).join(" ")}`);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as unknown);
}

/** Runs a tool script with Debian's python3 (e.g. the archive generator). */
export function pythonTool(script: string, args: string[]): string {
  requirePython();
  const r = spawnSync(PYTHON, [join(ROOT, "tools", script), ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Writes a daily archive with tools/make_daily_archive.py into `dir`; returns its files in order. */
export function dailyArchive(dir: string, args: string[]): string[] {
  pythonTool("make_daily_archive.py", [dir, ...args]);
  return readdirSync(dir).sort().map((f) => join(dir, f));
}
