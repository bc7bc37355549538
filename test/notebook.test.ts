/**
 * The notebook, as users meet it: executed headless through Jupyter (nbclient) with our tslab kernel
 * on a small generated archive, failing on any cell error (unhandled async ones included); the
 * parameters cell re-run with other chunks and the cells below it in the same kernel; and the exported
 * HTML opened in headless Chromium, where every chart must have rendered (plotly's SVG, with the
 * expected traces and points). The screenshot is kept as a build artifact.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { PYTHON, PYTHON_MISSING, ROOT } from "./helpers.js";

const OUT = join(ROOT, "build", "notebook-test");
const NOTEBOOK = join(ROOT, "notebooks", "Convert-NetCDF-to-Zarr.ipynb");
const jupyterMissing = spawnSync(PYTHON, ["-c", "import nbclient, nbconvert"], { encoding: "utf8" }).status !== 0;
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
const skip = PYTHON_MISSING || (jupyterMissing && !process.env["CI"] ? "Jupyter (nbclient/nbconvert) not installed: run tools/setup-system.sh" : false);

interface Cell { cell_type: string; source: string | string[]; metadata: { tags?: string[] }; outputs?: { output_type: string; data?: Record<string, string>; name?: string; text?: string }[] }
const text = (c: Cell) => (c.outputs ?? []).map((o) => o.data?.["text/plain"] ?? o.text ?? "").join("\n");

describe("the notebook", { skip }, () => {
  let run: ReturnType<typeof spawnSync>;
  before(() => {
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const kernel = spawnSync("bash", [join(ROOT, "kernel/install.sh")], { encoding: "utf8", env: { ...process.env, JUPYTER_DATA_DIR: join(OUT, "jupyter") } });
    assert.equal(kernel.status, 0, kernel.stderr);
    run = spawnSync(PYTHON, [join(ROOT, "tools/run_notebook.py"), NOTEBOOK, "--out", join(OUT, "run.ipynb"), "--html", join(OUT, "run.html"), "--timeout", "300",
      "--rerun-parameters", 'let chunks: Record<string, number> = { time: 48, lat: 10, lon: 12 };\nlet codec: "zstd" | "gzip" | "blosc" | "none" = "gzip";\nlet workers = 1;'], {
      cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26,
      env: { ...process.env, JUPYTER_DATA_DIR: join(OUT, "jupyter"), JUPYTER_RUNTIME_DIR: mkdtempSync(join(tmpdir(), "c2z-jrt-")), PYDEVD_DISABLE_FILE_VALIDATION: "1",
        NB_DAYS: "4", NB_APPEND_DAYS: "2", NB_NLAT: "19", NB_NLON: "24" },
    });
  });

  test("runs headless through Jupyter with the tslab kernel, every cell succeeding, twice from the parameters cell", () => {
    assert.equal(run.status, 0, String(run.stderr).slice(-3000));
    assert.match(String(run.stderr), /re-running from the parameters cell with: let chunks/);
    const nb = JSON.parse(readFileSync(join(OUT, "run.ipynb"), "utf8")) as { cells: Cell[] };
    const code = nb.cells.filter((c) => c.cell_type === "code");
    assert.ok(code.every((c) => !(c.outputs ?? []).some((o) => o.name === "stderr" && /Error|Exception|Rejection/.test(o.text ?? ""))), "no errors on stderr");
    const all = code.map(text).join("\n");
    assert.match(all, /local default: S3-compatible endpoint http:\/\/127\.0\.0\.1:\d+/);
    assert.match(all, /from the NetCDF files: \d+ ms, \d+ requests/);
    // The second pass's outputs replaced the first's: the new chunks and codec.
    assert.match(all, /plan for s3:\/\/convert-to-zarr-demo\/zarr\/T2M\.zarr \(Zarr v3, gzip\)/);
    assert.match(all, /\/T2M +\(96, 19, 24\) +\(48, 10, 12\)/);
    assert.match(all, /appended to s3:\/\/convert-to-zarr-demo\/zarr\/T2M\.zarr \(Zarr v3, gzip\)/);
    assert.match(all, /verified: 131515 values identical to the 6 NetCDF files/);
    assert.match(all, /point: Zarr is [\d.]+x (faster|slower) than netcdf/);
    assert.match(all, /deleted \d+ objects under s3:\/\/convert-to-zarr-demo\/; stopped the local endpoint/);
    assert.ok(existsSync(join(OUT, "run.html")));
  });

  test("the runner fails on a cell error and on an asynchronous error, naming the cell", () => {
    const cell = (source: string) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source });
    const nb = (cells: unknown[]) => JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: "convert-to-zarr-ts", display_name: "TS", language: "typescript" } }, cells });
    const cases = [
      { name: "throws", cells: [cell("const a = 1;"), cell('throw new Error("boom in cell 1");'), cell("const never = 2;")], expect: /cell 1 failed[\s\S]*boom in cell 1/ },
      { name: "async", cells: [cell('setTimeout(() => { throw new Error("late boom"); }, 10);\nconst p = new Promise((r) => setTimeout(r, 300));\nawait p;')], expect: /cell 0 failed[\s\S]*late boom/ },
    ];
    for (const c of cases) {
      const file = join(OUT, `${c.name}.ipynb`);
      writeFileSync(file, nb(c.cells));
      const r = spawnSync(PYTHON, [join(ROOT, "tools/run_notebook.py"), file, "--out", join(OUT, `${c.name}.out.ipynb`), "--timeout", "60"], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, JUPYTER_DATA_DIR: join(OUT, "jupyter"), PYDEVD_DISABLE_FILE_VALIDATION: "1" },
      });
      assert.equal(r.status, 1, `${c.name}: ${r.stderr}`);
      assert.match(r.stderr, c.expect);
      assert.match(r.stderr, /notebook: FAILED/);
    }
  });

  test("the executed notebook draws its charts live in the classic Jupyter Notebook (trusted, headless Chromium)", { skip: !chromium && !process.env["CI"] ? "chromium not installed" : false }, async () => {
    const dir = join(OUT, "live");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "nb.ipynb"), readFileSync(join(OUT, "run.ipynb")));
    const jenv = { ...process.env, JUPYTER_DATA_DIR: join(OUT, "jupyter"), JUPYTER_RUNTIME_DIR: mkdtempSync(join(tmpdir(), "c2z-jrt-")), JUPYTER_CONFIG_DIR: join(OUT, "jupyter-config") };
    // Trusted, as the user's own executed notebook is: only then does the notebook run its outputs' scripts.
    assert.equal(spawnSync(PYTHON, ["-m", "nbformat.sign", join(dir, "nb.ipynb")], { env: jenv }).status, 0);
    const port = await new Promise<number>((ok) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => ok(p));
      });
    });
    const root = process.getuid?.() === 0 ? ["--allow-root"] : [];
    const server = spawn(PYTHON, ["-m", "notebook", "--no-browser", ...root, "--ip", "127.0.0.1", "--port", String(port), "--port-retries", "0",
      "--NotebookApp.token=", "--NotebookApp.password=", `--notebook-dir=${dir}`], { env: jenv });
    let log = "";
    server.stderr.on("data", (d: Buffer) => (log += d.toString()));
    try {
      for (let i = 0; i < 150 && !log.includes(`127.0.0.1:${port}/`); i++) await sleep(100);
      assert.ok(log.includes(`127.0.0.1:${port}/`), `notebook server did not start: ${log.slice(-500)}`);
      const args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", `--user-data-dir=${mkdtempSync(join(tmpdir(), "c2z-chromium-"))}`, "--virtual-time-budget=30000"];
      const dom = await new Promise<string>((ok) => {
        const c = spawn(chromium!, [...args, "--dump-dom", `http://127.0.0.1:${port}/notebooks/nb.ipynb`]);
        let out = "";
        c.stdout.on("data", (d: Buffer) => (out += d.toString()));
        c.on("close", () => ok(out));
      });
      assert.equal((dom.match(/<div id="plt-[0-9a-f]+" class="c2z-plot/g) ?? []).length, 4);
      assert.equal((dom.match(/<svg class="main-svg"/g) ?? []).length, 12, "plotly drew all four charts (three SVG layers each)");
    } finally {
      server.kill("SIGTERM");
      await new Promise((ok) => server.once("exit", ok));
    }
  });

  test("every chart renders in headless Chromium (plotly SVG with the expected traces and points); a screenshot is kept", { skip: !chromium && !process.env["CI"] ? "chromium not installed" : false }, () => {
    const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run", `--user-data-dir=${mkdtempSync(join(tmpdir(), "c2z-chromium-"))}`, "--virtual-time-budget=15000"];
    const url = `file://${join(OUT, "run.html")}`;
    const dom = spawnSync(chromium!, [...args, "--dump-dom", url], { encoding: "utf8", maxBuffer: 1 << 27 });
    assert.equal(dom.status, 0);
    const plots = dom.stdout.split(/<div id="plt-[0-9a-f]+" class="c2z-plot/).slice(1);
    assert.equal(plots.length, 4, "before time series, latency, after time series, sweep");
    const traces = plots.map((p) => (p.match(/<g class="trace (scatter|bars)/g) ?? []).length);
    assert.deepEqual(traces, [1, 2, 1, 3]);
    const linePoints = (p: string) => (/class="js-line" d="([^"]+)"/.exec(p)?.[1]?.match(/L/g)?.length ?? -1) + 1;
    assert.equal(linePoints(plots[0]!), 96, "4 days of hourly values before");
    assert.equal(linePoints(plots[2]!), 144, "6 days after the append");
    assert.equal((plots[1]!.match(/<g class="point">/g) ?? []).length, 2, "one bar per source");
    assert.equal((plots[3]!.match(/<g class="point">/g) ?? []).length, 6, "two queries x three chunk shapes");
    const shot = spawnSync(chromium!, [...args, "--window-size=1200,5000", `--screenshot=${join(OUT, "report.png")}`, url], { encoding: "utf8" });
    assert.equal(shot.status, 0);
    assert.ok(readFileSync(join(OUT, "report.png")).subarray(1, 4).toString() === "PNG");
  });
});
