/**
 * Converts every corpus file to Zarr v2 and v3, verifies both, reads both back with today's readers
 * (xarray 2026.9 + zarr-python 3 from the project's venv: raw view, CF-decoded view, zarr's own
 * open_group/open_consolidated; test/py/compare_modern.py) and cross-checks v2 with Debian's xarray
 * 2023 + zarr 2.13. Used by test/conformance.test.ts, and run directly to rewrite docs/CONFORMANCE.md:
 *   npm run build && node dist/tools/conformance.js
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { convert } from "../lib/convert.js";
import { isConvertError } from "../lib/errors.js";
import { sniffFormat } from "../lib/source/sniff.js";
import { verify } from "../lib/verify.js";
import { CORPUS, ROOT, modernPython, python, tempDir } from "../test/helpers.js";

export interface FormatOutcome {
  ok: boolean;
  /** The one-line error, when refused. */
  error?: string;
  arrays?: number;
  values?: number;
  skipped?: string[];
  store?: string;
}

export interface FileOutcome {
  file: string;
  format: string;
  v2: FormatOutcome;
  v3: FormatOutcome;
  /** Debian's xarray 2023 + zarr 2.13: its comparison of source and v2 store, or why it could not run. */
  xarray?: { ok: boolean; groups?: number; variables?: number; differences?: string[]; sourceUnreadable?: string; error?: string };
  /** Today's readers on each store (compare_modern.py), or why the source could not be read. */
  modern?: { sourceUnreadable?: string; v2?: ModernOutcome | null; v3?: ModernOutcome | null };
}

export interface ViewOutcome {
  ok: boolean;
  differences: string[];
  arrays?: number;
}

/** xarray 2026.9 + zarr-python 3 reading one store: raw, CF-decoded, and zarr's own view of every array. */
export interface ModernOutcome {
  raw: ViewOutcome;
  decoded: ViewOutcome;
  zarr: ViewOutcome;
  /** What today's readers cannot show from any store of that format, and was compared around. */
  notes: string[];
}

/** True when all three views of a store equal the source. */
export const modernOk = (m: ModernOutcome | null | undefined): boolean => !!m && m.raw.ok && m.decoded.ok && m.zarr.ok;

/** A file passes a format when it converts whole (nothing skipped), verifies, and today's readers read it back exactly. */
export const passes = (o: FileOutcome, fmt: "v2" | "v3"): boolean =>
  o[fmt].ok && !o[fmt].skipped?.length && modernOk(o.modern?.[fmt]);

/** The data files of a folder (the corpus by default), without its notes and checksums. */
export const corpusFiles = (dir = CORPUS): string[] =>
  readdirSync(dir).filter((f) => !/\.md$|^SHA256SUMS$/.test(f)).sort();

async function oneFormat(path: string, out: string, zarrFormat: 2 | 3): Promise<FormatOutcome> {
  try {
    const s = await convert([path], { out, zarrFormat, skipUnsupported: true });
    const r = await verify([path], out);
    return { ok: true, arrays: r.arrays, values: r.values, skipped: s.skipped.map((x) => x.path), store: out };
  } catch (e) {
    if (!isConvertError(e)) throw e;
    return { ok: false, error: e.message };
  }
}

export async function runConformance(workDir: string, dir = CORPUS, files = corpusFiles(dir)): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  for (const file of files) {
    const path = join(dir, file);
    let format = "?";
    try {
      format = sniffFormat(path);
    } catch {
      /* reported by the conversions */
    }
    outcomes.push({
      file, format,
      v2: await oneFormat(path, join(workDir, `${file}.v2.zarr`), 2),
      v3: await oneFormat(path, join(workDir, `${file}.v3.zarr`), 3),
    });
  }
  const jobs = outcomes.filter((o) => o.v2.ok).map((o) => [o.v2.store!, join(dir, o.file), ...o.v2.skipped!.flatMap((s) => ["--skip", s])]);
  const results = python("compare_xarray.py", ["--jobs"], JSON.stringify(jobs)) as FileOutcome["xarray"][];
  outcomes.filter((o) => o.v2.ok).forEach((o, i) => (o.xarray = results[i]));
  const modernJobs = outcomes.map((o) => ({
    sources: [join(dir, o.file)],
    stores: { v2: o.v2.ok ? o.v2.store : null, v3: o.v3.ok ? o.v3.store : null },
    skip: [...new Set([...(o.v2.skipped ?? []), ...(o.v3.skipped ?? [])])],
  }));
  const modern = modernPython("compare_modern.py", ["--jobs"], JSON.stringify(modernJobs)) as FileOutcome["modern"][];
  outcomes.forEach((o, i) => (o.modern = modern[i]));
  return outcomes;
}

function cell(f: FormatOutcome): string {
  if (!f.ok) return `refused: ${f.error}`;
  return `ok, verified (${f.arrays} arrays${f.skipped?.length ? `; skipped unsupported ${f.skipped.join(", ")}` : ""})`;
}

function modernCell(o: FileOutcome, fmt: "v2" | "v3"): string {
  if (o.modern?.sourceUnreadable) return `xarray cannot read the source: ${o.modern.sourceUnreadable.slice(0, 160)}`;
  const m = o.modern?.[fmt];
  if (!m) return "—";
  if (modernOk(m)) return `equal (raw, decoded, ${m.zarr.arrays} arrays)${m.notes.length ? ` ¹` : ""}`;
  const bad = (["raw", "decoded", "zarr"] as const).filter((v) => !m[v].ok);
  return `DIFFERS: ${bad.map((v) => m[v].differences.slice(0, 3).join("; ")).join("; ")}`;
}

export function conformanceMarkdown(outcomes: FileOutcome[]): string {
  const rows = outcomes.map((o) => {
    const x = o.xarray;
    const xa = !x ? "—" : x.ok ? "equal" : x.sourceUnreadable ? `xarray cannot open the source: ${x.sourceUnreadable.slice(0, 160)}` : `DIFFERS: ${(x.differences ?? [x.error]).join("; ")}`;
    return `| \`${o.file}\` | ${o.format} | ${cell(o.v2)} | ${cell(o.v3)} | ${modernCell(o, "v3")} | ${modernCell(o, "v2")} | ${xa} |`;
  });
  const count = (fmt: "v2" | "v3") => outcomes.filter((o) => passes(o, fmt)).length;
  const notes = outcomes.flatMap((o) => (["v3", "v2"] as const).flatMap((fmt) =>
    [...new Set((o.modern?.[fmt]?.notes ?? []).map((n) => n.replace(/^(raw|decoded)( \S+)?: /, "")))].map((n) => `  - \`${o.file}\` (${fmt}): ${n}`)));
  return [
    "# Conformance over the shared NetCDF corpus",
    "",
    "Every file of `../shared/data/netcdf/` converted with `--skip-unsupported` to Zarr v3 and v2, and each store",
    "checked three ways:",
    "- `verify`: every value bit for bit, every dimension and attribute, read back through zarrita;",
    "- **today's readers** (xarray 2026.9 + zarr-python 3.1 + netCDF4 1.7, pinned in `tools/python-requirements.txt`,",
    "  `test/py/compare_modern.py`): the raw view (`open_zarr(decode_cf=False)`) and the decoded view (CF decoding,",
    "  cftime where the calendar needs it) each equal to xarray + netCDF4's reading of the source, group by group",
    "  (variables, dimensions, dtypes, values, attributes), and `zarr.open_group` / `zarr.open_consolidated` reading",
    "  every array equal to netCDF4's raw values;",
    "- Debian's xarray 2023.01 + zarr 2.13 on the v2 store (`open_zarr(decode_cf=False)` against the source).",
    "",
    `**${count("v3")} / ${outcomes.length}** files convert whole to v3 and are read back exactly by today's readers; **${count("v2")} / ${outcomes.length}** to v2.`,
    "The test `test/conformance.test.ts` asserts these outcomes. Regenerate: `npm run build && node dist/tools/conformance.js`.",
    "",
    "| file | container | Zarr v2 | Zarr v3 | xarray 2026 + zarr 3: v3 | xarray 2026 + zarr 3: v2 | xarray 2023 + zarr 2.13: v2 |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "¹ Equal, with what today's readers cannot show from any store of that format compared around it:",
    ...notes,
    "",
  ].join("\n");
}

// `--dir DIR` runs the same checks on any folder of NetCDF files and prints the table instead.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { dir: { type: "string" } } });
  const { dir, cleanup } = tempDir("conformance");
  try {
    const outcomes = await runConformance(dir, values.dir ? resolve(values.dir) : CORPUS);
    if (values.dir) {
      console.log(conformanceMarkdown(outcomes));
    } else {
      writeFileSync(join(ROOT, "docs/CONFORMANCE.md"), conformanceMarkdown(outcomes));
      console.log(`wrote docs/CONFORMANCE.md (${outcomes.length} files)`);
    }
  } finally {
    cleanup();
  }
}
