/**
 * Converts every corpus file to Zarr v2 and v3, verifies both, and cross-checks v2 with Debian's
 * xarray. Used by test/conformance.test.ts, and run directly to rewrite docs/CONFORMANCE.md:
 *   npm run build && node dist/tools/conformance.js
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { convert } from "../lib/convert.js";
import { isConvertError } from "../lib/errors.js";
import { sniffFormat } from "../lib/source/sniff.js";
import { verify } from "../lib/verify.js";
import { CORPUS, ROOT, python, tempDir } from "../test/helpers.js";

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
  /** xarray's comparison of source and v2 store, or why it could not run. */
  xarray?: { ok: boolean; groups?: number; variables?: number; differences?: string[]; sourceUnreadable?: string; error?: string };
}

export const corpusFiles = (): string[] =>
  readdirSync(CORPUS).filter((f) => !/\.md$|^SHA256SUMS$/.test(f)).sort();

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

export async function runConformance(workDir: string, files = corpusFiles()): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  for (const file of files) {
    const path = join(CORPUS, file);
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
  const jobs = outcomes.filter((o) => o.v2.ok).map((o) => [o.v2.store!, join(CORPUS, o.file), ...o.v2.skipped!.flatMap((s) => ["--skip", s])]);
  const results = python("compare_xarray.py", ["--jobs"], JSON.stringify(jobs)) as FileOutcome["xarray"][];
  outcomes.filter((o) => o.v2.ok).forEach((o, i) => (o.xarray = results[i]));
  return outcomes;
}

function cell(f: FormatOutcome): string {
  if (!f.ok) return `refused: ${f.error}`;
  return `ok, verified (${f.arrays} arrays${f.skipped?.length ? `; skipped unsupported ${f.skipped.join(", ")}` : ""})`;
}

export function conformanceMarkdown(outcomes: FileOutcome[]): string {
  const rows = outcomes.map((o) => {
    const x = o.xarray;
    const xa = !x ? "—" : x.ok ? "equal" : x.sourceUnreadable ? `xarray cannot open the source: ${x.sourceUnreadable.slice(0, 160)}` : `DIFFERS: ${(x.differences ?? [x.error]).join("; ")}`;
    return `| \`${o.file}\` | ${o.format} | ${cell(o.v2)} | ${cell(o.v3)} | ${xa} |`;
  });
  return [
    "# Conformance over the shared NetCDF corpus",
    "",
    "Every file of `../shared/data/netcdf/` converted with `--skip-unsupported` to Zarr v2 and v3, each store",
    "checked by `verify` (every value bit for bit, every dimension and attribute, read back through zarrita), and",
    "the v2 store compared by Debian's xarray 2023.01 + zarr 2.13 (`open_zarr(decode_cf=False)`) with xarray's",
    "reading of the source (`open_dataset(engine=\"netcdf4\", decode_cf=False)`): variables, dimensions, dtypes,",
    "values and attributes, group by group. The test `test/conformance.test.ts` asserts these outcomes.",
    "",
    "Regenerate: `npm run build && node dist/tools/conformance.js`.",
    "",
    "| file | container | Zarr v2 | Zarr v3 | xarray (v2 vs source) |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    "Notes:",
    "- Without `--skip-unsupported`, `ref_tst_compounds.nc` is refused: `variable /obs has an unsupported compound type`.",
    "- Zarr v3 has no fixed-bytes type in its core spec, so NC_CHAR arrays are joined along their last dimension",
    "  into UTF-8 strings (as xarray decodes them). Char data that is not valid UTF-8 is refused by name for v3",
    "  rather than altered; Zarr v2 keeps such data as raw `|S1` bytes.",
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { dir, cleanup } = tempDir("conformance");
  try {
    const outcomes = await runConformance(dir);
    writeFileSync(join(ROOT, "docs/CONFORMANCE.md"), conformanceMarkdown(outcomes));
    console.log(`wrote docs/CONFORMANCE.md (${outcomes.length} files)`);
  } finally {
    cleanup();
  }
}
